/* Encoding records (recording_format.h) into bytes: one framed, CRC'd record per call. */
#ifndef CS_RECORD_ENCODE_H
#define CS_RECORD_ENCODE_H

#include <stddef.h>
#include <stdint.h>

#include "record_types.h"

/* A growable byte buffer; `oom` sticks once an allocation failed. */
struct cs_rec_buf {
    uint8_t *data;
    size_t len, cap;
    int oom;
};

void cs_rec_buf_free(struct cs_rec_buf *b);

/* CRC-32 (IEEE 802.3, reflected, as zlib's crc32), continuing from `crc` (0 to start). */
uint32_t cs_crc32(uint32_t crc, const void *data, size_t len);

/* The 16-byte file header. */
int cs_rec_encode_header(struct cs_rec_buf *b);

/* Each appends one whole record to `b`. 0, or -ENOMEM / -E2BIG (payload too large). */
int cs_rec_encode_target(struct cs_rec_buf *b, const struct cs_rec_target *t);
int cs_rec_encode_loop(struct cs_rec_buf *b, const struct cs_rec_loop *l);
int cs_rec_encode_task_spawn(struct cs_rec_buf *b, const struct cs_rec_task_spawn *t);
int cs_rec_encode_task_done(struct cs_rec_buf *b, const struct cs_rec_task_done *t);
int cs_rec_encode_slice(struct cs_rec_buf *b, const struct cs_rec_slice *s);
int cs_rec_encode_wake(struct cs_rec_buf *b, const struct cs_rec_wake *w);
int cs_rec_encode_stall(struct cs_rec_buf *b, const struct cs_stall *s);
int cs_rec_encode_loop_stats(struct cs_rec_buf *b, const struct cs_rec_loop_stats *l);
int cs_rec_encode_task_stats(struct cs_rec_buf *b, const struct cs_rec_task_stats *t);
int cs_rec_encode_lost(struct cs_rec_buf *b, const struct cs_rec_lost *l);
int cs_rec_encode_trigger(struct cs_rec_buf *b, const struct cs_rec_trigger *t);
int cs_rec_encode_slow_iter(struct cs_rec_buf *b, const struct cs_slow_iter *it);
int cs_rec_encode_trailer(struct cs_rec_buf *b, const struct cs_rec_trailer *t);

#endif
