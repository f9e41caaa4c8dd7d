#include "target_options.h"

#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#include "bpf_support.h"
#include "duration.h"
#include "exit_codes.h"
#include "launch.h"
#include "launch_entry.h"
#include "loop_detect.h"
#include "privileges.h"
#include "proc.h"

#define MAX_LONGOPTS 32
#define OPT_JSON     0x7f00 /* above any command's own option values */

int cs_target_bad_usage(const char *name, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "coscope %s: ", name);
    vfprintf(stderr, fmt, ap);
    fprintf(stderr, " (see 'coscope %s --help')\n", name);
    va_end(ap);
    return CS_EXIT_USAGE;
}

/* getopt_long's tables: the shared options the command takes, then its own. */
static void build_options(const struct cs_target_cli *cli, struct option *longopts, char *shortopts,
                          size_t short_len)
{
    size_t n = 0;
    longopts[n++] = (struct option){"pid", required_argument, NULL, 'p'};
    if (cli->flags & CS_TARGET_TID)
        longopts[n++] = (struct option){"tid", required_argument, NULL, 'T'};
    if (cli->flags & CS_TARGET_THRESHOLD)
        longopts[n++] = (struct option){"threshold", required_argument, NULL, 't'};
    longopts[n++] = (struct option){"duration", required_argument, NULL, 'd'};
    if (cli->flags & CS_TARGET_JSON)
        longopts[n++] = (struct option){"json", no_argument, NULL, OPT_JSON};
    longopts[n++] = (struct option){"help", no_argument, NULL, 'h'};
    for (const struct option *own = cli->own_long; own && own->name && n < MAX_LONGOPTS - 1;)
        longopts[n++] = *own++;
    longopts[n] = (struct option){NULL, 0, NULL, 0};
    /* "+": stop at the first non-option, so CMD's own flags stay CMD's */
    snprintf(shortopts, short_len, "+p:%s%sd:%sh", cli->flags & CS_TARGET_TID ? "T:" : "",
             cli->flags & CS_TARGET_THRESHOLD ? "t:" : "", cli->own_short ? cli->own_short : "");
}

/* The largest PID this kernel hands out, plus one (/proc/sys/kernel/pid_max). */
static uint64_t pid_limit(void)
{
    uint64_t limit = 4194304; /* the kernel's own ceiling (PID_MAX_LIMIT on 64 bits) */
    FILE *f = fopen("/proc/sys/kernel/pid_max", "r");
    if (f) {
        unsigned long long v;
        if (fscanf(f, "%llu", &v) == 1 && v > 1)
            limit = v;
        fclose(f);
    }
    return limit;
}

int cs_parse_pid(const char *text, int *out)
{
    /* A value past pid_max names no process: refused here, not wrapped into int (where
     * 4294967297 would become PID 1). */
    uint64_t v;
    if (cs_parse_count(text, &v))
        return *text && strspn(text, "0123456789") == strlen(text) ? -ERANGE : -EINVAL;
    if (v == 0)
        return -EINVAL;
    if (v >= pid_limit())
        return -ERANGE;
    *out = (int)v;
    return 0;
}

static int bad_id(const struct cs_target_cli *cli, const char *what, const char *text, int err)
{
    if (err == -ERANGE)
        return cs_target_bad_usage(cli->name, "bad %s '%s' (%ss here are 1 to %llu)", what, text,
                                   what, (unsigned long long)pid_limit() - 1);
    return cs_target_bad_usage(cli->name, "bad %s '%s'", what, text);
}

