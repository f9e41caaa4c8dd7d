/*
 * The command line every attaching command shares (stalls, stat, top, record):
 * `-p PID | -- CMD…`, `-d DURATION`, optionally `-T TID`, `-t THRESHOLD` and `--json`,
 * plus each command's own options; and the checks a target passes before anything
 * attaches. One parser, so every command words its errors and picks its exit codes
 * the same way (docs/cli.md).
 */
#ifndef CS_TARGET_OPTIONS_H
#define CS_TARGET_OPTIONS_H

#include <getopt.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

/* Which of the optional shared options a command takes. */
enum cs_target_flags {
    CS_TARGET_TID = 1 << 0,       /* -T, --tid TID: watch this thread (its process) */
    CS_TARGET_THRESHOLD = 1 << 1, /* -t, --threshold DUR */
    CS_TARGET_JSON = 1 << 2,      /* --json */
};

/* What the shared options said. Set defaults (threshold_ns) before parsing. */
struct cs_target_opts {
    int pid;               /* -p PID; 0 if not given (or the process of -T TID, after preflight) */
    int tid;               /* -T TID; 0 if not given */
    char **cmd;            /* -- CMD ARGS…; NULL if not given */
    uint64_t duration_ns;  /* -d DUR; 0 = until stopped */
    uint64_t threshold_ns; /* -t DUR */
    bool json;             /* --json */
    bool launched;         /* cs_target_launch started cmd: o->pid is ours to reap */
    bool at_entry;         /* ...and it waits at its entry point: its libraries are mapped */
};

/* One command's command line: the shared options plus its own. */
struct cs_target_cli {
    const char *name; /* "stalls": errors read "coscope stalls: …" */
    unsigned flags;   /* enum cs_target_flags */
    void (*usage)(FILE *out);
    const struct option *own_long; /* its own long options, {0}-terminated, or NULL */
    const char *own_short;         /* its own short options, getopt style ("o:"), or NULL */
    /*
     * Takes one of its own options (`opt` as getopt_long returned it): 0, or an exit
     * code after one line on stderr (cs_target_bad_usage).
     */
    int (*on_option)(int opt, const char *arg, void *ctx);
    /* Checks its own options once all are read and a target was chosen: 0, or an exit
     * code after one line on stderr. May be NULL. */
    int (*check)(void *ctx);
    void *ctx;
};

/* cs_target_parse*: the help was asked for and printed; the command exits 0. */
#define CS_TARGET_HELP (-1)

/*
 * Parses argv's options into `o` (o->cmd: what follows them). 0, CS_TARGET_HELP, or
 * CS_EXIT_USAGE after one line on stderr. Says nothing about which target was given.
 */
int cs_target_parse_options(const struct cs_target_cli *cli, int argc, char **argv,
                            struct cs_target_opts *o);

/* Exactly one target: -p PID (or -T TID) or -- CMD. 0, or CS_EXIT_USAGE after one line. */
int cs_target_check_choice(const struct cs_target_cli *cli, const struct cs_target_opts *o);

/* Both of the above, then cli->check. */
int cs_target_parse(const struct cs_target_cli *cli, int argc, char **argv,
                    struct cs_target_opts *o);

/*
 * Everything before a command attaches: cs_target_parse, cs_target_preflight,
 * cs_target_launch. 0 to go on; otherwise the command returns
 * cs_target_exit_code(the result).
 */
int cs_target_begin(const struct cs_target_cli *cli, int argc, char **argv,
                    struct cs_target_opts *o);

/* The exit code for a result of cs_target_parse* or _begin (CS_TARGET_HELP is 0). */
int cs_target_exit_code(int rc);

/*
 * A PID or TID on the command line: decimal digits only, 1 up to this kernel's
 * /proc/sys/kernel/pid_max (exclusive). 0; -ERANGE outside that; -EINVAL for anything else.
 */
int cs_parse_pid(const char *text, int *out);

/* "coscope NAME: <what> (see 'coscope NAME --help')" on stderr; returns CS_EXIT_USAGE. */
int cs_target_bad_usage(const char *name, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/*
 * Before anything attaches or starts: the privileges (CS_EXIT_PERMISSION), -T's thread
 * (its process becomes o->pid), the process (CS_EXIT_NO_PROCESS), the right to trace it
 * (cs_target_may_trace) and the kernel (CS_EXIT_KERNEL). 0 or the exit code, after one line on
 * stderr.
 */
int cs_target_preflight(struct cs_target_opts *o);

/*
 * May this user trace process `pid` (the kernel's ptrace read check: the same user, or
 * CAP_SYS_PTRACE)? BPF capabilities alone would let coscope watch anyone's process, so
 * every command asks before it reads or attaches. CS_EXIT_OK, or the exit code after one
 * line ("coscope: not permitted to trace PID (...)", exit 4; no such process, 3).
 */
int cs_target_may_trace(int pid);

/*
 * For a command about to attach: probes BPF (collect/bpf_support.h) and, when it is
 * refused, prints the reason as one line on stderr. Returns CS_EXIT_OK,
 * CS_EXIT_PERMISSION or CS_EXIT_KERNEL.
 */
int cs_bpf_require(void);

/*
 * -- CMD: starts it stopped right after its exec (launch.h), so probes attach before it
 * runs; o->pid becomes its pid and o->launched true. Nothing to do for -p. 0 or the
 * exit code (the reason is on stderr).
 */
int cs_target_launch(struct cs_target_opts *o);

/* The exit code for cs_launch_stopped's negative errno (a command that cannot run: usage). */
int cs_target_launch_exit(int err);

/* The exit code for a collector or probe that could not open or attach (negative errno). */
int cs_target_attach_exit(int err);

/*
 * The target exited while watched: a command we launched is reaped (CS_EXIT_OK), a
 * process we attached to is reported on stderr (CS_EXIT_NO_PROCESS).
 */
int cs_target_exited(int pid, bool launched);

/* Set by SIGINT, SIGTERM or SIGHUP once cs_target_catch_stop ran: time to detach. */
extern volatile sig_atomic_t cs_stop_requested;

/* Ctrl-C, kill and a closed terminal stop the watch instead of the process (no
 * SA_RESTART: a blocking poll returns at once). */
void cs_target_catch_stop(void);

#endif
