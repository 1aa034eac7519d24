/*
 * check.h - the unit test harness.
 *
 * A suite is a table of named cases; a case passes when none of its CHECKs
 * failed. tests/unit/main.c lists the suites; `T=name` runs one.
 */
#ifndef TL_CHECK_H
#define TL_CHECK_H

#include <stdint.h>
#include <stdio.h>
#include <string.h>

struct tl_test {
    const char *name;
    void (*fn)(void);
};

struct tl_suite {
    const char *name;
    const struct tl_test *tests;
};

extern int tl_check_failed; /* checks failed in the current case */

void tl_check_report(const char *file, int line, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

#define CHECK(cond)                                                                                \
    do {                                                                                           \
        if (!(cond))                                                                               \
            tl_check_report(__FILE__, __LINE__, "CHECK(%s)", #cond);                               \
    } while (0)

#define CHECK_EQ(a, b)                                                                             \
    do {                                                                                           \
        unsigned long long va_ = (unsigned long long)(a), vb_ = (unsigned long long)(b);           \
        if (va_ != vb_)                                                                            \
            tl_check_report(__FILE__, __LINE__, "%s == %s: %llu != %llu", #a, #b, va_, vb_);       \
    } while (0)

#define CHECK_STR(a, b)                                                                            \
    do {                                                                                           \
        const char *sa_ = (a), *sb_ = (b);                                                         \
        if (!sa_ || !sb_ || strcmp(sa_, sb_) != 0)                                                 \
            tl_check_report(__FILE__, __LINE__, "%s == %s: \"%s\" != \"%s\"", #a, #b,              \
                            sa_ ? sa_ : "(null)", sb_ ? sb_ : "(null)");                           \
    } while (0)

/* Compares a length-delimited string view with a C string. */
#define CHECK_MEM(p, n, s)                                                                         \
    do {                                                                                           \
        const char *sp_ = (const char *)(p), *ss_ = (s);                                           \
        size_t sn_ = (n);                                                                          \
        if (sn_ != strlen(ss_) || (sn_ && memcmp(sp_, ss_, sn_) != 0))                             \
            tl_check_report(__FILE__, __LINE__, "%s == \"%s\": \"%.*s\"", #p, ss_, (int)sn_,       \
                            sp_ ? sp_ : "");                                                       \
    } while (0)

/* A heap copy of exactly n bytes, so ASan catches any read past the end. */
void *tl_test_dup(const void *p, size_t n);

#endif
