/*
 * tally.h - private to export/: what a summary counts (tally.c) and what its
 * two writers read (summary.c: text; report.c: HTML).
 *
 * Tables are bounded string maps; time series share one grid of
 * TALLY_BUCKETS buckets whose width doubles (buckets merging in pairs)
 * whenever an event falls outside it, so a series costs the same for a
 * minute of traffic or a year.
 */
#ifndef TL_EXPORT_TALLY_H
#define TL_EXPORT_TALLY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "summary.h"

enum {
    TALLY_BUCKETS = 96,  /* time buckets of every series */
    TALLY_SERIES = 12,   /* traffic series by protocol; later protocols go to "other" */
    TALLY_LEVELS = 6,    /* alert levels: critical, high, medium, low, informational, other */
    TALLY_TYPES = 24,    /* event types counted by name; later ones go to "other" */
    TALLY_LIST = 8,      /* names kept per row (hosts, users, services) */
    TALLY_PROBLEMS = 64, /* problem counters kept from the last stats event */
    TALLY_NAME = 256,    /* longest name kept (longer ones are cut on a character boundary) */
};

/* A few distinct names, and how many distinct ones did not fit. */
struct tally_list {
    char *v[TALLY_LIST];
    unsigned n;
    uint64_t more;
};

/* Counters of one row, by table. */
enum { T_BYTES, T_FLOWS };                                  /* talkers */
enum { T_REQ30, T_REQ24, T_HOSTS30, T_HOSTS24, T_USERS30 }; /* domains */
enum { T_ALERTS };                                          /* rules */
enum {
    T_AS_OK,
    T_AS_FAIL,
    T_TGS_OK,
    T_TGS_FAIL,
    T_BIND_OK,
    T_BIND_FAIL,
    T_LDAP_OPS
}; /* principals */
enum { TALLY_COUNTERS = 7 };

struct tally_row {
    char *key;
    uint64_t c[TALLY_COUNTERS];
    double freq, prevalence; /* domains: frequency index (NAN when absent), prevalence */
    bool is_new;             /* domains */
    uint64_t first_us, last_us;
    char level[16];         /* rules: the rule's level */
    struct tally_list a, b; /* talkers: -; domains: hosts, users; rules: hosts, -;
                               principals: hosts, services */
};

struct tally_map {
    struct tally_row **slot; /* open addressing, linear probing; 2x cap slots */
    size_t nslots, n, cap;
    uint64_t capped; /* rows not added: the map was full */
};

struct tally_grid {
    uint64_t origin_us, width_us; /* width 0: no event yet */
};

struct tally_type {
    char name[24];
    uint64_t events, truncated, malformed;
};

struct tally_problem {
    char name[64];
    uint64_t value;
};

/* The levels' names, in lane order. */
extern const char *const tally_level_names[TALLY_LEVELS];

struct tl_summary {
    uint64_t lines, unread;                   /* lines seen; lines that were not one JSON event */
    uint64_t first_us, last_us;               /* event time covered, when lines > unread */
    struct tally_type types[TALLY_TYPES + 1]; /* the last is "other" */
    size_t ntypes;
    struct tally_map talkers, domains, rules, principals, ldap_flows;
    struct tally_grid grid;
    char series[TALLY_SERIES + 1][24]; /* protocol names; the last is "other" */
    size_t nseries;
    double traffic[TALLY_SERIES + 1][TALLY_BUCKETS];
    double alerts[TALLY_LEVELS][TALLY_BUCKETS];
    uint64_t alerts_by_level[TALLY_LEVELS];
    /* the last stats event */
    bool have_stats;
    uint64_t packets, bytes, flows, events, schema_version;
    struct tally_problem problems[TALLY_PROBLEMS];
    size_t nproblems;
    uint64_t problems_more;
};

/* The rows of m, best first by cmp, into out (at most max); their count. */
size_t tally_top(const struct tally_map *m, int (*cmp)(const void *, const void *),
                 const struct tally_row **out, size_t max);
int tally_by_bytes(const void *a, const void *b);
int tally_by_flows(const void *a, const void *b);
int tally_by_hosts(const void *a, const void *b);  /* domains: most hosts first */
int tally_by_rarity(const void *a, const void *b); /* domains: lowest frequency index first */
int tally_by_alerts(const void *a, const void *b); /* most severe level first, then count */
/* A level's index in tally_level_names; TALLY_LEVELS - 1 ("other") when unknown. */
size_t tally_level(const char *name);
int tally_by_activity(const void *a, const void *b); /* principals */
/* A principal's Kerberos and LDAP counts added up. */
uint64_t tally_activity(const struct tally_row *r);

/*
 * The next character of a name at p (n > 0 bytes left): its length in bytes (1 for a byte
 * that starts no valid UTF-8 sequence), and whether it must not be shown as it is: not valid
 * UTF-8, a C0 or C1 control, DEL, or a bidirectional override or isolate (it would reorder
 * what follows it).
 */
size_t tally_char(const unsigned char *p, size_t n, bool *unsafe);
/* 1234 -> "1234 B", 1234567 -> "1.2 MB" (decimal units). */
const char *tally_bytes(char out[16], uint64_t v);
/* "2026-12-06 18:31:36" (UTC). */
void tally_time(char out[32], uint64_t us);
/* "45 s", "3 min 5 s", "2 h 10 min", "3 d 4 h". */
void tally_span(char out[32], uint64_t us);

/* The start of bucket i. */
static inline uint64_t tally_bucket_us(const struct tl_summary *s, size_t i)
{
    return s->grid.origin_us + i * s->grid.width_us;
}

#endif
