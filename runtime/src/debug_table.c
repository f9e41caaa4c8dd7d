/*
 * The loop registry and the debug table `corun_debug` (corun_debug.h): how an outside
 * reader finds loops and tasks and the offsets of their fields.
 */
#include <pthread.h>
#include <stddef.h>

#include "internal.h"

static pthread_mutex_t registry_lock = PTHREAD_MUTEX_INITIALIZER;

/* Written under registry_lock; read racily by other processes (generation says when). */
static struct corun_registry registry;

static void bump_generation(void)
{
    __atomic_store_n(&registry.generation, registry.generation + 1, __ATOMIC_RELEASE);
}

void co__registry_add(struct co_loop *loop)
{
    pthread_mutex_lock(&registry_lock);
    bump_generation(); /* odd: change in progress */
    loop->next_loop = (struct co_loop *)(uintptr_t)registry.first_loop;
    registry.first_loop = (uint64_t)(uintptr_t)loop;
    registry.loop_count++;
    bump_generation();
    pthread_mutex_unlock(&registry_lock);
}

void co__registry_remove(struct co_loop *loop)
{
    pthread_mutex_lock(&registry_lock);
    bump_generation();
    struct co_loop *prev = NULL;
    for (struct co_loop *l = (struct co_loop *)(uintptr_t)registry.first_loop; l;
         prev = l, l = l->next_loop) {
        if (l != loop)
            continue;
        if (prev)
            prev->next_loop = loop->next_loop;
        else
            registry.first_loop = (uint64_t)(uintptr_t)loop->next_loop;
        registry.loop_count--;
        break;
    }
    bump_generation();
    pthread_mutex_unlock(&registry_lock);
}

#define LOFF(f) ((uint32_t)offsetof(struct co_loop, f))
#define TOFF(f) ((uint32_t)offsetof(struct co_task, f))
#define SOFF(f) ((uint32_t)offsetof(struct co__task_stats, f))

__attribute__((visibility("default"))) const struct corun_debug corun_debug = {
    .magic = {'C', 'O', 'R', 'U', 'N', 'D', 'B', 'G'},
    .version = CORUN_DEBUG_VERSION,
    .size = sizeof(struct corun_debug),
    .registry = (uint64_t)(uintptr_t)&registry,
    .hist_buckets = CORUN_LL_BUCKETS,
    .pointer_size = sizeof(void *),
    .loop =
        {
            .size = sizeof(struct co_loop),
            .id = LOFF(id),
            .tid = LOFF(tid),
            .state = LOFF(state),
            .current_task = LOFF(current),
            .slice_seq = LOFF(slice_seq),
            .slice_start_ns = LOFF(slice_start_ns),
            .iter_start_ns = LOFF(iter_start_ns),
            .iterations = LOFF(iterations),
            .busy_ns = LOFF(busy_ns),
            .poll_wait_ns = LOFF(poll_wait_ns),
            .ready_count = LOFF(ready_count),
            .task_count = LOFF(task_count),
            .first_task = LOFF(first_task),
            .next_loop = LOFF(next_loop),
            .sched_hist = LOFF(sched_hist),
            .iter_hist = LOFF(iter_hist),
            .top_slices = LOFF(top_slices),
            .top_count = LOFF(top_count),
        },
    .task =
        {
            .size = sizeof(struct co_task),
            .id = TOFF(id),
            .parent_id = TOFF(parent_id),
            .loop = TOFF(loop),
            .name = TOFF(name),
            .name_size = CO_TASK_NAME_MAX,
            .state = TOFF(state),
            .wait_reason = TOFF(wait_reason),
            .wait_obj = TOFF(wait_obj),
            .waiting_since_ns = TOFF(waiting_since_ns),
            .awaited_task_id = TOFF(awaited_task_id),
            .spawn_pc = TOFF(spawn_pc),
            .created_ns = TOFF(created_ns),
            .next_task = TOFF(next_task),
            .stats = TOFF(stats),
            .outcome = TOFF(outcome),
            .error = TOFF(error),
        },
    .stats =
        {
            .size = sizeof(struct co__task_stats),
            .polls = SOFF(polls),
            .busy_ns = SOFF(busy_ns),
            .wakes = SOFF(wakes),
            .last_ready_ns = SOFF(last_ready_ns),
            .sched_hist = SOFF(sched_hist),
            .poll_hist = SOFF(poll_hist),
        },
    .loop_iter_max_ns = LOFF(iter_max_ns),
    .stats_hist_buckets = CORUN_HIST_BUCKETS,
};
