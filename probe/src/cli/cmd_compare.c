/*
 * `coscope compare BASE.json NEW.json [--max-regress RULES]`: both files carry the flat
 * "metrics" object of docs/ci.md; every metric is held against the limit that applies to
 * it and a table says which got worse by more than allowed. Exit 1 on a broken limit,
 * 2 on bad input, 0 otherwise.
 */
#include "cmd_compare.h"

#include <errno.h>
#include <fnmatch.h>
#include <getopt.h>
#include <math.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "exit_codes.h"
#include "json_reader.h"

#define METRICS_VERSION 1
#define DEFAULT_RULE    "*=10%"

static void usage(FILE *out)
{
    fprintf(out,
            "usage: coscope compare BASE.json [BASE2.json...] [--] NEW.json\n"
            "                       [--max-regress PATTERN=LIMIT[,...]]...\n"
            "\n"
            "Compares the \"metrics\" of files of the same kind (bench/results/*.json,\n"
            "`coscope report --format json`) and fails when one got worse by more than its\n"
            "limit (docs/ci.md). With several baselines (runs of the same code), a metric\n"
            "fails only when it is worse than the worst baseline by more than the limit\n"
            "(relative limits are taken of the baselines' mean, shown as base).\n"
            "\n"
            "  --max-regress RULES  comma-separated PATTERN=LIMIT; PATTERN is a glob matched\n"
            "                       against the metric's name or its last dotted part;\n"
            "                       LIMIT is 10%% (relative, in the metric's bad direction),\n"
            "                       +10%% / -5%% (the sign names the bad direction), 0, 3,\n"
            "                       +50us, 2ms, 1KiB (absolute), or off. The last matching\n"
            "                       rule wins: default %s, then BASE's own \"limit\",\n"
            "                       then these rules in order.\n"
            "  -h, --help           this text\n"
            "\n"
            "Exit codes: 0 no limit broken, 1 a limit broken, 2 bad input or usage.\n",
            DEFAULT_RULE);
}

/* One line on stderr, the exit code for bad input. */
static int bad_input(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "coscope compare: ");
    vfprintf(stderr, fmt, ap);
    fprintf(stderr, "\n");
    va_end(ap);
    return CS_EXIT_USAGE;
}

/* ---- units ---- */

enum unit_family { FAMILY_TIME = 1, FAMILY_SIZE };

static const struct unit {
    const char *name;
    enum unit_family family;
    double factor; /* in the family's base unit: ns, bytes */
} units[] = {
    {"ns", FAMILY_TIME, 1},
    {"us", FAMILY_TIME, 1e3},
    {"\xc2\xb5s", FAMILY_TIME, 1e3}, /* µs */
    {"ms", FAMILY_TIME, 1e6},
    {"s", FAMILY_TIME, 1e9},
    {"B", FAMILY_SIZE, 1},
    {"bytes", FAMILY_SIZE, 1},
    {"KiB", FAMILY_SIZE, 1024},
    {"MiB", FAMILY_SIZE, 1024.0 * 1024},
    {"GiB", FAMILY_SIZE, 1024.0 * 1024 * 1024},
};

static const struct unit *find_unit(const char *name)
{
    for (size_t i = 0; i < sizeof units / sizeof units[0]; i++)
        if (strcmp(units[i].name, name) == 0)
            return &units[i];
    return NULL;
}

/* ---- limits ---- */

enum limit_kind { LIMIT_OFF, LIMIT_RELATIVE, LIMIT_ABSOLUTE };

struct limit {
    enum limit_kind kind;
    int sign;                /* +1 / -1: the bad direction the rule names; 0: the metric's own */
    double amount;           /* percent (relative) or an amount in `unit` (absolute) */
    const struct unit *unit; /* absolute with a unit; NULL: the metric's own unit */
    char text[32];           /* as written, for the table */
};

