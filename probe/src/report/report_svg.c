/*
 * `coscope report --format svg`: a flame graph of the folded stall stacks, drawn here as
 * plain SVG (no script): the root at the bottom, each frame as wide as the µs spent in it,
 * a tooltip (<title>) on every box.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "report_summary.h"

#define WIDTH_PX   1200.0
#define ROW_PX     16
#define MARGIN_PX  10
#define TITLE_PX   30
#define MIN_BOX_PX 0.3 /* narrower boxes are not drawn */
#define CHAR_PX    7.0

struct node {
    char *name;
    uint64_t value;
    struct node *child, *next;
};

static void free_tree(struct node *n)
{
    while (n) {
        struct node *next = n->next;
        free_tree(n->child);
        free(n->name);
        free(n);
        n = next;
    }
}

static struct node *child_named(struct node *parent, const char *name, size_t len)
{
    struct node **link = &parent->child;
    for (; *link; link = &(*link)->next)
        if (strlen((*link)->name) == len && !memcmp((*link)->name, name, len))
            return *link;
    struct node *n = calloc(1, sizeof *n);
    if (!n)
        return NULL;
    n->name = strndup(name, len);
    if (!n->name) {
        free(n);
        return NULL;
    }
    *link = n;
    return n;
}

static int depth_of(const struct node *n)
{
    int d = 0;
    for (const struct node *c = n->child; c; c = c->next) {
        int k = depth_of(c);
        if (k > d)
            d = k;
    }
    return d + 1;
}

static void xml_text(FILE *out, const char *s, size_t max)
{
    for (size_t i = 0; s[i] && i < max; i++) {
        switch (s[i]) {
        case '<':
            fputs("&lt;", out);
            break;
        case '>':
            fputs("&gt;", out);
            break;
        case '&':
            fputs("&amp;", out);
            break;
        case '"':
            fputs("&quot;", out);
            break;
        default:
            fputc(s[i], out);
        }
    }
}

/* Warm colours, stable per name. */
static void colour(const char *name, int *r, int *g, int *b)
{
    uint32_t h = 2166136261u;
    for (const char *p = name; *p; p++)
        h = (h ^ (uint8_t)*p) * 16777619u;
    *r = 205 + (int)(h % 50);
    *g = 80 + (int)((h >> 8) % 130);
    *b = 40 + (int)((h >> 16) % 40);
}

static void draw(FILE *out, const struct node *n, double x, int level, int height, double scale,
                 uint64_t total)
{
    for (const struct node *c = n; c; c = c->next) {
        double w = (double)c->value * scale;
        if (w >= MIN_BOX_PX) {
            int y = height - MARGIN_PX - (level + 1) * ROW_PX;
            int r, g, b;
            colour(c->name, &r, &g, &b);
            fprintf(out, "<g><title>");
            xml_text(out, c->name, 1000);
            fprintf(out, " (%.1f ms, %.1f%%)</title>", (double)c->value / 1e3,
                    100.0 * (double)c->value / (double)total);
            fprintf(out,
                    "<rect x=\"%.1f\" y=\"%d\" width=\"%.1f\" height=\"%d\" "
                    "fill=\"rgb(%d,%d,%d)\" rx=\"2\"/>",
                    x, y, w, ROW_PX - 1, r, g, b);
            size_t chars = (size_t)((w - 6) / CHAR_PX);
            if (chars >= 3) {
                fprintf(out, "<text x=\"%.1f\" y=\"%d\">", x + 3, y + ROW_PX - 4);
                size_t len = strlen(c->name);
                xml_text(out, c->name, len <= chars ? len : chars - 2);
                if (len > chars)
                    fputs("..", out);
                fputs("</text>", out);
            }
            fputs("</g>\n", out);
            draw(out, c->child, x, level + 1, height, scale, total);
        }
        x += w;
    }
}

int cs_report_write_svg(FILE *out, const struct cs_report *r)
{
    struct cs_folded *f;
    size_t n;
    int err = cs_report_folded(r, &f, &n);
    if (err)
        return err;
    struct node root = {.name = "all"};
    for (size_t i = 0; i < n && !err; i++) {
        struct node *at = &root;
        root.value += f[i].weight_us;
        for (const char *p = f[i].stack; at && *p;) {
            size_t len = strcspn(p, ";");
            at = child_named(at, p, len);
            if (at)
                at->value += f[i].weight_us;
            p += len + (p[len] == ';');
        }
        if (!at)
            err = -ENOMEM;
    }
    cs_folded_free(f, n);
    if (!err) {
        int levels = depth_of(&root);
        int height = TITLE_PX + levels * ROW_PX + 2 * MARGIN_PX;
        double scale = root.value ? (WIDTH_PX - 2 * MARGIN_PX) / (double)root.value : 0;
        fprintf(out,
                "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
                "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%.0f\" height=\"%d\" "
                "viewBox=\"0 0 %.0f %d\" font-family=\"monospace\" font-size=\"11\">\n"
                "<rect width=\"100%%\" height=\"100%%\" fill=\"#fdfdf6\"/>\n"
                "<text x=\"%d\" y=\"20\" font-size=\"14\">coscope: stall stacks of ",
                WIDTH_PX, height, WIDTH_PX, height, MARGIN_PX);
        xml_text(out, r->rec->has_target ? r->rec->target.comm : "?", 64);
        fprintf(out, " (%zu stalls, %.1f ms)</text>\n", r->nstalls, (double)root.value / 1e3);
        if (root.value) {
            root.next = NULL;
            draw(out, &root, MARGIN_PX, 0, height, scale, root.value);
        } else {
            fprintf(out, "<text x=\"%d\" y=\"%d\">no stalls recorded</text>\n", MARGIN_PX,
                    TITLE_PX + ROW_PX);
        }
        fputs("</svg>\n", out);
    }
    free_tree(root.child);
    return err;
}
