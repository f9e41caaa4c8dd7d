#include "term.h"

#include <curses.h>
#include <langinfo.h>
#include <locale.h>
#include <stdarg.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

static SCREEN *screen;
static bool utf8, colour;

int cs_term_open(char *why, size_t why_len)
{
    if (screen)
        return 0;
    if (!isatty(STDIN_FILENO) || !isatty(STDOUT_FILENO)) {
        snprintf(why, why_len, "coscope top needs a terminal (use 'coscope stalls' in scripts)");
        return -1;
    }
    setlocale(LC_ALL, "");
    utf8 = !strcmp(nl_langinfo(CODESET), "UTF-8");
    /* newterm, not initscr: initscr exits the process on an unknown TERM. */
    screen = newterm(NULL, stdout, stdin);
    if (!screen) {
        const char *t = getenv("TERM");
        snprintf(why, why_len, "cannot use terminal type '%s'", t ? t : "");
        return -1;
    }
    set_term(screen);
    cbreak();
    noecho();
    nonl();
    keypad(stdscr, TRUE);
    nodelay(stdscr, TRUE);
    set_escdelay(25);
    curs_set(0);
    /* Mouse where the terminal has it (kmous in terminfo); presses, not clicks, so
     * ncurses does not hold a press back waiting for its release. */
    mouseinterval(0);
    mousemask(BUTTON1_PRESSED | BUTTON4_PRESSED | BUTTON5_PRESSED, NULL);
    colour = has_colors();
    if (colour) {
        start_color();
        use_default_colors();
        init_pair(1, COLOR_CYAN, -1);
        init_pair(2, COLOR_BLACK, COLOR_CYAN);
        init_pair(3, COLOR_WHITE, COLOR_RED);
        init_pair(4, COLOR_YELLOW, -1);
        init_pair(5, COLOR_GREEN, -1);
    }
    return 0;
}

int cs_term_open_virtual(const char *term, FILE *out, FILE *in, int rows, int cols, bool utf8_on)
{
    if (screen)
        return 0;
    setlocale(LC_ALL, utf8_on ? "C.UTF-8" : "C");
    utf8 = utf8_on;
    screen = newterm(term, out, in);
    if (!screen)
        return -1;
    set_term(screen);
    resizeterm(rows, cols);
    colour = has_colors();
    if (colour) {
        start_color();
        init_pair(1, COLOR_CYAN, COLOR_BLACK);
        init_pair(2, COLOR_BLACK, COLOR_CYAN);
        init_pair(3, COLOR_WHITE, COLOR_RED);
        init_pair(4, COLOR_YELLOW, COLOR_BLACK);
        init_pair(5, COLOR_GREEN, COLOR_BLACK);
    }
    return 0;
}

void cs_term_close(void)
{
    if (!screen)
        return;
    curs_set(1);
    endwin();
    delscreen(screen);
    screen = NULL;
}

bool cs_term_is_open(void)
{
    return screen != NULL;
}

bool cs_term_utf8(void)
{
    return utf8;
}

bool cs_term_colour(void)
{
    return colour;
}

int cs_term_rows(void)
{
    return LINES;
}

int cs_term_cols(void)
{
    return COLS;
}

static attr_t attr_of(enum cs_role role)
{
    switch (role) {
    case CS_ROLE_NORMAL:
        return A_NORMAL;
    case CS_ROLE_TITLE:
        return A_BOLD | (colour ? COLOR_PAIR(1) : 0);
    case CS_ROLE_LABEL:
        return colour ? COLOR_PAIR(2) : A_UNDERLINE;
    case CS_ROLE_SELECTED:
        return A_REVERSE;
    case CS_ROLE_ALERT:
        return A_BOLD | (colour ? COLOR_PAIR(3) : A_REVERSE);
    case CS_ROLE_ONGOING:
        return A_BOLD | (colour ? COLOR_PAIR(4) : 0);
    case CS_ROLE_DIM:
        return A_DIM;
    case CS_ROLE_BAR:
        return colour ? COLOR_PAIR(5) : A_NORMAL;
    }
    return A_NORMAL;
}

