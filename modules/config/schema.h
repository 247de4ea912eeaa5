/*
 * schema.h - what a configuration may say: every setting as a table row (settings.h), the
 * checks across settings, and the names the authorizer reserves.
 *
 * A new setting is one row in a table here (and a line in the README and authorizer.conf(5):
 * a test checks that every row is documented).
 */
#ifndef AUTHZ_SCHEMA_H
#define AUTHZ_SCHEMA_H

#include <libconfig.h>

#include "config/config.h"
#include "config/settings.h"

/* Fills cfg from the root setting of a parsed file. */
int schema_load(struct loader *ld, const config_setting_t *root, struct config *cfg);

#endif
