/* The executor's internal entry point, for the I/O layer's own blocking helpers. */
#ifndef CO_EXECUTOR_H
#define CO_EXECUTOR_H

#include "internal.h"

/*
 * co_to_thread with a clean-up for a job whose result nobody takes: whenever this returns
 * an error, abandoned(arg, result) is called exactly once — at once if the job never ran
 * or already finished, else on the worker thread when it is done with it (so arg
 * can be heap memory the job owns). On success it is not called. May be NULL.
 */
int co__to_thread(intptr_t (*fn)(void *arg), void *arg,
                  void (*abandoned)(void *arg, intptr_t result), intptr_t *result);

#endif
