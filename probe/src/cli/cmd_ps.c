#include "cmd_ps.h"

#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "corun_errors.h"
#include "corun_target.h"
#include "exit_codes.h"
#include "json_writer.h"
#include "proc.h"
#include "task_tree.h"
#include "target_options.h"

static void usage(FILE *out)
{
    fprintf(out, "usage: coscope ps -p PID [--await] [--json]\n"
                 "\n"
                 "Shows the tasks of a libcorun process right now, read from its memory\n"
                 "(no BPF, nothing attached): id, name, state, what each task waits on, age.\n"
                 "\n"
                 "  -p, --pid PID   the process\n"
                 "      --await     show who awaits whom instead of who spawned whom\n"
                 "      --json      one JSON object (docs/cli.md)\n"
                 "  -h, --help      this text\n"
                 "\n"
                 "Exit codes: 0 ok, 2 usage, 3 no such process, 4 permission,\n"
                 "6 not a libcorun process (or an unsupported debug table version).\n");
}

static void format_age(int64_t age_ns, char *buf, size_t len)
{
    double s = (double)age_ns / 1e9;
    if (age_ns < 0)
        snprintf(buf, len, "?");
    else if (s < 1)
        snprintf(buf, len, "%.0fms", s * 1e3);
    else if (s < 120)
        snprintf(buf, len, "%.1fs", s);
    else
        snprintf(buf, len, "%" PRId64 "m%02" PRId64 "s", age_ns / 60000000000,
                 age_ns / 1000000000 % 60);
}

static void print_node(const struct cs_corun_loop *loop, const struct cs_task_tree *tree, long i,
                       char *prefix, size_t prefix_len, bool last, int64_t now_ns)
{
    const struct cs_task *t = &loop->tasks[i];
    char waiting[128], age[32];
    cs_task_waiting_on(loop, t, waiting, sizeof waiting);
    format_age(now_ns - t->created_ns, age, sizeof age);
    /* A finished task says how it ended: "done: failed, ECONNREFUSED (-111, ...)". */
    const char *outcome = cs_task_outcome_name(t);
    if (outcome && !waiting[0]) {
        int n = snprintf(waiting, sizeof waiting, "%s", outcome);
        if (t->outcome == CORUN_OUTCOME_ERROR && n > 0 && (size_t)n < sizeof waiting) {
            char err[96];
            snprintf(waiting + n, sizeof waiting - (size_t)n, ", %s",
                     cs_task_error_text(t->error, err, sizeof err));
        }
    }
    printf("%s%s%s #%" PRIu64 " [%s%s%s] age %s\n", prefix, last ? "└── " : "├── ", t->name, t->id,
           cs_task_state_name(t->state), waiting[0] ? ": " : "", waiting, age);
    size_t used = strlen(prefix);
    snprintf(prefix + used, prefix_len - used, "%s", last ? "    " : "│   ");
    for (long c = tree->first_child[i]; c >= 0; c = tree->next_sibling[c])
        print_node(loop, tree, c, prefix, prefix_len, tree->next_sibling[c] < 0, now_ns);
    prefix[used] = 0;
}

static int print_text(const struct cs_corun_snapshot *s, enum cs_tree_kind kind)
{
    printf("process %d (%s): %zu loop%s\n", s->pid, s->comm[0] ? s->comm : "?", s->nloops,
           s->nloops == 1 ? "" : "s");
    for (size_t l = 0; l < s->nloops; l++) {
        const struct cs_corun_loop *loop = &s->loops[l];
        printf("loop %" PRIu64 " (thread %d): %zu task%s, %" PRIu64 " ready%s\n", loop->id,
               loop->tid, loop->ntasks, loop->ntasks == 1 ? "" : "s", loop->ready_count,
               kind == CS_TREE_AWAIT ? " — await graph" : "");
        struct cs_task_tree tree;
        if (cs_task_tree_build(&tree, loop, kind))
            return -ENOMEM;
        char prefix[512] = "";
        for (long r = tree.first_root; r >= 0; r = tree.next_sibling[r])
            print_node(loop, &tree, r, prefix, sizeof prefix, tree.next_sibling[r] < 0,
                       s->taken_ns);
        cs_task_tree_free(&tree);
    }
    return 0;
}

