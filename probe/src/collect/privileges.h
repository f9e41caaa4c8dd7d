/* Does coscope have the privileges it needs? Names what is missing. */
#ifndef CS_PRIVILEGES_H
#define CS_PRIVILEGES_H

#include <stdbool.h>
#include <stddef.h>

/*
 * True if this process may load BPF and open perf events on other processes
 * (CAP_BPF + CAP_PERFMON, or CAP_SYS_ADMIN). Otherwise writes which are missing to `why`.
 */
bool cs_have_bpf_privileges(char *why, size_t why_len);

#endif
