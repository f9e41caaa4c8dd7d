/*
 * The in-memory model: loops (threads) and their stalls, and the counters of
 * lost and suppressed events. The collector fills it; outputs (JSON, text, and
 * later the viewer and the recorder) read it. No BPF types in here.
 */
#ifndef CS_MODEL_H
#define CS_MODEL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define CS_MODEL_COMM_LEN     16
#define CS_MODEL_MAX_SYSCALLS 8

/* What kind of code a frame is in. */
enum cs_frame_kind {
    CS_FRAME_NATIVE = 0, /* a function of a mapped file (ELF symbol) */
    CS_FRAME_INLINE = 1, /* a function the compiler inlined into the next frame (DWARF) */
    CS_FRAME_JIT = 2,    /* code in anonymous executable memory, named by a perf map */
};

/* The word for it in every output: "native", "inline", "jit". */
const char *cs_frame_kind_name(enum cs_frame_kind kind);

/* One symbolized frame. Strings may be NULL where unknown. Symbols are demangled (C++,
 * Rust) as perf shows them. */
struct cs_frame {
    uint64_t addr;
    const char *symbol;
    uint64_t offset; /* addr - start of symbol */
    const char *module;
    const char *file;
    int line; /* 0: unknown */
    enum cs_frame_kind kind;
};

/* A user stack, innermost frame first, and how many times it was seen. */
struct cs_stack {
    unsigned count;
    unsigned nframes;
    struct cs_frame *frames;
};

/* Time a stall spent blocked in one system call. */
struct cs_syscall_time {
    char name[32];
    unsigned count;
    uint64_t total_ns;
};

/* How a stall's start is known. */
enum cs_stall_start {
    CS_STALL_START_SEEN = 0,     /* seen: the loop thread left its wait call then */
    CS_STALL_START_LAST_RAN = 1, /* began before attach; blocked since it last ran */
    CS_STALL_START_ATTACH = 2,   /* began before attach; at least since attach */
};

/* The word for it in every output: "seen", "last_ran", "attach". */
const char *cs_stall_start_name(enum cs_stall_start start);

struct cs_stall {
    int pid;
    int tid;
    char comm[CS_MODEL_COMM_LEN];
    uint64_t seq;      /* slice number on this thread: (tid, seq) names a stall */
    uint64_t start_ns; /* CLOCK_MONOTONIC */
    uint64_t duration_ns;
    bool ongoing;    /* still in progress (duration so far) */
    bool unfinished; /* a final record of a stall still going when coscope stopped */
    enum cs_stall_start start;
    const char *task; /* the task that ran, NULL for a foreign loop */
    uint64_t task_id; /* with `task`: the libcorun task's id (corun_attribution.h) */
    uint64_t on_cpu_ns;
    uint64_t off_cpu_ns;
    unsigned nsyscalls;
    struct cs_syscall_time syscalls[CS_MODEL_MAX_SYSCALLS];
    unsigned nstacks; /* most frequent first; stacks[0] is "the" stack */
    struct cs_stack *stacks;
};

struct cs_loop {
    int tid;
    char comm[CS_MODEL_COMM_LEN];
    uint64_t stalls;
};

struct cs_model;

struct cs_model *cs_model_new(int pid);
void cs_model_free(struct cs_model *m);

/* Adds a loop thread (idempotent). Returns 0 or -ENOMEM. */
int cs_model_add_loop(struct cs_model *m, int tid, const char *comm);
size_t cs_model_loop_count(const struct cs_model *m);
const struct cs_loop *cs_model_loop(const struct cs_model *m, size_t i);

/*
 * Records a stall record (deep-copied). Final records (ongoing=false) are counted;
 * the model keeps the most recent final stalls for readers. 0 or -ENOMEM.
 */
int cs_model_add_stall(struct cs_model *m, const struct cs_stall *s);
size_t cs_model_recent_count(const struct cs_model *m);
const struct cs_stall *cs_model_recent(const struct cs_model *m, size_t i); /* 0 = oldest */

uint64_t cs_model_stalls(const struct cs_model *m);
void cs_model_set_lost(struct cs_model *m, uint64_t lost_events);
uint64_t cs_model_lost(const struct cs_model *m);
void cs_model_add_suppressed(struct cs_model *m, uint64_t n);
uint64_t cs_model_suppressed(const struct cs_model *m);

/* Frees what cs_stall_copy allocated. */
void cs_stall_release(struct cs_stall *s);
/* Deep copy of `src` into `dst`. 0 or -ENOMEM. */
int cs_stall_copy(struct cs_stall *dst, const struct cs_stall *src);

/* What held the loop in a stall: "CPU", the system call it blocked in longest (when that
 * call is a fair share of the off-CPU time), or "off-CPU" (preemption, faults). */
const char *cs_stall_cause(const struct cs_stall *s);

#endif
