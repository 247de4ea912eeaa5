/*
 * htpasswd_int.h - what the unit tests see of htpasswd.c beyond its public API.
 */
#ifndef AUTHZ_HTPASSWD_INT_H
#define AUTHZ_HTPASSWD_INT_H

#include <stdint.h>

#include "auth/htpasswd.h"

/* The dummy hash that unknown users are checked against (NUL-terminated, owned by the table). */
const char *htpasswd_dummy_hash(const struct htpasswd_table *t);


#endif
