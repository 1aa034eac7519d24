/*
 * log.c - lines on stderr (see log.h).
 *
 * The limiter keeps a small table of keys (a librdkafka facility, a sink's
 * name); when it is full the oldest key is reused, so it never grows.
 */
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "log.h"

enum { LOG_KEYS = 32, LOG_KEY_LEN = 32, LOG_LINE = 1024 };

static _Atomic int log_level = TL_LOG_INFO;

static const char *const log_names[] = { "error", "warning", "info", "debug" };

struct log_key {
    char key[LOG_KEY_LEN];
    uint64_t last_us;    /* when a line was last written */
    uint64_t suppressed; /* lines held back since */
};

static struct {
    pthread_mutex_t lock;
    struct log_key keys[LOG_KEYS];
} log_limits = { PTHREAD_MUTEX_INITIALIZER, { { "", 0, 0 } } };

int tl_log_parse_level(const char *name)
{
    for (int i = 0; i < 4; i++)
        if (name && strcasecmp(name, log_names[i]) == 0)
            return i;
    return -1;
}

void tl_log_set_level(enum tl_log_level lv)
{
    atomic_store(&log_level, (int)lv);
}

static uint64_t log_now_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

/* Formats and writes one line in a single write(2); info lines carry no level word. */
__attribute__((format(printf, 3, 0))) static void
log_write(enum tl_log_level lv, const char *suffix, const char *fmt, va_list ap)
{
    char line[LOG_LINE];
    int n = snprintf(line, sizeof(line), "tapline: %s%s", lv == TL_LOG_INFO ? "" : log_names[lv],
                     lv == TL_LOG_INFO ? "" : ": ");
    if (n < 0)
        return;
    int m = vsnprintf(line + n, sizeof(line) - (size_t)n, fmt, ap);
    if (m < 0)
        return;
    size_t len =
        (size_t)n + (size_t)m < sizeof(line) - 64 ? (size_t)n + (size_t)m : sizeof(line) - 64;
    len += (size_t)snprintf(line + len, sizeof(line) - len, "%s\n", suffix);
    if (len > sizeof(line) - 1)
        len = sizeof(line) - 1;
    ssize_t w = write(STDERR_FILENO, line, len);
    (void)w; /* nowhere left to say that stderr failed */
}

void tl_log(enum tl_log_level lv, const char *fmt, ...)
{
    va_list ap;
    if ((int)lv > atomic_load(&log_level))
        return;
    va_start(ap, fmt);
    log_write(lv, "", fmt, ap);
    va_end(ap);
}

void tl_log_limited(const char *key, enum tl_log_level lv, const char *fmt, ...)
{
    char suffix[64] = "";
    va_list ap;
    uint64_t now = log_now_us();
    if ((int)lv > atomic_load(&log_level))
        return;
    pthread_mutex_lock(&log_limits.lock);
    struct log_key *k = NULL, *oldest = &log_limits.keys[0];
    for (int i = 0; i < LOG_KEYS && !k; i++) {
        struct log_key *e = &log_limits.keys[i];
        if (strncmp(e->key, key, LOG_KEY_LEN - 1) == 0 && e->key[0])
            k = e;
        else if (e->last_us < oldest->last_us)
            oldest = e;
    }
    if (!k) {
        k = oldest;
        snprintf(k->key, sizeof(k->key), "%s", key);
        k->last_us = 0;
        k->suppressed = 0;
    }
    bool write_now = !k->last_us || now - k->last_us >= TL_LOG_LIMIT_US;
    if (write_now) {
        if (k->suppressed)
            snprintf(suffix, sizeof(suffix), " (%llu similar line(s) suppressed)",
                     (unsigned long long)k->suppressed);
        k->last_us = now;
        k->suppressed = 0;
    } else {
        k->suppressed++;
    }
    pthread_mutex_unlock(&log_limits.lock);
    if (!write_now)
        return;
    va_start(ap, fmt);
    log_write(lv, suffix, fmt, ap);
    va_end(ap);
}
