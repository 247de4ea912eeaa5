/* decisionlog.c - see decisionlog.h. */
#include "daemon/decisionlog.h"

#include <string.h>

#include "base/log.h"

/* The value as logged: printable, bounded, never able to forge a log line. */
static void loggable(const char *s, size_t len, char *out, size_t outlen)
{
    size_t o = 0;
    for (size_t i = 0; i < len && s && o + 4 < outlen; i++) {
        unsigned char c = (unsigned char)s[i];
        out[o++] = (c < 0x21 || c >= 0x7f) ? '?' : (char)c;
    }
    if (s && len > 0 && o + 4 >= outlen)
        memcpy(out + o, "...", 3), o += 3;
    out[o] = '\0';
}

void decisionlog_write(const struct request_view *v, const struct decision *d, bool responder,
                       double ms)
{
    enum log_level level = d->outcome == OUTCOME_ERROR ? LOG_LEVEL_WARN : LOG_LEVEL_INFO;
    if (!log_enabled(level))
        return;
    char path[300], id[80];
    loggable(v->path, v->path_len, path, sizeof(path));
    const char *rid = request_param(v->envp, "HTTP_X_REQUEST_ID");
    loggable(rid, rid ? strlen(rid) : 0, id, sizeof(id));
    log_msg(level,
            "decision role=%s path=%s middleware=%s status=%d auth_status=%d reason=\"%s\"%s%s%s "
            "ms=%.1f cache=%s request_id=%s",
            responder ? "responder" : "authorizer", *path ? path : "-", d->mw ? d->mw->name : "-",
            d->status, d->auth_status, d->reason, d->detail ? " detail=\"" : "",
            d->detail ? d->detail : "", d->detail ? "\"" : "", ms, cache_state_name(d->cache),
            *id ? id : "-");
}
