/*
 * log.h - tapline's lines on stderr: one format, levels, rate limits.
 *
 * Every line is "tapline: [LEVEL: ]message", written whole (one write), so
 * lines from several threads never interleave. log.level hides what is less
 * important. A repeated complaint (a broker that stays down) goes through a
 * limit: at most one line per interval per key, and the next line says how
 * many were held back.
 */
#ifndef TL_LOG_H
#define TL_LOG_H

#include <stdint.h>

enum tl_log_level { TL_LOG_ERROR, TL_LOG_WARNING, TL_LOG_INFO, TL_LOG_DEBUG };

/* error, warning, info or debug; -1 for anything else. */
int tl_log_parse_level(const char *name);
void tl_log_set_level(enum tl_log_level lv);

void tl_log(enum tl_log_level lv, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/*
 * Like tl_log, but at most one line per `key` (a short text, e.g. a library's
 * facility) every TL_LOG_LIMIT_US; lines over the limit are counted and the
 * next one written says how many were suppressed. Thread-safe.
 */
enum { TL_LOG_LIMIT_US = 10000000 };
void tl_log_limited(const char *key, enum tl_log_level lv, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

#endif
