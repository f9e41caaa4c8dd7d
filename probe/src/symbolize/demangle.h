/*
 * Linkage names → the names a reader knows: C++ (Itanium ABI) and Rust (legacy and v0)
 * demangled by libiberty, as perf and bpftrace show them (parameters, no Rust hash).
 */
#ifndef CS_DEMANGLE_H
#define CS_DEMANGLE_H

#include <stdbool.h>
#include <stddef.h>

/*
 * Writes the demangled `name` into `buf` (truncated to `len`) and returns true; false
 * when `name` is not a mangled name (C, a JIT's own names), `buf` then untouched.
 */
bool cs_demangle(const char *name, char *buf, size_t len);

#endif
