/* swap.c - see swap.h. */
#include "daemon/swap.h"

#include <stdbool.h>
#include <stdlib.h>

#include "auth/registry.h"

bool swap_init(struct swap *s, struct policy *first, size_t nslots)
{
    s->slots = calloc(nslots, sizeof(*s->slots));
    if (!s->slots)
        return false;
    s->nslots = nslots;
    for (size_t i = 0; i < nslots; i++)
        atomic_init(&s->slots[i], NULL);
    atomic_init(&s->current, first);
    s->retired = NULL;
    s->nretired = s->retired_cap = 0;
    return true;
}

void swap_destroy(struct swap *s)
{
    policy_free(atomic_exchange(&s->current, NULL));
    for (size_t i = 0; i < s->nretired; i++)
        policy_free(s->retired[i]);
    free(s->retired);
    free(s->slots);
    s->retired = NULL;
    s->slots = NULL;
    s->nretired = s->nslots = 0;
}

struct policy *swap_acquire(struct swap *s, size_t slot)
{
    struct policy *p;
    do {
        p = atomic_load(&s->current);
        atomic_store(&s->slots[slot], p);
        /* If a reload swapped `current` meanwhile, it may have read this slot too early. */
    } while (p != atomic_load(&s->current));
    return p;
}

void swap_release(struct swap *s, size_t slot)
{
    atomic_store(&s->slots[slot], NULL);
}

struct policy *swap_current(struct swap *s)
{
    return atomic_load(&s->current);
}

bool swap_publish(struct swap *s, struct policy *next)
{
    if (s->nretired == s->retired_cap) {
        size_t cap = s->retired_cap ? 2 * s->retired_cap : 4;
        struct policy **r = realloc(s->retired, cap * sizeof(*r));
        if (!r)
            return false;
        s->retired = r;
        s->retired_cap = cap;
    }
    s->retired[s->nretired++] = atomic_exchange(&s->current, next);
    return true;
}

static bool held(struct swap *s, const struct policy *p)
{
    for (size_t i = 0; i < s->nslots; i++)
        if (atomic_load(&s->slots[i]) == p)
            return true;
    return false;
}

size_t swap_reclaim(struct swap *s)
{
    size_t kept = 0;
    for (size_t i = 0; i < s->nretired; i++) {
        if (held(s, s->retired[i]))
            s->retired[kept++] = s->retired[i];
        else
            policy_free(s->retired[i]);
    }
    s->nretired = kept;
    return kept;
}
