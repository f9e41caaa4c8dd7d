/* `coscope stat` on a process without libcorun: the stall engine's loop statistics. */
#ifndef CS_STAT_FOREIGN_H
#define CS_STAT_FOREIGN_H

struct cs_session;
struct cs_target_opts;

/*
 * Runs a whole `stat` over a session that found no libcorun in the target (it watches the
 * loop threads with the stall engine instead: collect/session.h, CS_WATCH_CORUN_STAT) for
 * to->duration_ns (0: until SIGINT/SIGTERM/SIGHUP or the process exits) and prints the
 * summary as text or JSON. Returns a coscope exit code.
 */
int cs_foreign_stat_run(struct cs_session *sess, const struct cs_target_opts *to);

#endif