void cs_term_begin_frame(void)
{
    erase();
}

void cs_term_end_frame(void)
{
    wnoutrefresh(stdscr);
    doupdate();
}

/* Columns left on row y from x; the bottom-right cell is never written (it would scroll). */
static int room(int y, int x)
{
    if (y < 0 || y >= LINES || x >= COLS)
        return 0;
    return COLS - x - (y == LINES - 1 ? 1 : 0);
}

int cs_term_put(int y, int x, enum cs_role role, const char *fmt, ...)
{
    char buf[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    int n = room(y, x);
    if (n <= 0)
        return x;
    int len = (int)strlen(buf);
    if (len > n)
        len = n;
    attrset(attr_of(role));
    mvaddnstr(y, x, buf, len);
    attrset(A_NORMAL);
    return x + len;
}

void cs_term_fill(int y, int x, enum cs_role role)
{
    int n = room(y, x);
    if (n <= 0)
        return;
    attrset(attr_of(role));
    mvhline(y, x, ' ', n);
    attrset(A_NORMAL);
}

void cs_term_hline(int y)
{
    int n = room(y, 0);
    if (n <= 0)
        return;
    if (utf8) {
        move(y, 0);
        for (int i = 0; i < n; i++)
            addstr("\u2500");
    } else {
        mvhline(y, 0, '-', n);
    }
}

void cs_term_bar(int y, int x, double cells, int max_cells)
{
    static const char *const eighths[] = {"",       "\u258f", "\u258e", "\u258d",
                                          "\u258c", "\u258b", "\u258a", "\u2589"};
    if (cells < 0)
        cells = 0;
    if (cells > max_cells)
        cells = max_cells;
    int n = room(y, x);
    if (n <= 0)
        return;
    int full = (int)cells;
    if (full > n)
        full = n;
    attrset(attr_of(CS_ROLE_BAR));
    move(y, x);
    for (int i = 0; i < full; i++)
        addstr(utf8 ? "\u2588" : "#");
    int frac = (int)((cells - full) * 8);
    if (full < n && frac > 0)
        addstr(utf8 ? eighths[frac] : (frac >= 4 ? "+" : ""));
    attrset(A_NORMAL);
}

bool cs_term_mouse(struct cs_term_mouse *m)
{
    MEVENT ev;
    if (getmouse(&ev) != OK)
        return false;
    m->y = ev.y;
    m->x = ev.x;
    m->wheel_up = ev.bstate & BUTTON4_PRESSED;
    m->wheel_down = ev.bstate & BUTTON5_PRESSED;
    return m->wheel_up || m->wheel_down || (ev.bstate & BUTTON1_PRESSED);
}

void cs_term_spark(int y, int x, const unsigned char *pct, size_t n)
{
    static const char *const blocks[] = {" ",      "\u2581", "\u2582", "\u2583", "\u2584",
                                         "\u2585", "\u2586", "\u2587", "\u2588"};
    static const char ascii[] = " .:-=+*#@";
    int w = room(y, x);
    if (w <= 0)
        return;
    if ((size_t)w < n) { /* the newest samples win */
        pct += n - (size_t)w;
        n = (size_t)w;
    }
    attrset(attr_of(CS_ROLE_BAR));
    move(y, x);
    for (size_t i = 0; i < n; i++) {
        /* 0 stays blank; anything above it shows at least the lowest level. */
        int level = pct[i] ? 1 + (pct[i] * 7 + 50) / 100 : 0;
        if (level > 8)
            level = 8;
        if (utf8)
            addstr(blocks[level]);
        else
            addch((chtype)ascii[level]);
    }
    attrset(A_NORMAL);
}

int cs_term_key(void)
{
    int ch = getch();
    return ch == ERR ? -1 : ch;
}