int cs_target_parse_options(const struct cs_target_cli *cli, int argc, char **argv,
                            struct cs_target_opts *o)
{
    struct option longopts[MAX_LONGOPTS];
    char shortopts[64];
    build_options(cli, longopts, shortopts, sizeof shortopts);
    int opt;
    opterr = 0;
    optind = 0; /* not 1: glibc then also forgets where an earlier parse stopped */
    while ((opt = getopt_long(argc, argv, shortopts, longopts, NULL)) != -1) {
        int rc;
        switch (opt) {
        case 'p':
            if ((rc = cs_parse_pid(optarg, &o->pid)))
                return bad_id(cli, "PID", optarg, rc);
            break;
        case 'T':
            if ((rc = cs_parse_pid(optarg, &o->tid)))
                return bad_id(cli, "TID", optarg, rc);
            break;
        case 't':
            if (cs_parse_duration_ns(optarg, &o->threshold_ns) || !o->threshold_ns)
                return cs_target_bad_usage(cli->name, "bad threshold '%s' (e.g. 50ms, 2s, 500us)",
                                           optarg);
            break;
        case 'd':
            if (cs_parse_duration_ns(optarg, &o->duration_ns) || !o->duration_ns)
                return cs_target_bad_usage(cli->name, "bad duration '%s' (e.g. 10s, 500ms)",
                                           optarg);
            break;
        case OPT_JSON:
            o->json = true;
            break;
        case 'h':
            cli->usage(stdout);
            return CS_TARGET_HELP;
        case '?':
        case ':':
            return cs_target_bad_usage(cli->name, "unknown or incomplete option '%s'",
                                       argv[optind - 1]);
        default:
            rc = cli->on_option ? cli->on_option(opt, optarg, cli->ctx) : CS_EXIT_USAGE;
            if (rc)
                return rc;
            break;
        }
    }
    o->cmd = optind < argc ? &argv[optind] : NULL;
    return 0;
}

int cs_target_check_choice(const struct cs_target_cli *cli, const struct cs_target_opts *o)
{
    bool tid = cli->flags & CS_TARGET_TID;
    if (o->cmd && (o->pid || o->tid))
        return cs_target_bad_usage(cli->name, "give either %s or -- CMD, not both",
                                   tid ? "-p/-T" : "-p PID");
    if (!o->cmd && !o->pid && !o->tid)
        return cs_target_bad_usage(cli->name, "which process? give -p PID%s or -- CMD",
                                   tid ? ", -T TID" : "");
    return 0;
}

int cs_target_parse(const struct cs_target_cli *cli, int argc, char **argv,
                    struct cs_target_opts *o)
{
    int rc = cs_target_parse_options(cli, argc, argv, o);
    if (!rc)
        rc = cs_target_check_choice(cli, o);
    if (!rc && cli->check)
        rc = cli->check(cli->ctx);
    return rc;
}

int cs_target_begin(const struct cs_target_cli *cli, int argc, char **argv,
                    struct cs_target_opts *o)
{
    /* First of all: a SIGTERM while the probes load would otherwise kill coscope with no
     * summary; caught, it ends the watch as soon as there is one, like a later one. */
    cs_target_catch_stop();
    int rc = cs_target_parse(cli, argc, argv, o);
    if (!rc)
        rc = cs_target_preflight(o);
    if (!rc)
        rc = cs_target_launch(o);
    return rc;
}

int cs_target_exit_code(int rc)
{
    return rc == CS_TARGET_HELP ? CS_EXIT_OK : rc;
}

int cs_bpf_require(void)
{
    char why[256] = "";
    switch (cs_bpf_support_probe(why, sizeof why)) {
    case CS_BPF_OK:
        return CS_EXIT_OK;
    case CS_BPF_NO_PERMISSION:
        fprintf(stderr, "coscope: %s\n", why);
        return CS_EXIT_PERMISSION;
    case CS_BPF_UNSUPPORTED:
        break;
    }
    fprintf(stderr, "coscope: %s\n", why);
    return CS_EXIT_KERNEL;
}

