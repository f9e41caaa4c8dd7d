/*
 * Reading a recording (recording_format.h) back: every whole record, and one clear
 * verdict on what is wrong with a damaged file. It never trusts a length it has not
 * checked against the bytes that are there, so no input makes it crash or loop.
 */
#ifndef CS_RECORDING_READER_H
#define CS_RECORDING_READER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "record_types.h"

enum cs_rec_status {
    CS_REC_OK = 0,
    CS_REC_TRUNCATED = 1,     /* a prefix: the file ends inside a record (killed, disk full) */
    CS_REC_NOT_RECORDING = 2, /* no magic */
    CS_REC_BAD_VERSION = 3,   /* a version this coscope cannot read */
    CS_REC_CORRUPT = 4,       /* a record fails its CRC or does not parse */
    CS_REC_IO_ERROR = 5,      /* the file could not be read */
};

/* A task: its spawn record, and its done record if there was one. */
struct cs_rec_task {
    struct cs_rec_task_spawn spawn;
    bool done;
    uint64_t done_ns;
    bool outcome_known; /* the TASK_DONE came from corun:task_done */
    uint32_t outcome;   /* enum corun_task_outcome */
    int32_t error;
};

/* Everything read, in file order. Arrays are NULL when empty. */
struct cs_recording {
    bool has_target;
    struct cs_rec_target target;
    struct cs_rec_loop *loops;
    size_t nloops;
    struct cs_rec_task *tasks; /* sorted by id */
    size_t ntasks;
    /* Every SLICE, poll and WAKE record counted, kept or not (CS_REC_LOAD_NO_EVENTS). */
    uint64_t slices_seen, polls_seen, wakes_seen;
    uint64_t wakes_from_loop;    /* wakes with waker 0: a timer, an fd, a post */
    struct cs_rec_slice *slices; /* long slices (flags 0) */
    size_t nslices;
    struct cs_rec_slice *polls; /* every poll (record --polls: CS_REC_SLICE_POLL) */
    size_t npolls;
    struct cs_rec_wake *wakes;
    size_t nwakes;
    struct cs_stall *stalls; /* deep copies (cs_stall_release) */
    size_t nstalls;
    struct cs_rec_loop_stats *loop_stats;
    size_t nloop_stats;
    struct cs_rec_task_stats *task_stats;
    size_t ntask_stats;
    struct cs_rec_lost lost; /* the last one */
    struct cs_rec_trigger *triggers;
    size_t ntriggers;
    struct cs_slow_iter *slow_iters;
    size_t nslow_iters;
    bool has_trailer;
    struct cs_rec_trailer trailer;

    uint32_t version;
    uint64_t nrecords;        /* whole records read */
    uint64_t unknown_records; /* of types this coscope does not know (skipped) */
    uint64_t valid_bytes;     /* where the last whole record ends */
    enum cs_rec_status status;
    uint64_t bad_offset; /* TRUNCATED / CORRUPT: where the bad record starts */
    char message[256];   /* "" when OK, else one line saying what is wrong */
};

/*
 * Parses `len` bytes. Returns the status (also in r->status, with r->message), or -ENOMEM.
 * Whatever the status, `r` holds every whole record before the problem; free it with
 * cs_recording_free.
 */
int cs_recording_parse(const uint8_t *data, size_t len, struct cs_recording *r);

/*
 * Reads and parses a file (CS_REC_IO_ERROR if it cannot be read). The 16-byte header is
 * checked before anything more is read; then one record at a time, so the reader's own
 * buffer holds the largest record, never the file.
 */
int cs_recording_load(const char *path, struct cs_recording *r);

/* What a reader that only summarizes may leave out (report, but for its timelines). */
enum cs_rec_load_flags {
    /* Only the latest TASK_STATS of each task and LOOP_STATS of each loop (each holds the
     * totals so far): memory grows with the tasks, not with the snapshots. */
    CS_REC_LOAD_LATEST_STATS = 1u << 0,
    /* SLICE and WAKE records counted (slices_seen, polls_seen, wakes_seen), not kept. */
    CS_REC_LOAD_NO_EVENTS = 1u << 1,
};
int cs_recording_load_opts(const char *path, struct cs_recording *r, unsigned flags);
int cs_recording_parse_opts(const uint8_t *data, size_t len, struct cs_recording *r,
                            unsigned flags);

void cs_recording_free(struct cs_recording *r);

/* The task with this id, or NULL. */
const struct cs_rec_task *cs_recording_task(const struct cs_recording *r, uint64_t id);

/* Says on stderr what is wrong with a loaded recording, if anything, and returns the exit
 * code it calls for; *go_on is false when nothing in it can be used (report, top --replay). */
int cs_recording_status_exit(const struct cs_recording *rec, const char *path, _Bool *go_on);

#endif
