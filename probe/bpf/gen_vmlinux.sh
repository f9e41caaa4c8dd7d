#!/bin/sh
# Produce vmlinux.h for the BPF programs.
#   gen_vmlinux.sh MODE OUTPUT VENDORED_DIR ARCH BPFTOOL
# MODE auto: generate from the running kernel's BTF when it is readable, otherwise
# copy the vendored header (so a build machine without /sys/kernel/btf still builds;
# CO-RE relocates field offsets at load time either way).
set -eu
mode=$1 out=$2 vendored=$3/$4/vmlinux.h bpftool=$5
btf=/sys/kernel/btf/vmlinux

generate() {
    "$bpftool" btf dump file "$btf" format c >"$out.tmp" && mv "$out.tmp" "$out"
}
vendor() {
    if [ ! -f "$vendored" ]; then
        echo "gen_vmlinux: no vendored vmlinux.h for $4 ($vendored) and no readable $btf" >&2
        exit 1
    fi
    cp "$vendored" "$out"
}

case $mode in
generate) generate ;;
vendored) vendor ;;
auto)
    if [ -r "$btf" ] && generate 2>/dev/null; then :; else vendor; fi
    ;;
*) echo "gen_vmlinux: unknown mode $mode" >&2; exit 2 ;;
esac
