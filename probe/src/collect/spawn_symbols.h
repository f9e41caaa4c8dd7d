/*
 * The live source's spawn site names: symbolizes the spawn addresses of a libcorun
 * snapshot into a spawn_sites table (model/spawn_sites.h), each address once, for the
 * tasks screen's SPAWN SITE column (the screens never symbolize).
 */
#ifndef CS_SPAWN_SYMBOLS_H
#define CS_SPAWN_SYMBOLS_H

struct cs_corun_snapshot;
struct cs_spawn_sites;

/*
 * Names the spawn addresses of `snap` (of process `pid`) not seen before and returns the
 * table, or NULL (no snapshot, or out of memory). One table per process: a new pid
 * starts a new one. Cheap for a snapshot already seen.
 */
const struct cs_spawn_sites *cs_spawn_symbols_update(int pid, const struct cs_corun_snapshot *snap);

/* Frees the table and the symbolizer (at exit; optional). */
void cs_spawn_symbols_release(void);

#endif
