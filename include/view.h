/*
 * view.h - an event's fields by name and their values, as rules read them.
 *
 * A view is a record with its event type (and, for dns, http and tls events,
 * the enrichment record of the type's `ext` table). A field's values are what
 * the JSON writer would write, unquoted: a field the writer leaves out has no
 * value (Sigma's null), a list has one value per element (a rule matches when
 * any element does), and every value has a text form (numbers in decimal,
 * times in RFC 3339, addresses as text) beside its typed form.
 */
#ifndef TL_VIEW_H
#define TL_VIEW_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "packet.h"
#include "schema.h"

enum tl_vkind { TL_V_STR, TL_V_NUM, TL_V_BOOL, TL_V_IP };

struct tl_value {
    uint8_t kind;    /* enum tl_vkind */
    struct tl_str s; /* text form: borrowed from the record, or in the tl_values text */
    double num;      /* NUM (TS: microseconds since the epoch; DUR: seconds), BOOL: 0 or 1 */
    struct tl_ip ip; /* IP */
};

/* Values of one or more fields; the text area holds formatted numbers and addresses. */
enum { TL_VALUES_MAX = 128, TL_VALUES_TEXT = 6144 };
struct tl_values {
    size_t n;
    size_t text_used;
    bool capped; /* a list had more elements than fit: the rest were not read */
    struct tl_value v[TL_VALUES_MAX];
    char text[TL_VALUES_TEXT];
};

static inline void tl_values_reset(struct tl_values *vs)
{
    vs->n = 0;
    vs->text_used = 0;
    vs->capped = false;
}

/* An event as rules see it. ext is the record behind type->ext (and its ext), or NULL. */
struct tl_view {
    const struct tl_event_type *type;
    const void *rec;
    const void *ext;
};

/* Where a field lives: the record or the enrichment record. */
struct tl_fref {
    const struct tl_field *f;
    bool in_ext;
};

/* The field of t (or of its ext tables) with this JSON name; false when t has none. */
bool tl_view_find(const struct tl_event_type *t, const char *name, struct tl_fref *out);

/* Appends the values of field f of rec to vs (nothing when the writer would omit it). */
void tl_field_values(const struct tl_field *f, const void *rec, struct tl_values *vs);

/* Appends the values of ref in v (nothing when its record is absent). */
void tl_view_values(const struct tl_view *v, struct tl_fref ref, struct tl_values *vs);

/* The bytes tl_record_clone_into needs for rec, a record of type t of size bytes. */
size_t tl_record_clone_size(const struct tl_event_type *t, const void *rec, size_t size);

/*
 * Copies rec together with everything its fields point to (strings, lists)
 * into dst (8-aligned, tl_record_clone_size bytes) and returns dst; pointers
 * that are not fields of t are left as they were and must not be read.
 */
void *tl_record_clone_into(const struct tl_event_type *t, const void *rec, size_t size, void *dst);

#endif
