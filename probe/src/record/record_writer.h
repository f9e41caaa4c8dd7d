/*
 * Where encoded records go: straight to the file (each record one write(2), so the file
 * is always a readable prefix), or, for the flight recorder, into a bounded in-memory
 * window that reaches the file only when a trigger fires.
 *
 *   struct cs_rec_buf *b = cs_rec_writer_begin(w);
 *   cs_rec_encode_stall(b, s);
 *   cs_rec_writer_commit(w, t_ns, false);
 */
#ifndef CS_RECORD_WRITER_H
#define CS_RECORD_WRITER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "record_encode.h"

struct cs_rec_writer;

/*
 * Creates (truncates) `path`, mode 0600, and writes the file header. Refuses a symbolic
 * link unless `force` (base/safe_file.h). 0 or -errno (message in `why`).
 */
int cs_rec_writer_open(const char *path, bool force, struct cs_rec_writer **out, char *why,
                       size_t why_len);

/*
 * A flight recorder: nothing is written until cs_rec_writer_fire(). It keeps the records
 * of the last `window_ns` in one buffer of `max_bytes` (entry headers included; the
 * oldest go first), plus the sticky ones (target, loops)
 * which are always written.
 */
int cs_rec_writer_open_flight(const char *path, uint64_t window_ns, size_t max_bytes,
                              struct cs_rec_writer **out);

/* A flight recorder's file, once a trigger fires, may be a symbolic link (--force). */
void cs_rec_writer_set_force(struct cs_rec_writer *w, bool force);

/* An empty buffer to encode one record into. */
struct cs_rec_buf *cs_rec_writer_begin(struct cs_rec_writer *w);

/*
 * Sends the encoded record on. `t_ns` (CLOCK_MONOTONIC) ages it out of a flight window;
 * `sticky` records are never aged out. 0, or -errno once writing failed (-ENOSPC: the disk
 * is full; the file holds every record before). After a failure, commits do nothing.
 */
int cs_rec_writer_commit(struct cs_rec_writer *w, uint64_t t_ns, bool sticky);

/*
 * The same for `records` whole records encoded one after the other into the buffer (the
 * stream of polls: one write(2), or one window entry aged by its newest time `t_ns`, for a
 * few ms of them). A recorder killed during the write leaves a readable prefix all the same.
 */
int cs_rec_writer_commit_batch(struct cs_rec_writer *w, uint64_t t_ns, uint64_t records);

/* Flight recorder: creates the file and writes the header, the sticky records and the
 * window; from then on records go straight to the file. 0 or -errno (message in `why`). */
int cs_rec_writer_fire(struct cs_rec_writer *w, char *why, size_t why_len);
bool cs_rec_writer_fired(const struct cs_rec_writer *w);

/* Records written to the file (or, unfired, held) so far, and held bytes of a window. */
uint64_t cs_rec_writer_records(const struct cs_rec_writer *w);
size_t cs_rec_writer_window_bytes(const struct cs_rec_writer *w);

/* The first write error (0 if none). */
int cs_rec_writer_error(const struct cs_rec_writer *w);

/* Closes the file (an unfired flight recorder writes nothing) and frees. */
void cs_rec_writer_close(struct cs_rec_writer *w);

#endif
