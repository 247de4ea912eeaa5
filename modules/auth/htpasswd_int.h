/*
 * htpasswd_int.h - what the unit tests see of htpasswd.c beyond its public API.
 */
#ifndef AUTHZ_HTPASSWD_INT_H
#define AUTHZ_HTPASSWD_INT_H

#include <stdint.h>

#include "auth/htpasswd.h"

/* The dummy hash that unknown users are checked against (NUL-terminated, owned by the table). */
const char *htpasswd_dummy_hash(const struct htpasswd_table *t);

/* How many password hashes this process has computed, for every table together. */
uint64_t htpasswd_hashes_computed(void);

#endif
