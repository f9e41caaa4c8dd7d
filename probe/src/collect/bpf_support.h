/* Can this process, on this kernel, run coscope's BPF programs? */
#ifndef CS_BPF_SUPPORT_H
#define CS_BPF_SUPPORT_H

#include <stddef.h>

enum cs_bpf_support {
    CS_BPF_OK = 0,
    CS_BPF_NO_PERMISSION, /* EPERM/EACCES: not root, no CAP_BPF + CAP_PERFMON */
    CS_BPF_UNSUPPORTED,   /* the kernel lacks BPF, BTF or a program type we need */
};

/*
 * Loads and attaches coscope's feature-probe programs once, then detaches.
 * On failure writes one human-readable sentence (no trailing newline) to `why`.
 */
enum cs_bpf_support cs_bpf_support_probe(char *why, size_t why_len);

#endif
