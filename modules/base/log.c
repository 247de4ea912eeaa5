/* log.c - see log.h. */
#include "base/log.h"

#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <syslog.h>
#include <unistd.h>

/* Atomic: a reload changes it while workers log. */
static _Atomic int current_level = LOG_LEVEL_WARN;

static _Atomic int current_target = LOG_TARGET_STDERR;

static const char *const level_names[] = {"error", "warn", "info", "debug"};
static const int syslog_priorities[] = {LOG_ERR, LOG_WARNING, LOG_INFO, LOG_DEBUG};

void log_set_target(enum log_target target)
{
    if (target == LOG_TARGET_SYSLOG)
        openlog("authorizer", LOG_PID | LOG_NDELAY, LOG_DAEMON);
    atomic_store(&current_target, (int)target);
}

int log_target_parse(const char *name)
{
    if (strcmp(name, "stderr") == 0)
        return LOG_TARGET_STDERR;
    if (strcmp(name, "syslog") == 0)
        return LOG_TARGET_SYSLOG;
    return -1;
}

void log_set_level(enum log_level level)
{
    atomic_store_explicit(&current_level, (int)level, memory_order_relaxed);
}

int log_enabled(enum log_level level)
{
    return (int)level <= atomic_load_explicit(&current_level, memory_order_relaxed);
}

int log_level_parse(const char *name)
{
    for (size_t i = 0; i < sizeof(level_names) / sizeof(level_names[0]); i++)
        if (strcmp(name, level_names[i]) == 0)
            return (int)i;
    return -1;
}

void log_msg(enum log_level level, const char *fmt, ...)
{
    if (!log_enabled(level))
        return;

    char line[2048];
    int n = snprintf(line, sizeof(line), "authorizer: %s: ", level_names[level]);
    va_list ap;
    va_start(ap, fmt);
    int m = vsnprintf(line + n, sizeof(line) - (size_t)n - 1, fmt, ap);
    va_end(ap);
    size_t len = (size_t)n + (m < 0 ? 0 : (size_t)m);
    if (len > sizeof(line) - 2)
        len = sizeof(line) - 2;
    /* Whatever was formatted, one log record is one line. */
    for (size_t i = (size_t)n; i < len; i++)
        if (line[i] == '\n' || line[i] == '\r')
            line[i] = ' ';
    if (atomic_load(&current_target) == LOG_TARGET_SYSLOG) {
        line[len] = '\0';
        syslog(syslog_priorities[level], "%s", line + strlen("authorizer: "));
        return;
    }
    line[len++] = '\n';
    ssize_t unused = write(STDERR_FILENO, line, len);
    (void)unused;
}
