/*
 * The terminal layer of `coscope top`: curses set-up and the way back, attributes that
 * degrade to bold/reverse without colour, glyphs that degrade to ASCII without UTF-8,
 * and clipped drawing so nothing wraps at any terminal size.
 */
#ifndef CS_TERM_H
#define CS_TERM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

/* What a piece of text is; the terminal layer picks colour or a plain attribute. */
enum cs_role {
    CS_ROLE_NORMAL,
    CS_ROLE_TITLE,    /* the first header line */
    CS_ROLE_LABEL,    /* column headings */
    CS_ROLE_SELECTED, /* the cursor row */
    CS_ROLE_ALERT,    /* lost events, target gone */
    CS_ROLE_ONGOING,  /* a stall still in progress */
    CS_ROLE_DIM,
    CS_ROLE_BAR,
};

/*
 * Takes over the terminal (stdin/stdout must be one). Returns 0, or -1 with one sentence
 * in `why` (not a terminal, unknown TERM).
 */
int cs_term_open(char *why, size_t why_len);
/*
 * A terminal of `rows` x `cols` of type `term` writing to `out` (the frame benchmark:
 * /dev/null or a pipe), with UTF-8 as asked. Returns 0, or -1 (unknown type).
 */
int cs_term_open_virtual(const char *term, FILE *out, FILE *in, int rows, int cols, bool utf8_on);

/* Gives the terminal back as it was. Safe to call twice and from atexit. */
void cs_term_close(void);
bool cs_term_is_open(void);

bool cs_term_utf8(void);
bool cs_term_colour(void);
int cs_term_rows(void);
int cs_term_cols(void);

/* Starts a frame: the virtual screen is cleared; draw, then cs_term_end_frame(). */
void cs_term_begin_frame(void);
/* One doupdate per frame: curses sends only what changed, so nothing flickers. */
void cs_term_end_frame(void);

/* printf at (y, x), clipped to the screen width; returns the column after the text. */
int cs_term_put(int y, int x, enum cs_role role, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
/* Fills row y from x to the right edge with blanks in `role` (the cursor-row bar). */
void cs_term_fill(int y, int x, enum cs_role role);
/* A horizontal rule on row y. */
void cs_term_hline(int y);
/* A bar of `cells` full cells (fractional part drawn where UTF-8 allows) at (y, x). */
void cs_term_bar(int y, int x, double cells, int max_cells);

/* A sparkline of percentages (0-100), one cell each: Unicode blocks, or ASCII levels
 * (" .:-=+*#@") without UTF-8. */
void cs_term_spark(int y, int x, const unsigned char *pct, size_t n);

/* Next key, or -1 if none is waiting (never blocks). KEY_MOUSE: see cs_term_mouse. */
int cs_term_key(void);

/* The mouse event behind a KEY_MOUSE: a button-1 press at (y, x), or the wheel. */
struct cs_term_mouse {
    int y, x;
    bool wheel_up, wheel_down;
};
/* True if the last KEY_MOUSE was a press or wheel step worth acting on. */
bool cs_term_mouse(struct cs_term_mouse *m);

#endif
