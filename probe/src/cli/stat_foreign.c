#include "stat_foreign.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#include "exit_codes.h"
#include "foreign_stat.h"
#include "mono_clock.h"
#include "proc.h"
#include "session.h"
#include "target_options.h"

#define POLL_MS 10 /* drain the ring buffer (stall events) this often */

int cs_foreign_stat_run(struct cs_session *sess, const struct cs_target_opts *to)
{
    int pid = to->pid;
    struct cs_foreign_stat st = {.pid = pid, .threshold_ns = CS_DEFAULT_THRESHOLD_NS};
    cs_proc_comm(pid, st.comm, sizeof st.comm);
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
    if (cs_session_start(sess) != 0) {
        fprintf(stderr, "coscope: cannot start '%s': %s\n", to->cmd[0], strerror(errno));
        return CS_EXIT_FAILURE;
    }
    cs_target_catch_stop();

    int rc = CS_EXIT_OK;
    int err = cs_session_run(sess, to->duration_ns, POLL_MS, &cs_stop_requested);
    if (err) {
        fprintf(stderr, "coscope: reading BPF events: %s\n", strerror(-err));
        rc = CS_EXIT_FAILURE;
    }
    if (cs_foreign_stat_read(&st, sess)) {
        fprintf(stderr, "coscope: out of memory\n");
        rc = CS_EXIT_FAILURE;
    } else if (to->json) {
        cs_foreign_stat_write_json(stdout, &st);
    } else {
        cs_foreign_stat_write_text(stdout, &st);
    }
    free(st.loops);
    if (cs_session_exited(sess)) {
        if (to->launched) {
            waitpid(pid, NULL, 0);
        } else {
            fprintf(stderr, "coscope: process %d exited\n", pid);
            rc = CS_EXIT_NO_PROCESS;
        }
    }
    return rc;
}
