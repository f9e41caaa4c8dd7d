/* System call numbers ↔ names, and which calls are event-loop waits. */
#ifndef CS_SYSCALL_NAMES_H
#define CS_SYSCALL_NAMES_H

#include <stdbool.h>

/* The name of syscall `nr` ("read"); "(no syscall)" for CS_NO_SYSCALL, "syscall_N" if unknown. */
const char *cs_syscall_name(int nr, char *buf, int buf_len);

/* The wait calls that end a slice (cs_defs.h), by tracepoint name ("epoll_wait"). */
extern const char *const cs_wait_syscalls[];
extern const int cs_wait_syscall_count;

/* Is `nr` one of the wait calls? */
bool cs_syscall_is_wait(int nr);

#endif
