/*
 * The coscope recording format, version 2 (docs/file-format.md is the full description;
 * version 1 differs in LOOP_STATS only, and is still read).
 *
 * A file is a 16-byte header followed by records, appended as the recorder goes:
 *
 *   header:  "CSRECORD" (8 bytes)  u32 version  u32 flags (0)
 *   record:  u16 type  u16 flags (0)  u32 payload_len  payload[payload_len]  u32 crc32
 *
 * All integers are little-endian. The CRC-32 (IEEE, as zlib's crc32) covers the 8-byte
 * record head and the payload. A string is u16 length + bytes (no NUL). Because every
 * record is written with one write(2) and checks itself, a recorder killed at any point
 * (or stopped by a full disk) leaves a file whose whole records can all be read back.
 */
#ifndef CS_RECORDING_FORMAT_H
#define CS_RECORDING_FORMAT_H

#define CS_REC_MAGIC       "CSRECORD"
#define CS_REC_MAGIC_LEN   8
#define CS_REC_VERSION     2
#define CS_REC_MIN_VERSION 1 /* the oldest version the reader reads */
#define CS_REC_HEADER_LEN  16
#define CS_REC_HEAD_LEN    8 /* type, flags, payload_len */
#define CS_REC_CRC_LEN     4
#define CS_REC_MAX_PAYLOAD (1u << 20) /* larger: the length itself is damaged */

/* Record types (payload layouts in docs/file-format.md). Unknown types are skipped. */
enum cs_rec_type {
    CS_REC_TARGET = 1,     /* who was recorded, by which coscope, from when */
    CS_REC_LOOP = 2,       /* a loop thread is watched */
    CS_REC_TASK_SPAWN = 3, /* a libcorun task was first seen */
    CS_REC_TASK_DONE = 4,  /* ...and was gone from a later snapshot */
    CS_REC_SLICE = 5,      /* one poll of a task: a long one, or any (record --polls) */
    CS_REC_WAKE = 6,       /* a wake edge, waker -> woken (record --polls) */
    CS_REC_STALL = 7,      /* a finished stall, its stacks already symbolized */
    CS_REC_LOOP_STATS = 8, /* a libcorun loop's counters and histograms so far */
    CS_REC_TASK_STATS = 9, /* a task's counters and histogram so far */
    CS_REC_LOST = 10,      /* lost events / suppressed stalls so far */
    CS_REC_TRIGGER = 11,   /* flight recorder: the trigger that wrote this file */
    CS_REC_TRAILER = 12,   /* clean close */
    CS_REC_SLOW_ITER = 13, /* a slow libcorun iteration: many short slices adding up */
    CS_REC_TYPE_MAX = 13,
};

/* TARGET flags */
#define CS_REC_TARGET_FLIGHT 1u /* written by the flight recorder (a window, not a session) */

/* SLICE flags (a trailing field: files before it read as 0, a long slice) */
#define CS_REC_SLICE_POLL 1u /* from record --polls: every poll, however short */
/* SLICE wait_reason of a poll that ended with its task */
#define CS_REC_WAIT_DONE 0xffffu

/* TRAILER reasons */
enum cs_rec_end {
    CS_REC_END_STOPPED = 0, /* duration elapsed or a signal */
    CS_REC_END_EXITED = 1,  /* the target exited */
    CS_REC_END_FLIGHT = 2,  /* flight recorder: the after-window is over */
    CS_REC_END_ERROR = 3,   /* the collector failed */
};

/* Histogram buckets in TASK_STATS, and in LOOP_STATS of version 1: log2, bucket k counts
 * values < 2^k ns (corun_debug.h's corun_hist_bucket). The count is in the record. */
#define CS_REC_HIST_MAX 64
/* LOOP_STATS of version 2: log-linear buckets (corun_ll_bucket), the non-empty ones only. */
#define CS_REC_LL_BUCKETS 496 /* CORUN_LL_BUCKETS */

#endif