static int print_json(const struct cs_corun_snapshot *s, enum cs_tree_kind kind)
{
    struct cs_json w;
    cs_json_init(&w, stdout);
    cs_json_begin_object(&w);
    cs_json_key(&w, "pid");
    cs_json_int(&w, s->pid);
    cs_json_key(&w, "loops");
    cs_json_begin_array(&w);
    for (size_t l = 0; l < s->nloops; l++) {
        const struct cs_corun_loop *loop = &s->loops[l];
        struct cs_task_tree tree;
        if (cs_task_tree_build(&tree, loop, kind))
            return -ENOMEM;
        cs_json_begin_object(&w);
        cs_json_key(&w, "tid");
        cs_json_int(&w, loop->tid);
        cs_json_key(&w, "tasks");
        cs_json_begin_array(&w);
        for (size_t i = 0; i < loop->ntasks; i++) {
            const struct cs_task *t = &loop->tasks[i];
            char waiting[128];
            cs_task_waiting_on(loop, t, waiting, sizeof waiting);
            cs_json_begin_object(&w);
            cs_json_key(&w, "id");
            cs_json_uint(&w, t->id);
            cs_json_key(&w, "parent");
            cs_json_id_or_null(&w, t->parent_id);
            cs_json_key(&w, "name");
            cs_json_string(&w, t->name);
            cs_json_key(&w, "state");
            cs_json_string(&w, cs_task_state_name(t->state));
            cs_json_key(&w, "waiting_on");
            cs_json_string(&w, waiting[0] ? waiting : NULL);
            cs_json_key(&w, "age_us");
            cs_json_int(&w, (s->taken_ns - t->created_ns) / 1000);
            cs_json_key(&w, "children");
            cs_json_begin_array(&w);
            for (long c = tree.first_child[i]; c >= 0; c = tree.next_sibling[c])
                cs_json_uint(&w, loop->tasks[c].id);
            cs_json_end_array(&w);
            /* Last (added in 0.1 without moving a key); null while the task runs, or when the
             * target's table does not say */
            cs_json_key(&w, "outcome");
            cs_json_string(&w, cs_task_outcome_name(t));
            cs_json_key(&w, "error");
            if (cs_task_outcome_name(t) && t->outcome == CORUN_OUTCOME_ERROR)
                cs_json_int(&w, t->error);
            else
                cs_json_null(&w);
            cs_json_end_object(&w);
        }
        cs_json_end_array(&w);
        cs_json_end_object(&w);
        cs_task_tree_free(&tree);
    }
    cs_json_end_array(&w);
    cs_json_end_object(&w);
    fputc('\n', stdout);
    return 0;
}

int cs_cmd_ps(int argc, char **argv)
{
    enum { OPT_JSON = 256, OPT_AWAIT };
    static const struct option longopts[] = {
        {"pid", required_argument, NULL, 'p'},
        {"json", no_argument, NULL, OPT_JSON},
        {"await", no_argument, NULL, OPT_AWAIT},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    int pid = 0, opt;
    bool json = false;
    enum cs_tree_kind kind = CS_TREE_SPAWN;
    opterr = 0;
    optind = 1;
    while ((opt = getopt_long(argc, argv, "+p:h", longopts, NULL)) != -1) {
        switch (opt) {
        case 'p':
            if (cs_parse_pid(optarg, &pid))
                return cs_target_bad_usage("ps", "bad PID '%s'", optarg);
            break;
        case OPT_JSON:
            json = true;
            break;
        case OPT_AWAIT:
            kind = CS_TREE_AWAIT;
            break;
        case 'h':
            usage(stdout);
            return CS_EXIT_OK;
        default:
            return cs_target_bad_usage("ps", "unknown or incomplete option '%s'", argv[optind - 1]);
        }
    }
    if (optind < argc)
        return cs_target_bad_usage("ps", "unexpected argument '%s'", argv[optind]);
    if (!pid)
        return cs_target_bad_usage("ps", "which process? give -p PID");
    if (kill(pid, 0) != 0 && errno == ESRCH)
        return cs_corun_report_error("ps", pid, -ESRCH, "");
    if (cs_proc_is_kernel_thread(pid)) {
        fprintf(stderr, "coscope: %d is a kernel thread: it runs no tasks to list\n", pid);
        return CS_EXIT_NOT_A_LOOP;
    }
    int rc = cs_target_may_trace(pid); /* before "does not use libcorun" from empty maps */
    if (rc)
        return rc;

    char why[256] = "";
    struct cs_corun_target target;
    int err = cs_corun_open(pid, &target, why, sizeof why);
    if (err)
        return cs_corun_report_error("ps", pid, err, why);
    struct cs_corun_snapshot snap;
    err = cs_corun_snapshot(&target, &snap);
    if (err)
        return cs_corun_report_error("ps", pid, err,
                                     err == -EPERM
                                         ? "reading its memory was refused (EPERM)"
                                         : "its task list could not be read consistently");
    err = json ? print_json(&snap, kind) : print_text(&snap, kind);
    cs_corun_snapshot_free(&snap);
    if (err) {
        fprintf(stderr, "coscope: out of memory\n");
        return CS_EXIT_FAILURE;
    }
    return fflush(stdout) == 0 ? CS_EXIT_OK : CS_EXIT_FAILURE;
}
