/*
 * Table columns that fit the terminal: a column is shown whole or not at all (the least
 * important go first when the terminal is narrow), and a cell shows its text whole or
 * abbreviated at a word ("task 607 (stall-sleep)" -> "task 607"), never cut mid-value.
 */
#ifndef CS_COLUMNS_H
#define CS_COLUMNS_H

#include <stdbool.h>
#include <stddef.h>

struct cs_col {
    const char *name;
    int width;     /* of the cell; a gap of `gap` blanks comes before it */
    int gap;       /* 0 for the first column */
    bool right;    /* right-aligned (numbers, durations) */
    int drop;      /* 0: always shown; higher: dropped sooner on a narrow terminal */
    int min_width; /* > 0: the last column stretches over what is left, at least this */
};

#define CS_COLS_MAX 16

/* Which columns fit in `cols` (into shown[]) and each one's width (into width[]: the
 * stretching column gets the rest of the row). */
void cs_cols_fit(const struct cs_col *c, size_t n, int cols, bool shown[], int width[]);

/* `text` as a cell of width w into out: whole and padded when it fits, else cut at its
 * last blank that fits, else cut with a '~' that says so. */
void cs_cell(char *out, size_t len, const char *text, int w, bool right);

/* Draws the shown cells of one row at (y, x) in `role`; returns the column after it. */
int cs_cols_row(int y, int x, int role, const struct cs_col *c, size_t n, const bool shown[],
                const int width[], const char *const cells[]);

#endif