/* Parses "10%", "+10%", "-5%", "0", "+50us", "off". false when it is none of these. */
static bool parse_limit(const char *s, struct limit *l)
{
    memset(l, 0, sizeof *l);
    snprintf(l->text, sizeof l->text, "%s", s);
    if (strcmp(s, "off") == 0) {
        l->kind = LIMIT_OFF;
        return true;
    }
    const char *p = s;
    if (*p == '+' || *p == '-')
        l->sign = *p++ == '+' ? 1 : -1;
    /* strtod would also take "inf", "nan" and hex: only plain decimals are limits. */
    if ((!(*p >= '0' && *p <= '9') && *p != '.') || strpbrk(p, "xX"))
        return false;
    char *end;
    errno = 0;
    l->amount = strtod(p, &end);
    if (end == p || errno || !isfinite(l->amount) || l->amount < 0)
        return false;
    if (strcmp(end, "%") == 0) {
        l->kind = LIMIT_RELATIVE;
        return true;
    }
    l->kind = LIMIT_ABSOLUTE;
    if (*end == '\0')
        return true;
    l->unit = find_unit(end);
    return l->unit != NULL;
}

struct rule {
    const char *pattern; /* NULL: applies to one metric only (the base file's "limit") */
    struct limit limit;
};

struct rules {
    struct rule *items;
    size_t len, cap;
};

static int add_rule(struct rules *r, const char *pattern, const struct limit *l)
{
    if (r->len == r->cap) {
        size_t cap = r->cap ? r->cap * 2 : 8;
        struct rule *n = realloc(r->items, cap * sizeof *n);
        if (!n)
            return -ENOMEM;
        r->items = n;
        r->cap = cap;
    }
    r->items[r->len++] = (struct rule){pattern, *l};
    return 0;
}

/* Splits "p99=+10%,stalls=0" into rules. The patterns point into `spec` (argv). */
static int parse_rules(char *spec, struct rules *r)
{
    char *save = NULL;
    for (char *item = strtok_r(spec, ",", &save); item; item = strtok_r(NULL, ",", &save)) {
        char *eq = strrchr(item, '=');
        if (!eq || eq == item)
            return bad_input("bad --max-regress rule '%s': expected PATTERN=LIMIT "
                             "(e.g. p99=+10%%)",
                             item);
        *eq = '\0';
        struct limit l;
        if (!parse_limit(eq + 1, &l))
            return bad_input("bad limit '%s' for '%s': expected 10%%, +10%%, -5%%, 0, +50us, "
                             "2ms, 1KiB or off",
                             eq + 1, item);
        if (add_rule(r, item, &l))
            return bad_input("out of memory");
    }
    return 0;
}

static bool pattern_matches(const char *pattern, const char *name)
{
    if (fnmatch(pattern, name, 0) == 0)
        return true;
    const char *last = strrchr(name, '.');
    return last && fnmatch(pattern, last + 1, 0) == 0;
}

/* ---- metrics files ---- */

struct metric {
    const char *name;
    double value;
    const char *unit; /* "" when none */
    bool higher_better;
    const char *limit; /* the file's suggested limit, or NULL */
    double samples;    /* how many samples a percentile stands on; < 0 when not given */
};

struct metrics_file {
    const char *path;
    struct cs_jv *root;
    const char *kind;
    const struct cs_jv *about;
    struct metric *metrics;
    size_t len;
};

