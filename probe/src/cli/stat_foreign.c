#include "stat_foreign.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#include "corun_errors.h"
#include "exit_codes.h"
#include "foreign_stat.h"
#include "mono_clock.h"
#include "proc.h"
#include "session.h"
#include "target_options.h"

#define POLL_MS 10 /* drain the ring buffer (stall events) this often */

static void print_note(const char *line, void *arg)
{
    (void)arg;
    fprintf(stderr, "coscope: %s\n", line);
}

int cs_foreign_stat_run(int pid, bool launched, uint64_t duration_ns, bool json)
{
    struct cs_foreign_stat st = {.pid = pid, .threshold_ns = CS_DEFAULT_THRESHOLD_NS};
    cs_proc_comm(pid, st.comm, sizeof st.comm);
    const struct cs_session_opts so = {
        .pid = pid,
        /* Launched or not, it runs already (stat had to look for libcorun first): its loop
         * threads are found as those of any running process. */
        .stall =
            {
                .threshold_ns = st.threshold_ns,
                .stack_mode = CS_STACK_FP, /* stat prints no stacks: no stack windows copied */
                .stack_bytes = 16384,
                .max_per_sec = 10,
                .stats = true,
            },
    };
    const struct cs_session_hooks hooks = {.note = print_note};
    char why[256] = "";
    struct cs_session *sess = NULL;
    int err = cs_session_open(&so, &hooks, &sess, why, sizeof why);
    if (err) {
        if (err == -ESRCH)
            return cs_corun_report_error("stat", pid, -ESRCH, "");
        fprintf(stderr, "coscope: %s\n", why);
        return cs_target_attach_exit(err);
    }
    st.global_tracepoints = cs_collector_uses_fallback(cs_session_collector(sess));
    size_t nloops = cs_session_loop_count(sess);
    if (!nloops)
        fprintf(stderr, "coscope: no event-loop thread found in process %d yet; watching for one\n",
                pid);
    st.start_ns = (int64_t)cs_mono_ns();
    /* Tools and tests wait for this line (the same as for a libcorun process). */
    fprintf(stderr,
            "coscope: collecting statistics of process %d (no libcorun: %zu event-loop "
            "thread%s, from its system calls)\n",
            pid, nloops, nloops == 1 ? "" : "s");
    cs_target_catch_stop();

    int rc = CS_EXIT_OK;
    err = cs_session_run(sess, duration_ns, POLL_MS, &cs_stop_requested);
    if (err) {
        fprintf(stderr, "coscope: reading BPF events: %s\n", strerror(-err));
        rc = CS_EXIT_FAILURE;
    }
    if (cs_foreign_stat_read(&st, sess)) {
        fprintf(stderr, "coscope: out of memory\n");
        rc = CS_EXIT_FAILURE;
    } else if (json) {
        cs_foreign_stat_write_json(stdout, &st);
    } else {
        cs_foreign_stat_write_text(stdout, &st);
    }
    if (cs_session_exited(sess)) {
        if (launched) {
            waitpid(pid, NULL, 0);
        } else {
            fprintf(stderr, "coscope: process %d exited\n", pid);
            rc = CS_EXIT_NO_PROCESS;
        }
    }
    cs_session_close(sess);
    free(st.loops);
    return rc;
}
