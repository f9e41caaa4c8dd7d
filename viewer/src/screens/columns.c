#include "columns.h"

#include <stdio.h>
#include <string.h>

#include "term.h"

static int row_width(const struct cs_col *c, size_t n, const bool shown[])
{
    int w = 0;
    for (size_t i = 0; i < n; i++)
        if (shown[i])
            w += c[i].gap + (c[i].min_width > 0 ? c[i].min_width : c[i].width);
    return w;
}

void cs_cols_fit(const struct cs_col *c, size_t n, int cols, bool shown[], int width[])
{
    for (size_t i = 0; i < n; i++)
        shown[i] = true;
    while (row_width(c, n, shown) > cols) {
        size_t worst = n;
        for (size_t i = 0; i < n; i++)
            if (shown[i] && c[i].drop > 0 && (worst == n || c[i].drop > c[worst].drop))
                worst = i;
        if (worst == n)
            break; /* the columns kept always: the terminal clips them */
        shown[worst] = false;
    }
    int used = row_width(c, n, shown);
    for (size_t i = 0; i < n; i++) {
        width[i] = c[i].width;
        if (shown[i] && c[i].min_width > 0) /* stretches: its own minimum plus the rest */
            width[i] = c[i].min_width + (cols > used ? cols - used : 0);
    }
}

void cs_cell(char *out, size_t len, const char *text, int w, bool right)
{
    char tmp[256];
    int n = (int)strlen(text);
    if (w >= (int)sizeof tmp)
        w = (int)sizeof tmp - 1;
    if (n > w) {
        /* The longest prefix that ends at a word: "clock_nanosleep 62.0ms" keeps its call. */
        int cut = 0;
        for (int i = 1; i <= w && i < n; i++)
            if (text[i] == ' ' && text[i - 1] != ' ')
                cut = i;
        if (cut > 0 && text[cut - 1] == ',')
            cut--;
        if (cut > 0) {
            snprintf(tmp, sizeof tmp, "%.*s", cut, text);
        } else if (w > 0) {
            snprintf(tmp, sizeof tmp, "%.*s~", w - 1, text);
        } else {
            tmp[0] = 0;
        }
        text = tmp;
    }
    snprintf(out, len, right ? "%*s" : "%-*s", w, text);
}

int cs_cols_row(int y, int x, int role, const struct cs_col *c, size_t n, const bool shown[],
                const int width[], const char *const cells[])
{
    for (size_t i = 0; i < n; i++) {
        if (!shown[i])
            continue;
        char cell[256];
        cs_cell(cell, sizeof cell, cells[i], width[i], c[i].right);
        x = cs_term_put(y, x, (enum cs_role)role, "%*s%s", c[i].gap, "", cell);
    }
    return x;
}
