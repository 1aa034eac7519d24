/*
 * jsonread.h - private to export/: a small strict JSON reader (RFC 8259) for
 * lines read back (the summary sink sees every line written).
 *
 * Nothing is trusted: tl_jread_object() accepts a text only when all of it is
 * one JSON object (whitespace around it allowed): strings with valid escapes
 * and valid UTF-8 (RFC 3629: no overlongs, no surrogates, nothing past
 * U+10FFFF; \u escapes likewise, surrogates only in pairs), no control
 * characters, numbers in RFC 8259's grammar, nesting at most TL_JREAD_DEPTH
 * deep. Values are views into the text: nothing is allocated, and every byte
 * is read through a cursor (include/cursor.h).
 */
#ifndef TL_EXPORT_JSONREAD_H
#define TL_EXPORT_JSONREAD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cursor.h"

enum { TL_JREAD_DEPTH = 64 };

enum tl_jkind { TL_J_NULL, TL_J_FALSE, TL_J_TRUE, TL_J_NUM, TL_J_STR, TL_J_ARR, TL_J_OBJ };

/* A value: its kind and its text (a string's with its quotes, an object's with its braces). */
struct tl_jval {
    enum tl_jkind kind;
    struct tl_str text;
};

/* The object that is all of p[0..n); false when the text is anything else. */
bool tl_jread_object(const char *p, size_t n, struct tl_jval *obj);

/* Each member of an object (key and value) or element of an array, in order, from a value
 * tl_jread_object() returned or one inside it; fn returns false to stop. */
typedef bool (*tl_jmember_fn)(void *arg, const struct tl_jval *key, const struct tl_jval *val);
typedef bool (*tl_jelem_fn)(void *arg, const struct tl_jval *val);
void tl_jread_members(const struct tl_jval *obj, tl_jmember_fn fn, void *arg);
void tl_jread_elements(const struct tl_jval *arr, tl_jelem_fn fn, void *arg);

/*
 * One pass over a text that should be one object: fn sees each member as it is read (its
 * return is ignored), and the result says whether all of the text was one object. When it
 * is false, fn may have seen members before the fault: act on them only after true.
 */
bool tl_jread_each(const char *p, size_t n, struct tl_jval *obj, tl_jmember_fn fn, void *arg);

/*
 * A string's text, unescaped, into out (NUL-terminated; cut to fit at a character
 * boundary, never mid-sequence). Returns the bytes written without the NUL; 0 for a
 * value that is not a string. cap must be at least 1.
 */
size_t tl_jread_str(const struct tl_jval *v, char *out, size_t cap);
/* Whether the value is the string s (unescaped). */
bool tl_jread_streq(const struct tl_jval *v, const char *s);
/* A number that is a non-negative integer below 2^64 (no fraction, no exponent). */
bool tl_jread_u64(const struct tl_jval *v, uint64_t *out);
/* Any number. */
bool tl_jread_f64(const struct tl_jval *v, double *out);
/* A string "YYYY-MM-DDTHH:MM:SS[.ffffff]Z" (what tapline writes) as microseconds since the
 * epoch; false for anything else, or a time before 1970 or after 9999. */
bool tl_jread_ts(const struct tl_jval *v, uint64_t *us);

#endif
