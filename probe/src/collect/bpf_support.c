#include "bpf_support.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <bpf/libbpf.h>

#include "feature.skel.h"

static int quiet_print(enum libbpf_print_level level, const char *fmt, va_list args)
{
    (void)level;
    (void)fmt;
    (void)args;
    return 0;
}

static enum cs_bpf_support classify(int err, const char *what, char *why, size_t why_len)
{
    err = err < 0 ? -err : err;
    if (err == EPERM || err == EACCES) {
        snprintf(why, why_len,
                 "%s: permission denied (run as root, or grant CAP_BPF, CAP_PERFMON "
                 "and CAP_SYS_RESOURCE)",
                 what);
        return CS_BPF_NO_PERMISSION;
    }
    snprintf(why, why_len, "%s: %s", what, strerror(err));
    return CS_BPF_UNSUPPORTED;
}

enum cs_bpf_support cs_bpf_support_probe(char *why, size_t why_len)
{
    libbpf_print_fn_t old = libbpf_set_print(quiet_print);
    enum cs_bpf_support status = CS_BPF_OK;
    struct feature_bpf *skel = NULL;
    struct bpf_link *link = NULL;
    int err;

    if (access("/sys/kernel/btf/vmlinux", R_OK) != 0) {
        snprintf(why, why_len,
                 "the kernel has no BTF (/sys/kernel/btf/vmlinux): "
                 "coscope needs CONFIG_DEBUG_INFO_BTF=y");
        status = CS_BPF_UNSUPPORTED;
        goto out;
    }
    skel = feature_bpf__open();
    if (!skel) {
        status = classify(errno, "opening the BPF feature probe", why, why_len);
        goto out;
    }
    /* Only the BTF-typed tracepoint is needed here; raw_tp is the fallback. */
    bpf_program__set_autoload(skel->progs.feature_raw_tp, false);
    err = feature_bpf__load(skel);
    if (err) {
        status = classify(err, "loading a BPF program", why, why_len);
        goto out;
    }
    link = bpf_program__attach(skel->progs.feature_tp_btf);
    if (!link) {
        status = classify(errno, "attaching to the sched_switch tracepoint", why, why_len);
        goto out;
    }
out:
    bpf_link__destroy(link);
    feature_bpf__destroy(skel);
    libbpf_set_print(old);
    return status;
}
