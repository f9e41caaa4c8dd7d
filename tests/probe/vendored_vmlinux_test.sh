#!/bin/sh
# The build must work on a machine without /sys/kernel/btf: compile every BPF program
# against the vendored vmlinux.h alone (what `-Dvmlinux_h=auto` falls back to), with the
# same include path as probe/bpf/meson.build (runtime/include holds corun_debug.h).
#   vendored_vmlinux_test.sh SOURCE_ROOT CLANG BPFTOOL
set -eu
src=$1 clang=$2 bpftool=$3
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
arch=$(uname -m)
case $arch in
x86_64) target=x86 ;;
aarch64) target=arm64 ;;
*) echo "SKIP: no vendored vmlinux.h for $arch"; exit 77 ;;
esac
[ -f "$src/probe/bpf/vmlinux/$arch/vmlinux.h" ] || { echo "SKIP: nothing vendored for $arch"; exit 77; }
"$src/probe/bpf/gen_vmlinux.sh" vendored "$tmp/vmlinux.h" "$src/probe/bpf/vmlinux" "$arch" "$bpftool"
for prog in "$src"/probe/bpf/*.bpf.c; do
    "$clang" -g -O2 -target bpf -D__TARGET_ARCH_$target -I"$tmp" -I"$src/probe/bpf" -I"$src/runtime/include" \
        -I/usr/include/"$(gcc -dumpmachine)" -Wall -Werror -c "$prog" -o "$tmp/prog.o"
    echo "ok: $(basename "$prog") compiles against the vendored vmlinux.h"
done
