#include "cmd_report.h"

#include <errno.h>
#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "exit_codes.h"
#include "recording_reader.h"
#include "report_summary.h"
#include "safe_file.h"
#include "target_options.h"

enum format { FMT_TEXT, FMT_JSON, FMT_CHROME, FMT_FOLDED, FMT_SVG, FMT_PPROF };
static const char *const format_names[] = {"text", "json", "chrome", "folded", "svg", "pprof"};

static void usage(FILE *out)
{
    fprintf(out,
            "usage: coscope report FILE [--format text|json|chrome|folded|svg|pprof] [-o OUT]\n"
            "\n"
            "Reads a recording made by 'coscope record' and writes:\n"
            "  text    (default) loops, top stalls with stacks, slowest tasks by p99\n"
            "          scheduling latency, blocking calls by total time\n"
            "  json    the same, machine-readable (schema in docs/report.md)\n"
            "  chrome  Chrome trace-event JSON for Perfetto UI / chrome://tracing\n"
            "  folded  folded stall stacks weighted by µs (flamegraph.pl, speedscope)\n"
            "  svg     a flame graph of the same stacks\n"
            "  pprof   the same stacks as a gzipped pprof profile (go tool pprof,\n"
            "          Pyroscope, Parca, speedscope): stalls, stalled, on_cpu and\n"
            "          off_cpu time; labels thread, task, cause, syscall (needs -o)\n"
            "\n"
            "  -f, --format FMT       output format (default text)\n"
            "  -o, --output OUT       write to OUT instead of standard output (created\n"
            "                         0600; never through a symbolic link)\n"
            "      --force            write OUT even if it is a symbolic link\n"
            "  -h, --help             this text\n"
            "\n"
            "A recording cut short (the recorder was killed, the disk filled up) is\n"
            "reported up to its last whole record with a warning on stderr (exit 0).\n"
            "Exit codes: 0 ok, 2 usage or unreadable file, 7 not a coscope recording,\n"
            "8 unsupported format version, 9 corrupt record (the records before it are\n"
            "still reported).\n");
}

int cs_cmd_report(int argc, char **argv)
{
    static const struct option longopts[] = {
        {"format", required_argument, NULL, 'f'},
        {"output", required_argument, NULL, 'o'},
        {"help", no_argument, NULL, 'h'},
        {"force", no_argument, NULL, 'F'},
        {NULL, 0, NULL, 0},
    };
    enum format fmt = FMT_TEXT;
    bool force = false;
    const char *out_path = NULL;
    int opt;
    opterr = 0;
    optind = 1;
    while ((opt = getopt_long(argc, argv, "f:o:h", longopts, NULL)) != -1) {
        switch (opt) {
        case 'f': {
            size_t k = 0, n = sizeof format_names / sizeof *format_names;
            while (k < n && strcmp(optarg, format_names[k]))
                k++;
            if (k == n)
                return cs_target_bad_usage(
                    "report", "bad --format '%s' (text, json, chrome, folded, svg or pprof)",
                    optarg);
            fmt = (enum format)k;
            break;
        }
        case 'o':
            out_path = optarg;
            break;
        case 'F':
            force = true;
            break;
        case 'h':
            usage(stdout);
            return CS_EXIT_OK;
        default:
            return cs_target_bad_usage("report", "unknown or incomplete option '%s'",
                                       argv[optind - 1]);
        }
    }
    if (optind != argc - 1)
        return cs_target_bad_usage(
            "report", optind < argc ? "one recording at a time%s" : "which recording? give FILE%s",
            "");
    const char *path = argv[optind];
    /* Each record holds a task's totals so far: the latest will do. Only the timeline
     * (chrome) draws every slice and wake; the others count them. */
    unsigned flags = CS_REC_LOAD_LATEST_STATS | (fmt == FMT_CHROME ? 0 : CS_REC_LOAD_NO_EVENTS);
    struct cs_recording rec;
    int st = cs_recording_load_opts(path, &rec, flags);
    if (st == -ENOMEM) {
        fprintf(stderr, "coscope: out of memory reading %s\n", path);
        cs_recording_free(&rec);
        return CS_EXIT_FAILURE;
    }
    bool go_on;
    int rc = cs_recording_status_exit(&rec, path, &go_on);
    struct cs_report r;
    if (!go_on || cs_report_build(&r, &rec)) {
        if (go_on) {
            fprintf(stderr, "coscope: out of memory\n");
            rc = CS_EXIT_FAILURE;
        }
        cs_recording_free(&rec);
        return rc;
    }
    char why[400] = "";
    FILE *out = out_path ? cs_fopen_output(out_path, force, why, sizeof why) : stdout;
    if (!out) {
        fprintf(stderr, "coscope: %s\n", why);
        rc = CS_EXIT_USAGE;
    } else {
        switch (fmt) {
        case FMT_TEXT:
            cs_report_write_text(out, &r);
            break;
        case FMT_JSON:
            cs_report_write_json(out, &r);
            break;
        case FMT_CHROME:
            cs_report_write_chrome(out, &r);
            break;
        case FMT_FOLDED:
            cs_report_write_folded(out, &r);
            break;
        case FMT_SVG:
            if (cs_report_write_svg(out, &r))
                rc = CS_EXIT_FAILURE;
            break;
        case FMT_PPROF:
            if (!out_path && isatty(fileno(out))) {
                fprintf(stderr, "coscope: pprof is a binary format: give -o FILE\n");
                rc = CS_EXIT_USAGE;
            } else if (cs_report_write_pprof(out, &r)) {
                rc = CS_EXIT_FAILURE;
            }
            break;
        }
        if ((out_path ? fclose(out) : fflush(out)) != 0) {
            fprintf(stderr, "coscope: writing the report: %s\n", strerror(errno));
            rc = CS_EXIT_FAILURE;
        }
    }
    cs_report_free(&r);
    cs_recording_free(&rec);
    return rc;
}
