/*
 * Detaching BPF links fast. Closing a uprobe (USDT) or a perf-event link waits for an RCU
 * grace period in the kernel (~100 ms each on a loaded machine, measured: docs/stalls.md);
 * one after the other they add up, concurrently the waits overlap.
 */
#ifndef CS_LINK_TEARDOWN_H
#define CS_LINK_TEARDOWN_H

#include <stddef.h>

struct bpf_link;

/* Destroys links[0..n) concurrently (NULL entries skipped) and sets them to NULL. */
void cs_links_destroy(struct bpf_link **links, size_t n);

/* Runs fn(arg) on a thread of its own; cs_teardown_join waits for it. Without a thread
 * (pthread_create failed) fn runs at once. */
struct cs_teardown;
struct cs_teardown *cs_teardown_start(void (*fn)(void *), void *arg);
void cs_teardown_join(struct cs_teardown *t);

#endif
