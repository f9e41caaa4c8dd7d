#include "spawn_sites.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

/* Open addressing at most half full: a lookup is a probe or two, per task row drawn. */
#define SLOTS (2 * CS_SPAWN_SITES_MAX)

struct site {
    uint64_t pc; /* 0: a free slot (a spawn pc is never 0) */
    bool named;
    char name[CS_SPAWN_SITES_NAME_LEN];
};

struct cs_spawn_sites {
    size_t count;
    struct site slots[SLOTS];
};

struct cs_spawn_sites *cs_spawn_sites_new(void)
{
    return calloc(1, sizeof(struct cs_spawn_sites));
}

void cs_spawn_sites_free(struct cs_spawn_sites *t)
{
    free(t);
}

static size_t slot_of(const struct cs_spawn_sites *t, uint64_t pc)
{
    size_t i = (size_t)((pc * 0x9e3779b97f4a7c15ull) >> 40) % SLOTS;
    while (t->slots[i].pc && t->slots[i].pc != pc)
        i = (i + 1) % SLOTS;
    return i;
}

bool cs_spawn_sites_known(const struct cs_spawn_sites *t, uint64_t pc)
{
    return t && pc && t->slots[slot_of(t, pc)].pc == pc;
}

const char *cs_spawn_sites_name(const struct cs_spawn_sites *t, uint64_t pc)
{
    if (!t || !pc)
        return NULL;
    const struct site *s = &t->slots[slot_of(t, pc)];
    return s->pc == pc && s->named ? s->name : NULL;
}

int cs_spawn_sites_set(struct cs_spawn_sites *t, uint64_t pc, const char *name)
{
    if (!pc)
        return -EINVAL;
    struct site *s = &t->slots[slot_of(t, pc)];
    if (s->pc != pc) {
        if (t->count == CS_SPAWN_SITES_MAX)
            return -ENOSPC;
        s->pc = pc;
        t->count++;
    }
    s->named = name != NULL;
    if (name)
        snprintf(s->name, sizeof s->name, "%s", name);
    return 0;
}

size_t cs_spawn_sites_count(const struct cs_spawn_sites *t)
{
    return t ? t->count : 0;
}
