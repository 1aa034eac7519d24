/*
 * check.c - the unit test runner: runs the suites in tests/unit/main.c and ends
 * with "N passed, N failed".
 */
#include <stdarg.h>
#include <stdlib.h>

#include "check.h"

int tl_check_failed;

void tl_check_report(const char *file, int line, const char *fmt, ...)
{
    va_list ap;
    tl_check_failed++;
    fprintf(stderr, "  %s:%d: ", file, line);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
}

void *tl_test_dup(const void *p, size_t n)
{
    void *q = malloc(n ? n : 1);
    if (!q)
        abort();
    if (n)
        memcpy(q, p, n);
    return q;
}