static int load_metric(struct metrics_file *f, const char *name, const struct cs_jv *v,
                       struct metric *m)
{
    if (v->type != CS_JV_OBJECT)
        return bad_input("%s: metric \"%s\" is %s, expected an object with a \"value\"", f->path,
                         name, cs_jv_type_name(v->type));
    const struct cs_jv *value = cs_jv_get(v, "value");
    const struct cs_jv *unit = cs_jv_get(v, "unit");
    const struct cs_jv *better = cs_jv_get(v, "better");
    const struct cs_jv *limit = cs_jv_get(v, "limit");
    const struct cs_jv *samples = cs_jv_get(v, "samples");
    if (samples && (samples->type != CS_JV_NUMBER || samples->u.number < 0))
        return bad_input("%s: metric \"%s\": \"samples\" must be a number >= 0", f->path, name);
    if (!value || value->type != CS_JV_NUMBER)
        return bad_input("%s: metric \"%s\" has no numeric \"value\"", f->path, name);
    if (unit && unit->type != CS_JV_STRING)
        return bad_input("%s: metric \"%s\": \"unit\" must be a string", f->path, name);
    if (better && (better->type != CS_JV_STRING || (strcmp(better->u.string.chars, "lower") &&
                                                    strcmp(better->u.string.chars, "higher"))))
        return bad_input("%s: metric \"%s\": \"better\" must be \"lower\" or \"higher\"", f->path,
                         name);
    if (limit && limit->type != CS_JV_STRING)
        return bad_input("%s: metric \"%s\": \"limit\" must be a string", f->path, name);
    struct limit parsed;
    if (limit && !parse_limit(limit->u.string.chars, &parsed))
        return bad_input("%s: metric \"%s\": bad \"limit\" \"%s\"", f->path, name,
                         limit->u.string.chars);
    *m = (struct metric){
        .name = name,
        .value = value->u.number,
        .unit = unit ? unit->u.string.chars : "",
        .higher_better = better && strcmp(better->u.string.chars, "higher") == 0,
        .limit = limit ? limit->u.string.chars : NULL,
        .samples = samples ? samples->u.number : -1,
    };
    return 0;
}

static int load_metrics_file(const char *path, struct metrics_file *f)
{
    memset(f, 0, sizeof *f);
    f->path = path;
    struct cs_json_error err;
    int rc = cs_json_parse_file(path, &f->root, &err);
    if (rc == -EINVAL)
        return bad_input("%s: not valid JSON: line %u, column %u: %s", path, err.line, err.column,
                         err.message);
    if (rc)
        return bad_input("%s: cannot read: %s", path, err.message);
    const struct cs_jv *root = f->root;
    if (root->type != CS_JV_OBJECT)
        return bad_input("%s: not a metrics file: the top level is %s, expected an object", path,
                         cs_jv_type_name(root->type));
    /* `coscope report --format json` names its kind "type": either key will do. */
    const struct cs_jv *kind = cs_jv_get(root, "kind");
    if (!kind)
        kind = cs_jv_get(root, "type");
    const struct cs_jv *version = cs_jv_get(root, "metrics_version");
    const struct cs_jv *metrics = cs_jv_get(root, "metrics");
    if (!kind || kind->type != CS_JV_STRING || !metrics)
        return bad_input("%s: not a metrics file: no \"kind\" string and \"metrics\" object "
                         "(docs/ci.md)",
                         path);
    if (!version || version->type != CS_JV_NUMBER)
        return bad_input("%s: no \"metrics_version\" number (docs/ci.md)", path);
    if (version->u.number != METRICS_VERSION)
        return bad_input("%s: metrics_version %g, this coscope reads version %d", path,
                         version->u.number, METRICS_VERSION);
    if (metrics->type != CS_JV_OBJECT)
        return bad_input("%s: \"metrics\" is %s, expected an object", path,
                         cs_jv_type_name(metrics->type));
    /* A recording that watched no loop thread has no stall to count: its zeros would read
     * as a perfect run and hide that nothing was measured. */
    const struct cs_jv *watched = cs_jv_get(root, "loops_watched");
    if (watched && watched->type == CS_JV_NUMBER && watched->u.number == 0)
        return bad_input("%s: the recording watched no loop thread (loops_watched 0): its "
                         "figures measure nothing; record again with -T TID",
                         path);
    f->kind = kind->u.string.chars;
    f->about = cs_jv_get(root, "about");
    size_t n = metrics->u.object.len;
    f->metrics = calloc(n ? n : 1, sizeof *f->metrics);
    if (!f->metrics)
        return bad_input("out of memory");
    for (size_t i = 0; i < n; i++) {
        const struct cs_jv_member *mem = &metrics->u.object.members[i];
        if ((rc = load_metric(f, mem->key, mem->value, &f->metrics[i])))
            return rc;
        f->len++;
    }
    return 0;
}

