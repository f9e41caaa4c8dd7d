/*
 * `coscope report --format svg`: a flame graph of the folded stall stacks, drawn here as
 * SVG: the root at the bottom, each frame as wide as the µs spent in it, a tooltip
 * (<title>) on every box. A small embedded script adds click-to-zoom, reset and search;
 * the file stays self-contained (no network access), and without script it still reads
 * as a static picture.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "report_summary.h"
#include "utf8.h"

#define WIDTH_PX   1200.0
#define ROW_PX     16
#define MARGIN_PX  10
#define TITLE_PX   30
#define MIN_BOX_PX 0.3 /* narrower boxes are not drawn */
#define CHAR_PX    7.0

/*
 * The interactions. Every frame is a <g class="f"> whose rect keeps its unzoomed x and width
 * in data-x / data-w and whose full name is in data-n, so zooming recomputes boxes and
 * labels from the drawn picture without a second copy of the tree. Written in plain ES5
 * with single quotes so it embeds in a C string and a CDATA section.
 */
static const char svg_script[] =
    "var W=0,M=0,CH=0,zoomed=null;\n"
    "function frames(){return document.querySelectorAll('g.f');}\n"
    "function box(g){var r=g.querySelector('rect');return {r:r,x:+r.getAttribute('data-x'),"
    "w:+r.getAttribute('data-w'),y:+r.getAttribute('y')};}\n"
    "function label(g,w){var t=g.querySelector('text'),n=g.getAttribute('data-n');"
    "var c=Math.floor((w-6)/CH);if(c<3){t.textContent='';return;}"
    "t.textContent=n.length<=c?n:n.substring(0,c-2)+'..';}\n"
    "function place(g,x,w){var "
    "b=box(g),t=g.querySelector('text');b.r.setAttribute('x',x.toFixed(1));"
    "b.r.setAttribute('width',w.toFixed(1));t.setAttribute('x',(x+3).toFixed(1));label(g,w);"
    "g.style.display='';}\n"
    "function zoom(g){var z=box(g),fs=frames(),k=(W-2*M)/z.w;zoomed=g;"
    "for(var i=0;i<fs.length;i++){var f=fs[i],b=box(f);"
    "var inside=b.x>=z.x-0.05&&b.x+b.w<=z.x+z.w+0.05;"
    "if(b.y<=z.y&&inside){place(f,M+(b.x-z.x)*k,Math.min(b.w*k,W-2*M));f.style.opacity='';}"
    "else if(b.y>z.y&&b.x<=z.x+0.05&&b.x+b.w>=z.x+z.w-0.05){place(f,M,W-2*M);"
    "f.style.opacity='0.6';}"
    "else f.style.display='none';}"
    "document.getElementById('reset').style.display='';}\n"
    "function reset(){var fs=frames();zoomed=null;for(var i=0;i<fs.length;i++){var b=box(fs[i]);"
    "place(fs[i],b.x,b.w);fs[i].style.opacity='';}"
    "document.getElementById('reset').style.display='none';}\n"
    "function search(){var q=prompt('Search frames (a regular expression; empty: clear)','');"
    "if(q===null)return;var re=null;if(q!==''){try{re=new RegExp(q);}catch(e){alert(e);return;}}"
    "var fs=frames(),iv=[];"
    "for(var i=0;i<fs.length;i++){var f=fs[i],r=f.querySelector('rect');"
    "if(re&&re.test(f.getAttribute('data-n'))){if(!r.hasAttribute('data-fill'))"
    "r.setAttribute('data-fill',r.getAttribute('fill'));r.setAttribute('fill','rgb(230,0,230)');"
    "var b=box(f);iv.push([b.x,b.x+b.w]);}"
    "else if(r.hasAttribute('data-fill'))r.setAttribute('fill',r.getAttribute('data-fill'));}"
    "iv.sort(function(a,b){return a[0]-b[0];});var sum=0,end=-1;"
    "for(var j=0;j<iv.length;j++){var a=Math.max(iv[j][0],end);"
    "if(iv[j][1]>a)sum+=iv[j][1]-a;end=Math.max(end,iv[j][1]);}"
    "document.getElementById('matched').textContent=re?'matched: '+"
    "(100*sum/(W-2*M)).toFixed(1)+'% of the stalled time':'';}\n"
    "function init(evt){var s=document.documentElement;W=+s.getAttribute('width');"
    "M=+s.getAttribute('data-margin');CH=+s.getAttribute('data-char');"
    "var fs=frames();for(var i=0;i<fs.length;i++)fs[i].addEventListener('click',"
    "function(e){zoom(e.currentTarget);});"
    "document.getElementById('reset').addEventListener('click',reset);"
    "document.getElementById('search').addEventListener('click',search);"
    "document.addEventListener('keydown',function(e){if(e.key==='Escape')reset();"
    "else if((e.ctrlKey||e.metaKey)&&e.key==='f'){e.preventDefault();search();}});}\n"
    "window.addEventListener('load',init);\n";

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
            fputs("<g class=\"f\" data-n=\"", out);
            cs_xml_write_text(out, c->name, 1000);
            fputs("\"><title>", out);
            cs_xml_write_text(out, c->name, 1000);
            fprintf(out, " (%.1f ms, %.1f%%)</title>", (double)c->value / 1e3,
                    100.0 * (double)c->value / (double)total);
            fprintf(out,
                    "<rect x=\"%.1f\" y=\"%d\" width=\"%.1f\" height=\"%d\" "
                    "data-x=\"%.3f\" data-w=\"%.3f\" fill=\"rgb(%d,%d,%d)\" rx=\"2\"/>",
                    x, y, w, ROW_PX - 1, x, w, r, g, b);
            size_t chars = (size_t)((w - 6) / CHAR_PX);
            /* Always a <text>, empty when too narrow: a zoom may widen the box. */
            fprintf(out, "<text x=\"%.1f\" y=\"%d\">", x + 3, y + ROW_PX - 4);
            if (chars >= 3) {
                size_t len = strlen(c->name);
                cs_xml_write_text(out, c->name, len <= chars ? len : chars - 2);
                if (len > chars)
                    fputs("..", out);
            }
            fputs("</text></g>\n", out);
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
                "viewBox=\"0 0 %.0f %d\" font-family=\"monospace\" font-size=\"11\" "
                "data-margin=\"%d\" data-char=\"%.1f\">\n"
                "<style>g.f{cursor:pointer}g.f:hover rect{stroke:#333;stroke-width:0.5}"
                ".btn{cursor:pointer;fill:#336}</style>\n"
                "<script type=\"text/ecmascript\"><![CDATA[\n%s]]></script>\n"
                "<rect width=\"100%%\" height=\"100%%\" fill=\"#fdfdf6\"/>\n"
                "<text id=\"reset\" class=\"btn\" x=\"%d\" y=\"20\" style=\"display:none\">"
                "Reset zoom</text>\n"
                "<text id=\"search\" class=\"btn\" x=\"%.0f\" y=\"20\" "
                "text-anchor=\"end\">Search</text>\n"
                "<text id=\"matched\" x=\"%.0f\" y=\"%d\" text-anchor=\"end\"></text>\n"
                "<text x=\"%d\" y=\"20\" font-size=\"14\" pointer-events=\"none\">"
                "coscope: stall stacks of ",
                WIDTH_PX, height, WIDTH_PX, height, MARGIN_PX, CHAR_PX, svg_script, MARGIN_PX,
                WIDTH_PX - MARGIN_PX, WIDTH_PX - MARGIN_PX, height - 2, MARGIN_PX + 90);
        cs_xml_write_text(out, r->rec->has_target ? r->rec->target.comm : "?", 64);
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
