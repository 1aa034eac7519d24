/*
 * ac.h - Aho-Corasick matching of many literal patterns in one pass (private to detect/).
 *
 * Every literal pattern rules test on one field (exact values, prefixes,
 * suffixes, substrings) goes into one automaton; a pass over a value reports
 * each pattern found with its anchoring already checked, so the cost per
 * value does not grow with the number of rules. An automaton built to fold
 * reads ASCII capitals as small letters (its patterns must be lowered).
 */
#ifndef TL_AC_H
#define TL_AC_H

#include <stddef.h>
#include <stdint.h>

enum ac_anchor {
    AC_CONTAINS = 0,
    AC_PREFIX = 1,                    /* must start the value */
    AC_SUFFIX = 2,                    /* must end the value */
    AC_EXACT = AC_PREFIX | AC_SUFFIX, /* must be the whole value */
};

struct ac_build;
struct ac;

struct ac_build *ac_build_new(int fold);
/* Adds a pattern (len > 0) reported as id; -1 when memory runs out. */
int ac_add(struct ac_build *b, const uint8_t *pat, size_t len, uint32_t id, enum ac_anchor anchor);
/* The automaton (NULL when memory runs out); frees b either way. */
struct ac *ac_finish(struct ac_build *b);
void ac_free(struct ac *a);

typedef void (*ac_hit_fn)(void *arg, uint32_t id);
/* Calls hit once per occurrence (id may repeat) of each pattern whose anchoring holds. */
void ac_scan(const struct ac *a, const uint8_t *text, size_t len, ac_hit_fn hit, void *arg);

#endif
