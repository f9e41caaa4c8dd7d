/*
 * The stack allocator: mmap'd task stacks with a guard page, pooled per loop for reuse.
 *
 * A mapping is [guard page, PROT_NONE][stack ... grows down][task struct]. Pages are
 * committed by the kernel on first touch, so an idle task costs the page(s) its frames
 * touched plus the struct. Pooled mappings keep their committed pages.
 */
#ifndef CO_STACK_H
#define CO_STACK_H

#include <stddef.h>

struct co__stack_pool {
    void *first;  /* free mappings: a list of nodes kept in their top bytes */
    size_t count; /* how many are pooled */
    size_t limit; /* pool at most this many; the rest are unmapped */
};

/* The system page size (cached). */
size_t co__page_size(void);

/* A mapping of map_bytes (a multiple of the page size) with its lowest page a guard.
 * Returns NULL when out of memory or mappings. */
void *co__stack_alloc(struct co__stack_pool *pool, size_t map_bytes);
/* Returns a mapping to the pool (or unmaps it when the pool is full). */
void co__stack_free(struct co__stack_pool *pool, void *map, size_t map_bytes);
/* Unmaps every pooled mapping. */
void co__stack_pool_drain(struct co__stack_pool *pool);

#endif
