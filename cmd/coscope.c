/* coscope: the command. Dispatches a verb to its implementation. */
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "bpf_support.h"
#include "cmd_compare.h"
#include "cmd_ps.h"
#include "cmd_record.h"
#include "cmd_report.h"
#include "cmd_stalls.h"
#include "cmd_stat.h"
#include "cmd_top.h"
#include "target_options.h"
#include "cs_config.h"
#include "exit_codes.h"

static void usage(FILE *out)
{
    fprintf(
        out,
        "usage: coscope <command> [options]\n"
        "\n"
        "Profile and debug event-loop / coroutine programs with eBPF.\n"
        "\n"
        "commands:\n"
        "  check      check that this kernel and user can run coscope's probes\n"
        "  stalls     stream event-loop stalls of a process (coscope stalls --help)\n"
        "  ps         show the tasks of a libcorun process now (coscope ps --help)\n"
        "  stat       loop (and libcorun task) statistics of a process (coscope stat --help)\n"
        "  top        live dashboard of a process's loops and stalls (coscope top --help)\n"
        "  record     record a process's loops, tasks and stalls (coscope record --help)\n"
        "  report     a recording as text, json, chrome, folded, svg (coscope report --help)\n"
        "  compare    compare two metrics files, fail on a regression (coscope compare --help)\n"
        "  version    print the version\n"
        "  help       this text\n"
        "\n"
        "exit codes: 0 ok, 2 usage, 3 no such process, 4 permission, 5 kernel lacks "
        "a feature,\n"
        "6 not a libcorun process (ps), 7 not a coscope recording, 8 unsupported\n"
        "recording version, 9 corrupt recording (report)\n");
}

static void check_usage(FILE *out)
{
    fprintf(out, "usage: coscope check\n"
                 "\n"
                 "Checks that this kernel and user can run coscope's probes (BPF, BTF,\n"
                 "BTF-typed tracepoints). Exit 0 if so; otherwise one line says what is\n"
                 "missing: exit 4 (permission) or 5 (the kernel lacks it).\n");
}

/* check and version take no arguments: anything more is a mistake worth saying. */
static bool is_help(const char *arg)
{
    return !strcmp(arg, "--help") || !strcmp(arg, "-h");
}

static int cmd_version(int argc, char **argv)
{
    if (argc == 3 && is_help(argv[2])) {
        printf("usage: coscope version\n\nPrints coscope's version.\n");
        return CS_EXIT_OK;
    }
    if (argc > 2) {
        fprintf(stderr, "coscope version: unexpected argument '%s' (see 'coscope help')\n",
                argv[2]);
        return CS_EXIT_USAGE;
    }
    printf("coscope %s\n", COSCOPE_VERSION);
    return CS_EXIT_OK;
}

static int cmd_check(int argc, char **argv)
{
    if (argc == 3 && is_help(argv[2])) {
        check_usage(stdout);
        return CS_EXIT_OK;
    }
    if (argc > 2) {
        fprintf(stderr, "coscope check: unexpected argument '%s' (see 'coscope check --help')\n",
                argv[2]);
        return CS_EXIT_USAGE;
    }
    int rc = cs_bpf_require();
    if (rc == CS_EXIT_OK)
        printf("ok: BPF, BTF and BTF-typed tracepoints work\n");
    return rc;
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        usage(stderr);
        return CS_EXIT_USAGE;
    }
    const char *verb = argv[1];
    if (!strcmp(verb, "help") || !strcmp(verb, "--help") || !strcmp(verb, "-h")) {
        usage(stdout);
        return CS_EXIT_OK;
    }
    if (!strcmp(verb, "version") || !strcmp(verb, "--version"))
        return cmd_version(argc, argv);
    if (!strcmp(verb, "check"))
        return cmd_check(argc, argv);
    if (!strcmp(verb, "ps"))
        return cs_cmd_ps(argc - 1, argv + 1);
    if (!strcmp(verb, "stat"))
        return cs_cmd_stat(argc - 1, argv + 1);
    if (!strcmp(verb, "top"))
        return cs_cmd_top(argc - 1, argv + 1);
    if (!strcmp(verb, "record"))
        return cs_cmd_record(argc - 1, argv + 1);
    if (!strcmp(verb, "report"))
        return cs_cmd_report(argc - 1, argv + 1);
    if (!strcmp(verb, "stalls"))
        return cs_cmd_stalls(argc - 1, argv + 1);
    if (!strcmp(verb, "compare"))
        return cs_cmd_compare(argc - 1, argv + 1);
    fprintf(stderr, "coscope: unknown command '%s' (see 'coscope help')\n", verb);
    return CS_EXIT_USAGE;
}
