/*
 * swap.h - the policy new requests use, and its replacement by a reload without a lock.
 *
 * Workers publish the policy they are deciding with in a slot of their own (a hazard
 * pointer): taking the current policy is two atomic stores and loads, no lock and no shared
 * counter on the request path. A reload publishes a new policy and retires the old one; a
 * retired policy is freed by swap_reclaim once no slot holds it. Nobody waits for a request
 * in flight: the signal thread calls swap_reclaim again later (see lifecycle.c).
 *
 * Threads: swap_acquire and swap_release from the worker owning the slot; swap_publish and
 * swap_reclaim from one thread only (the signal thread).
 */
#ifndef AUTHZ_SWAP_H
#define AUTHZ_SWAP_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>

#include "core/policy.h"

struct swap {
    _Atomic(struct policy *) current;
    _Atomic(struct policy *) *slots; /* one per worker: what it decides with, or NULL */
    size_t nslots;
    struct policy **retired; /* replaced, maybe still held */
    size_t nretired, retired_cap;
};

/* A swap serving `first` with nslots worker slots; false if out of memory. */
bool swap_init(struct swap *s, struct policy *first, size_t nslots);

/* Frees the current and every retired policy; call when no worker runs any more. */
void swap_destroy(struct swap *s);

/* The policy for slot's next request; valid until swap_release(s, slot). */
struct policy *swap_acquire(struct swap *s, size_t slot);
void swap_release(struct swap *s, size_t slot);

/* The current policy (for the signal thread, which replaces it). */
struct policy *swap_current(struct swap *s);

/* Makes next the policy new requests use and retires the previous one. False if out of
 * memory (then nothing changed and next is still the caller's). */
bool swap_publish(struct swap *s, struct policy *next);

/* Frees the retired policies no slot holds; returns how many are still held. */
size_t swap_reclaim(struct swap *s);

#endif
