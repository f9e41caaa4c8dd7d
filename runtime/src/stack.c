/* mmap'd, guarded, pooled task stacks (see stack.h). */
#include <stdint.h>
#include <sys/mman.h>
#include <unistd.h>

#include "stack.h"

/*
 * A pooled mapping is described by a node in its highest bytes: the page the task struct
 * lives in, committed anyway, so pooling commits nothing new.
 */
struct pool_node {
    struct pool_node *next;
    void *map;
    size_t map_bytes;
};

static struct pool_node *node_of(void *map, size_t map_bytes)
{
    return (struct pool_node *)((char *)map + map_bytes - sizeof(struct pool_node));
}

size_t co__page_size(void)
{
    static size_t page;
    if (!page)
        page = (size_t)sysconf(_SC_PAGESIZE);
    return page;
}

void *co__stack_alloc(struct co__stack_pool *pool, size_t map_bytes)
{
    /* Most tasks use the default size: the first pooled mapping usually fits. */
    for (struct pool_node **link = (struct pool_node **)&pool->first; *link;
         link = &(*link)->next) {
        struct pool_node *n = *link;
        if (n->map_bytes == map_bytes) {
            *link = n->next;
            pool->count--;
            return n->map;
        }
    }
    void *map = mmap(NULL, map_bytes, PROT_READ | PROT_WRITE,
                     MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE | MAP_STACK, -1, 0);
    if (map == MAP_FAILED)
        return NULL;
    if (mprotect(map, co__page_size(), PROT_NONE) != 0) {
        munmap(map, map_bytes);
        return NULL;
    }
    return map;
}

void co__stack_free(struct co__stack_pool *pool, void *map, size_t map_bytes)
{
    if (pool->count >= pool->limit) {
        munmap(map, map_bytes);
        return;
    }
    struct pool_node *n = node_of(map, map_bytes);
    n->map = map;
    n->map_bytes = map_bytes;
    n->next = pool->first;
    pool->first = n;
    pool->count++;
}

void co__stack_pool_drain(struct co__stack_pool *pool)
{
    struct pool_node *n = pool->first;
    while (n) {
        struct pool_node *next = n->next;
        munmap(n->map, n->map_bytes);
        n = next;
    }
    pool->first = NULL;
    pool->count = 0;
}
