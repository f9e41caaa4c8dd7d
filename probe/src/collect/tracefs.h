/*
 * Tracepoint ids without touching the host: use a mounted tracefs if there is one,
 * otherwise mount one in a private mount namespace of coscope's own.
 */
#ifndef CS_TRACEFS_H
#define CS_TRACEFS_H

#include <stddef.h>

/*
 * Makes tracefs reachable for this process. Call while single-threaded (unshare).
 * Returns 0, or a negative errno with one sentence in `why`.
 */
int cs_tracefs_setup(char *why, size_t why_len);

/* The id of tracepoint `category`:`name` (for perf_event_open), or a negative errno. */
int cs_tracefs_event_id(const char *category, const char *name);

#endif