static void free_metrics_file(struct metrics_file *f)
{
    free(f->metrics);
    cs_jv_free(f->root);
}

static const struct metric *find_metric(const struct metrics_file *f, const char *name)
{
    for (size_t i = 0; i < f->len; i++)
        if (strcmp(f->metrics[i].name, name) == 0)
            return &f->metrics[i];
    return NULL;
}

/* "coscope-bench, date …, machine …": the file's kind and its "about" strings. */
static void print_about(const char *label, const struct metrics_file *f)
{
    printf("%s %s", label, f->kind);
    const struct cs_jv *a = f->about;
    for (size_t i = 0; a && a->type == CS_JV_OBJECT && i < a->u.object.len; i++) {
        const struct cs_jv *v = a->u.object.members[i].value;
        if (v->type == CS_JV_STRING)
            printf(", %s %s", a->u.object.members[i].key, v->u.string.chars);
        else if (v->type == CS_JV_NUMBER)
            printf(", %s %g", a->u.object.members[i].key, v->u.number);
        else if (v->type == CS_JV_BOOL)
            printf(", %s %s", a->u.object.members[i].key, v->u.boolean ? "true" : "false");
    }
    printf("\n");
}

/* ---- judging one metric ---- */

enum verdict {
    VERDICT_OK,
    VERDICT_REGRESSED,
    VERDICT_IMPROVED,
    VERDICT_ONLY_BASE,
    VERDICT_ONLY_NEW,
    VERDICT_FEW_SAMPLES
};

/* A percentile pNN (the name's last part) of fewer than 10 / (1 - NN%) samples rests on
 * fewer than 10 samples above it: one more or less moves it, so no verdict is given. */
static bool too_few_samples(const struct metric *m)
{
    const char *last = strrchr(m->name, '.');
    last = last ? last + 1 : m->name;
    char *end;
    if (m->samples < 0 || last[0] != 'p')
        return false;
    double q = strtod(last + 1, &end) / 100.0;
    if (*end || end == last + 1 || q <= 0 || q >= 1)
        return false;
    return m->samples < 10.0 / (1.0 - q);
}

static const char *verdict_name(enum verdict v)
{
    switch (v) {
    case VERDICT_OK:
        return "ok";
    case VERDICT_REGRESSED:
        return "REGRESSED";
    case VERDICT_IMPROVED:
        return "improved";
    case VERDICT_ONLY_BASE:
        return "only in base";
    case VERDICT_ONLY_NEW:
        return "only in new";
    case VERDICT_FEW_SAMPLES:
        return "not enough samples";
    }
    return "?";
}

/* The limit for this metric: the last rule that matches (defaults first). */
static const struct limit *limit_for(const struct rules *defaults, const struct metric *base,
                                     const struct limit *base_limit, const struct rules *user)
{
    const struct limit *chosen = NULL;
    for (size_t i = 0; i < defaults->len; i++)
        if (pattern_matches(defaults->items[i].pattern, base->name))
            chosen = &defaults->items[i].limit;
    if (base->limit)
        chosen = base_limit;
    for (size_t i = 0; i < user->len; i++)
        if (pattern_matches(user->items[i].pattern, base->name))
            chosen = &user->items[i].limit;
    return chosen;
}

/* Judges new against base under l. -1 (message printed) when the limit's unit does not
 * convert to the metric's. */
/* `worst` and `best` are the baselines' values furthest in the bad and the good direction
 * (both base->value with one baseline): a change inside the baselines' own spread is
 * noise, not a regression. */