int cs_target_preflight(struct cs_target_opts *o)
{
    char why[256] = "";
    if (!cs_have_bpf_privileges(why, sizeof why)) {
        fprintf(stderr, "coscope: %s\n", why);
        return CS_EXIT_PERMISSION;
    }
    if (o->tid) {
        int tgid = cs_tgid_of(o->tid);
        if (tgid < 0 || (o->pid && tgid != o->pid)) {
            fprintf(stderr, "coscope: no such thread %d%s\n", o->tid,
                    o->pid ? " in that process" : "");
            return CS_EXIT_NO_PROCESS;
        }
        o->pid = tgid;
    }
    if (o->pid && !o->tid) {
        /* -p of a thread that leads no process: /proc and the probes know it only by its
         * process, which is what -p means; -T is for watching one thread */
        int tgid = cs_tgid_of(o->pid);
        if (tgid > 0 && tgid != o->pid) {
            fprintf(stderr, "coscope: %d is a thread of process %d; watching %d\n", o->pid, tgid,
                    tgid);
            o->pid = tgid;
        }
    }
    if (o->pid && kill(o->pid, 0) != 0 && errno == ESRCH) {
        fprintf(stderr, "coscope: no such process %d\n", o->pid);
        return CS_EXIT_NO_PROCESS;
    }
    if (o->pid && cs_proc_is_kernel_thread(o->pid)) {
        fprintf(stderr, "coscope: %d is a kernel thread: it runs no event loop to watch\n", o->pid);
        return CS_EXIT_NOT_A_LOOP;
    }
    int rc = o->pid ? cs_target_may_trace(o->pid) : CS_EXIT_OK;
    return rc ? rc : cs_bpf_require();
}

int cs_target_may_trace(int pid)
{
    char why[256] = "";
    int err = cs_proc_may_trace(pid, why, sizeof why);
    if (err == -ESRCH) {
        fprintf(stderr, "coscope: no such process %d\n", pid);
        return CS_EXIT_NO_PROCESS;
    }
    if (err) {
        fprintf(stderr, "coscope: not permitted to trace %d (%s)\n", pid, why);
        return CS_EXIT_PERMISSION;
    }
    return CS_EXIT_OK;
}

int cs_target_launch(struct cs_target_opts *o)
{
    if (!o->cmd)
        return 0;
    int pid = cs_launch_stopped(o->cmd);
    if (pid < 0)
        return cs_target_launch_exit(pid);
    /* Up to its first instruction: libcorun is mapped and relocated then, so the task
     * probes attach before any of its code runs (failing that, they attach on a retry
     * and the first slices go untimed). */
    int entry = cs_launch_run_to_entry(pid);
    if (entry == -ESRCH) {
        /* e.g. the dynamic loader did not find a library: its message is on stderr */
        fprintf(stderr, "coscope: '%s' exited before it started\n", o->cmd[0]);
        return CS_EXIT_NO_PROCESS;
    }
    o->at_entry = entry == 0;
    o->pid = pid;
    o->launched = true;
    return 0;
}

int cs_target_launch_exit(int err)
{
    return err == -ENOENT || err == -EACCES || err == -ENOEXEC || err == -ENOTDIR
               ? CS_EXIT_USAGE
               : CS_EXIT_NO_PROCESS;
}

int cs_target_attach_exit(int err)
{
    return err == -EPERM || err == -EACCES ? CS_EXIT_PERMISSION
           : err == -ESRCH                 ? CS_EXIT_NO_PROCESS
           : err == -EMEDIUMTYPE           ? CS_EXIT_NOT_A_LOOP
                                           : CS_EXIT_KERNEL;
}

int cs_target_exited(int pid, bool launched)
{
    if (launched) {
        int status = 0;
        waitpid(pid, &status, 0);
        return CS_EXIT_OK;
    }
    fprintf(stderr, "coscope: process %d exited\n", pid);
    return CS_EXIT_NO_PROCESS;
}

volatile sig_atomic_t cs_stop_requested;

static void on_stop_signal(int sig)
{
    (void)sig;
    cs_stop_requested = 1;
}

void cs_target_catch_stop(void)
{
    struct sigaction sa = {0};
    sa.sa_handler = on_stop_signal;
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGHUP, &sa, NULL);
}
