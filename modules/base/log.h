/*
 * log.h - leveled logging to stderr or syslog.
 *
 * The web servers that spawn or front the authorizer capture its stderr into their own
 * error log, so stderr is the default. Each line is written with a single write(2) so lines
 * from concurrent workers never interleave; a record never spans two lines.
 */
#ifndef AUTHZ_LOG_H
#define AUTHZ_LOG_H

enum log_level { LOG_LEVEL_ERROR = 0, LOG_LEVEL_WARN, LOG_LEVEL_INFO, LOG_LEVEL_DEBUG };

enum log_target { LOG_TARGET_STDERR = 0, LOG_TARGET_SYSLOG };

/* Where lines go: stderr (default) or syslog (facility daemon, ident "authorizer"). */
void log_set_target(enum log_target target);

/* Parses "stderr" or "syslog"; returns -1 for anything else. */
int log_target_parse(const char *name);

/* Sets the most verbose level that is written; safe while workers log (a reload). */
void log_set_level(enum log_level level);

/* Whether a line at this level would be written; lets callers skip building it. */
int log_enabled(enum log_level level);

/* Parses "error", "warn", "info" or "debug"; returns -1 for anything else. */
int log_level_parse(const char *name);

/* Writes one line: "authorizer: LEVEL: message". The message must not end in a newline. */
void log_msg(enum log_level level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#define log_error(...) log_msg(LOG_LEVEL_ERROR, __VA_ARGS__)
#define log_warn(...) log_msg(LOG_LEVEL_WARN, __VA_ARGS__)
#define log_info(...) log_msg(LOG_LEVEL_INFO, __VA_ARGS__)
#define log_debug(...) log_msg(LOG_LEVEL_DEBUG, __VA_ARGS__)

#endif