static int judge(const struct metric *base, double worst, double best, double new_value,
                 const struct limit *l, enum verdict *out)
{
    *out = VERDICT_OK;
    if (l->kind == LIMIT_OFF)
        return 0;
    int bad_dir = l->sign ? l->sign : (base->higher_better ? -1 : 1);
    if (l->sign && l->sign != (base->higher_better ? -1 : 1)) { /* the rule flips it */
        double t = worst;
        worst = best;
        best = t;
    }
    double worse_by = (new_value - worst) * bad_dir, better_by = (best - new_value) * bad_dir;
    double allowed;
    if (l->kind == LIMIT_RELATIVE) {
        allowed = l->amount / 100.0 * fabs(base->value);
    } else if (l->unit) {
        const struct unit *mu = find_unit(base->unit);
        if (!mu || mu->family != l->unit->family) {
            bad_input("limit '%s' for \"%s\": cannot convert %s to the metric's unit '%s'", l->text,
                      base->name, l->unit->name, base->unit);
            return -1;
        }
        allowed = l->amount * l->unit->factor / mu->factor;
    } else {
        allowed = l->amount;
    }
    /* Values went through decimal text: do not call a rounding error a regression. */
    double larger = fabs(base->value) > fabs(new_value) ? fabs(base->value) : fabs(new_value);
    double slack = 1e-9 * larger;
    if (worse_by > allowed + slack)
        *out = VERDICT_REGRESSED;
    else if (better_by > allowed + slack)
        *out = VERDICT_IMPROVED;
    return 0;
}

static void format_value(double v, char *buf, size_t len)
{
    if (fabs(v) >= 1e6 && fabs(v) < 1e15)
        snprintf(buf, len, "%.0f", v);
    else
        snprintf(buf, len, "%.6g", v);
}

static void format_delta(double base, double new_value, char *buf, size_t len)
{
    if (base == new_value)
        snprintf(buf, len, "0%%");
    else if (base == 0)
        snprintf(buf, len, "n/a");
    else
        snprintf(buf, len, "%+.1f%%", (new_value - base) / fabs(base) * 100.0);
}

/* ---- the command ---- */

struct tally {
    size_t compared, regressed, improved, only_base, only_new;
};

static void print_row(size_t name_w, const char *name, const char *unit, const char *b,
                      const char *n, const char *delta, const char *limit, const char *verdict)
{
    printf("%-*s %-8s %12s %12s %8s %7s  %s\n", (int)name_w, name, unit, b, n, delta, limit,
           verdict);
}

static int compare_files(const struct metrics_file *bases, size_t nbases,
                         const struct metrics_file *cur, const struct rules *defaults,
                         const struct rules *user, struct tally *t)
{
    const struct metrics_file *base = &bases[0];
    size_t name_w = 6;
    for (size_t i = 0; i < base->len; i++)
        if (strlen(base->metrics[i].name) > name_w)
            name_w = strlen(base->metrics[i].name);
    for (size_t i = 0; i < cur->len; i++)
        if (strlen(cur->metrics[i].name) > name_w)
            name_w = strlen(cur->metrics[i].name);
    if (name_w > 60)
        name_w = 60;
    print_row(name_w, "metric", "unit", "base", "new", "delta", "limit", "verdict");
    for (size_t i = 0; i < base->len; i++) {
        struct metric mean = base->metrics[i];
        const struct metric *b = &mean;
        const struct metric *n = find_metric(cur, b->name);
        /* The baselines' mean and extremes; a baseline without the metric is left out. */
        double lo = mean.value, hi = mean.value, sum = mean.value;
        size_t have = 1;
        for (size_t k = 1; k < nbases; k++) {
            const struct metric *o = find_metric(&bases[k], b->name);
            if (!o)
                continue;
            lo = o->value < lo ? o->value : lo;
            hi = o->value > hi ? o->value : hi;
            sum += o->value;
            have++;
        }
        mean.value = sum / (double)have;
        char bv[32], nv[32], delta[32];
        format_value(b->value, bv, sizeof bv);
        if (!n) {
            print_row(name_w, b->name, b->unit, bv, "-", "", "", verdict_name(VERDICT_ONLY_BASE));
            t->only_base++;
            continue;
        }
        struct limit base_limit;
        if (b->limit)
            parse_limit(b->limit, &base_limit); /* checked when loaded */
        const struct limit *l = limit_for(defaults, b, &base_limit, user);
        enum verdict v;
        if (judge(b, b->higher_better ? lo : hi, b->higher_better ? hi : lo, n->value, l, &v))
            return CS_EXIT_USAGE;
        if (l->kind != LIMIT_OFF && (too_few_samples(&base->metrics[i]) || too_few_samples(n)))
            v = VERDICT_FEW_SAMPLES;
        format_value(n->value, nv, sizeof nv);
        format_delta(b->value, n->value, delta, sizeof delta);
        print_row(name_w, b->name, b->unit, bv, nv, delta, l->text, verdict_name(v));
        t->compared++;
        t->regressed += v == VERDICT_REGRESSED;
        t->improved += v == VERDICT_IMPROVED;
    }
    for (size_t i = 0; i < cur->len; i++) {
        const struct metric *n = &cur->metrics[i];
        if (find_metric(base, n->name))
            continue;
        char nv[32];
        format_value(n->value, nv, sizeof nv);
        print_row(name_w, n->name, n->unit, "-", nv, "", "", verdict_name(VERDICT_ONLY_NEW));
        t->only_new++;
    }
    return 0;
}

