/* outcome.c - see outcome.h. */
#include "core/outcome.h"

static const char *const outcome_names[OUTCOME_COUNT] = {
    [OUTCOME_ALLOWED] = "allowed", [OUTCOME_UNPROTECTED] = "unprotected",
    [OUTCOME_DENIED] = "denied",   [OUTCOME_BAD_REQUEST] = "bad_request",
    [OUTCOME_ERROR] = "error",
};

static const char *const cause_names[CAUSE_COUNT] = {
    [CAUSE_NONE] = "none",           [CAUSE_CONNECT] = "connect",
    [CAUSE_TIMEOUT] = "timeout",     [CAUSE_TLS] = "tls",
    [CAUSE_MALFORMED] = "malformed", [CAUSE_TOO_LARGE] = "too_large",
    [CAUSE_TRANSPORT] = "transport", [CAUSE_STATUS] = "status",
    [CAUSE_ABANDONED] = "abandoned", [CAUSE_KEYS] = "keys",
    [CAUSE_BUSY] = "busy",
};

static const char *const cache_state_names[CACHE_STATE_COUNT] = {
    [CACHE_OFF] = "off",
    [CACHE_HIT] = "hit",
    [CACHE_MISS] = "miss",
    [CACHE_SHARED_HIT] = "shared",
};

const char *outcome_name(enum outcome o)
{
    return (unsigned)o < OUTCOME_COUNT ? outcome_names[o] : "?";
}

const char *cause_name(enum cause c)
{
    return (unsigned)c < CAUSE_COUNT ? cause_names[c] : "?";
}

const char *cache_state_name(enum cache_state s)
{
    return (unsigned)s < CACHE_STATE_COUNT ? cache_state_names[s] : "?";
}

enum outcome outcome_of_auth_status(int status)
{
    if (status >= 200 && status <= 299)
        return OUTCOME_ALLOWED;
    if (status == 401 || status == 403)
        return OUTCOME_DENIED;
    return OUTCOME_ERROR;
}

int outcome_http_status(enum outcome o, int denied_status)
{
    switch (o) {
    case OUTCOME_ALLOWED:
    case OUTCOME_UNPROTECTED:
        return 200;
    case OUTCOME_DENIED:
        /* 302: a denial that sends a browser to sign in (core/signin.h). */
        return denied_status == 403 || denied_status == 302 ? denied_status : 401;
    case OUTCOME_BAD_REQUEST:
        return 400;
    default:
        return 500;
    }
}
