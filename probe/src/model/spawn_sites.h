/*
 * Names of task spawn sites: a spawner's return address (struct cs_task.spawn_pc) to
 * "main_task (stallgen.c:279)". A source fills the table (live: collect/spawn_symbols.h,
 * which symbolizes each new address once); the screens only read it, so they never
 * symbolize, and a replay without names shows raw addresses rather than names looked
 * up in whatever process has that pid now. Bounded: past CS_SPAWN_SITES_MAX addresses
 * new ones stay unnamed.
 */
#ifndef CS_SPAWN_SITES_H
#define CS_SPAWN_SITES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define CS_SPAWN_SITES_MAX      1024
#define CS_SPAWN_SITES_NAME_LEN 96

struct cs_spawn_sites;

struct cs_spawn_sites *cs_spawn_sites_new(void);
void cs_spawn_sites_free(struct cs_spawn_sites *t);

/* Whether `pc` was looked up (named or found to have no name). */
bool cs_spawn_sites_known(const struct cs_spawn_sites *t, uint64_t pc);
/* The name of `pc`; NULL when not known (not looked up, no symbol, or the table full). */
const char *cs_spawn_sites_name(const struct cs_spawn_sites *t, uint64_t pc);
/* Records what `pc` is called (NULL: looked up, no name). 0, or -ENOSPC when full. */
int cs_spawn_sites_set(struct cs_spawn_sites *t, uint64_t pc, const char *name);
size_t cs_spawn_sites_count(const struct cs_spawn_sites *t);

#endif
