/*
 * The live source's spawn site names: symbolizes the spawn addresses of a libcorun
 * snapshot into a spawn_sites table (model/spawn_sites.h), each address once, for the
 * tasks screen's SPAWN SITE column (the screens never symbolize).
 */
#ifndef CS_SPAWN_SYMBOLS_H
#define CS_SPAWN_SYMBOLS_H

struct cs_corun_snapshot;
struct cs_spawn_sites;

struct cs_spawn_symbols;

/* The names of process `pid`'s spawn sites: NULL if out of memory. */
struct cs_spawn_symbols *cs_spawn_symbols_new(int pid);
void cs_spawn_symbols_free(struct cs_spawn_symbols *st);

/* Names the spawn addresses of `snap` not seen before (each once; cheap for a snapshot
 * already seen) and returns the table (NULL: `st` is NULL). */
const struct cs_spawn_sites *cs_spawn_symbols_update(struct cs_spawn_symbols *st,
                                                     const struct cs_corun_snapshot *snap);
/* The table as it is. */
const struct cs_spawn_sites *cs_spawn_symbols_sites(const struct cs_spawn_symbols *st);

#endif