int cs_cmd_compare(int argc, char **argv)
{
    enum { OPT_MAX_REGRESS = 256 };
    static const struct option longopts[] = {
        {"max-regress", required_argument, NULL, OPT_MAX_REGRESS},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    struct rules defaults = {0}, user = {0};
    struct metrics_file *bases = NULL, cur = {0};
    size_t nbases = 0;
    char default_spec[] = DEFAULT_RULE;
    int rc = parse_rules(default_spec, &defaults), opt;
    optind = 1;
    opterr = 0; /* one line of our own instead of getopt's */
    /* Options may come before or after the two files (GNU getopt permutes). */
    while (rc == 0 && (opt = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
        switch (opt) {
        case OPT_MAX_REGRESS:
            rc = parse_rules(optarg, &user);
            break;
        case 'h':
            usage(stdout);
            goto out;
        default:
            rc = bad_input("unknown or incomplete option '%s' (see 'coscope compare --help')",
                           argv[optind - 1]);
        }
    }
    if (rc)
        goto out;
    if (argc - optind < 2) {
        rc = bad_input("expected two files or more, BASE.json... NEW.json (see 'coscope compare "
                       "--help')");
        goto out;
    }
    /* getopt has taken a "--" away: every operand but the last is a baseline. */
    nbases = (size_t)(argc - optind - 1);
    if (!(bases = calloc(nbases, sizeof *bases))) {
        rc = bad_input("out of memory");
        goto out;
    }
    for (size_t k = 0; k < nbases; k++)
        if ((rc = load_metrics_file(argv[optind + (int)k], &bases[k])))
            goto out;
    if ((rc = load_metrics_file(argv[argc - 1], &cur)))
        goto out;
    for (size_t k = 0; k < nbases; k++)
        if (strcmp(bases[k].kind, cur.kind) != 0) {
            rc = bad_input("%s is \"%s\" and %s is \"%s\": only files of the same kind compare",
                           bases[k].path, bases[k].kind, cur.path, cur.kind);
            goto out;
        }
    for (size_t k = 0; k < nbases; k++)
        print_about("base:", &bases[k]);
    print_about("new: ", &cur);
    struct tally t = {0};
    if ((rc = compare_files(bases, nbases, &cur, &defaults, &user, &t)))
        goto out;
    printf("compare: %zu metrics compared, %zu regressed (limit broken), %zu improved", t.compared,
           t.regressed, t.improved);
    if (t.only_base || t.only_new)
        printf(", %zu only in base, %zu only in new", t.only_base, t.only_new);
    printf("\n");
    rc = t.regressed ? CS_EXIT_FAILURE : CS_EXIT_OK;
out:
    for (size_t k = 0; k < nbases; k++)
        free_metrics_file(&bases[k]);
    free(bases);
    free_metrics_file(&cur);
    free(defaults.items);
    free(user.items);
    return rc;
}
