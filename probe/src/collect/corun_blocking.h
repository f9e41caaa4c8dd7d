/*
 * `coscope stat` on libcorun: reads the blocking and executor calls counted in the kernel
 * (corun.bpf.c maps `blocking` and `exec`) into the model's struct cs_blocking_stat
 * (model/blocking.h), once at the end.
 */
#ifndef CS_CORUN_BLOCKING_H
#define CS_CORUN_BLOCKING_H

#include "blocking.h"

/* Reads the BPF maps (fds; -1 = not collected). 0 or -ENOMEM. */
int cs_blocking_read(struct cs_blocking_stat *b, int blocking_fd, int exec_fd);

#endif
