/*
 * A libcorun target: find the runtime in a process (the executable or a mapped shared
 * library, through the exported debug table `corun_debug`) and read its loops and tasks
 * with process_vm_readv, using only the offsets the table gives (corun_debug.h).
 */
#ifndef CS_CORUN_TARGET_H
#define CS_CORUN_TARGET_H

#include <limits.h>
#include <stddef.h>
#include <stdint.h>

#include "corun_debug.h"
#include "model_tasks.h"

/* Debug table versions this coscope reads. */
#define CS_CORUN_MIN_VERSION 1
#define CS_CORUN_MAX_VERSION 3

struct cs_corun_target {
    int pid;
    char comm[16]; /* the process's name (TASK_COMM_LEN), when opened */
    /* The module holding libcorun, as this process can open it (through /proc/PID/root)
     * and as the target maps it. */
    char module_path[PATH_MAX];
    char mapped_path[PATH_MAX];
    uint64_t load_bias;
    uint64_t table_addr;
    struct corun_debug table;
};

/*
 * Finds `symbol` (.dynsym first, then .symtab) in the modules mapped by `pid`; on success
 * *addr is its address in the target and module_path (if non-NULL) the module, opened
 * through /proc/PID/root. Returns 0, -ESRCH (no such process), -ENOENT (no module
 * defines it) or -EACCES/-EPERM (cannot read the process's maps).
 */
int cs_corun_find_symbol(int pid, const char *symbol, uint64_t *addr, char *module_path,
                         size_t module_path_len, char *mapped_path, size_t mapped_path_len);

/*
 * Opens the target: finds `corun_debug`, reads and validates the table. Returns 0, or
 *   -ESRCH   no such process (or it exited)
 *   -ENOENT  the process does not use libcorun (no `corun_debug` symbol)
 *   -EPERM   process_vm_readv / the maps refused (ptrace access)
 *   -EPROTO  a table this coscope cannot read (bad magic, unsupported version or layout)
 * with one human-readable line in `why` (without a "coscope:" prefix).
 */
int cs_corun_open(int pid, struct cs_corun_target *t, char *why, size_t why_len);

/*
 * Checks a debug table as read from a target (`len` bytes at its address, `raw`) and
 * translates it into this coscope's struct: version 1 (no task outcome; out->task.outcome
 * and .error are then 0 and meaningless) or 2. 0, or -EPROTO with one line in `why` (bad
 * magic, unsupported version, too small, offsets outside their structs).
 */
int cs_corun_parse_table(const void *raw, size_t len, struct corun_debug *out, char *why,
                         size_t why_len);

/* Decodes one task struct (`buf`, d->task.size bytes read at `addr`) through the table,
 * without its stats block. */
void cs_corun_decode_task(const struct corun_debug *d, const unsigned char *buf, uint64_t addr,
                          struct cs_task *out);

/*
 * Reads every loop and its tasks. Retries while the registry changes under it (odd or
 * moving generation) and, a bounded number of times, while a loop is switching tasks.
 * 0 (fill *out; free with cs_corun_snapshot_free), -ESRCH, -EPERM, -ENOMEM, -EPROTO.
 */
int cs_corun_snapshot(const struct cs_corun_target *t, struct cs_corun_snapshot *out);

/* Reads `len` bytes at `addr` in the target. 0, -ESRCH, -EPERM or -EFAULT. */
int cs_corun_read(int pid, uint64_t addr, void *buf, size_t len);

#endif
