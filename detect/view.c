/*
 * view.c - field values by schema, for rules and enrichment (see view.h).
 *
 * Values mirror the JSON writer (export/json.c): the same presence rules
 * (tl_field_present), the same text for times, durations and addresses, so a
 * rule written against the JSON an analyst sees matches the same text here.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "event.h"
#include "view.h"

bool tl_view_find(const struct tl_event_type *t, const char *name, struct tl_fref *out)
{
    for (int depth = 0; t && depth < 4; depth++, t = t->ext) {
        for (size_t i = 0; i < t->nfields; i++)
            if (strcmp(t->fields[i].name, name) == 0) {
                out->f = &t->fields[i];
                out->in_ext = depth > 0;
                return true;
            }
    }
    return false;
}

static struct tl_value *view_add(struct tl_values *vs, enum tl_vkind kind)
{
    if (vs->n >= TL_VALUES_MAX) {
        vs->capped = true;
        return NULL;
    }
    struct tl_value *v = &vs->v[vs->n++];
    memset(v, 0, sizeof(*v));
    v->kind = (uint8_t)kind;
    return v;
}

/* Room for n more bytes of text (n includes the NUL), or NULL. */
static char *view_text(struct tl_values *vs, size_t n)
{
    if (n > TL_VALUES_TEXT - vs->text_used) {
        vs->capped = true;
        return NULL;
    }
    return vs->text + vs->text_used;
}

static void view_str(struct tl_values *vs, const char *p, size_t n)
{
    struct tl_value *v = view_add(vs, TL_V_STR);
    if (v) {
        v->s.ptr = n ? p : "";
        v->s.len = n;
    }
}

/* A number and its text (len bytes and a NUL), copied into the text area. */
static void view_num(struct tl_values *vs, double num, const char *text, size_t len)
{
    char *t = view_text(vs, len + 1);
    struct tl_value *v = t ? view_add(vs, TL_V_NUM) : NULL;
    if (!v)
        return;
    memcpy(t, text, len + 1);
    vs->text_used += len + 1;
    v->s.ptr = t;
    v->s.len = len;
    v->num = num;
}

static void view_u64(struct tl_values *vs, uint64_t x)
{
    char tmp[TL_U64_TEXT];
    size_t n = tl_fmt_u64(tmp, x);
    view_num(vs, (double)x, tmp, n);
}

static void view_bool(struct tl_values *vs, bool b)
{
    struct tl_value *v = view_add(vs, TL_V_BOOL);
    if (v) {
        v->s.ptr = b ? "true" : "false";
        v->s.len = b ? 4 : 5;
        v->num = b;
    }
}

static void view_ip(struct tl_values *vs, const uint8_t ip[16])
{
    char *t = view_text(vs, TL_IP_TEXT);
    struct tl_value *v = t ? view_add(vs, TL_V_IP) : NULL;
    if (!v)
        return;
    size_t n = tl_fmt_ip(t, ip);
    vs->text_used += n + 1;
    v->s.ptr = t;
    v->s.len = n;
    memcpy(v->ip.b, ip, 16);
}

static void view_ts(struct tl_values *vs, uint64_t ts_us)
{
    char *t = view_text(vs, TL_TS_TEXT);
    struct tl_value *v = t ? view_add(vs, TL_V_STR) : NULL;
    if (!v)
        return;
    size_t n = tl_fmt_ts(t, ts_us);
    vs->text_used += n + 1;
    v->s.ptr = t;
    v->s.len = n;
    v->num = (double)ts_us;
}

/* Loads from the record with memcpy: tables give offsets, not alignment promises. */
#define VIEW_LOADER(name, type)                                                                    \
    static type name(const void *rec, size_t off)                                                  \
    {                                                                                              \
        type v;                                                                                    \
        memcpy(&v, (const char *)rec + off, sizeof(v));                                            \
        return v;                                                                                  \
    }
VIEW_LOADER(view_ld_bool, bool)
VIEW_LOADER(view_ld_u16, uint16_t)
VIEW_LOADER(view_ld_u32, uint32_t)
VIEW_LOADER(view_ld_u64, uint64_t)
VIEW_LOADER(view_ld_f64, double)
VIEW_LOADER(view_ld_str, struct tl_str)
VIEW_LOADER(view_ld_cstr, const char *)
VIEW_LOADER(view_ld_strlist, struct tl_strlist)

void tl_field_values(const struct tl_field *f, const void *rec, struct tl_values *vs)
{
    const uint8_t *p = (const uint8_t *)rec + f->off;
    char tmp[64];
    int n;

    if (!rec || !tl_field_present(f, rec))
        return;
    switch (f->type) {
    case TL_F_BOOL: view_bool(vs, view_ld_bool(rec, f->off)); break;
    case TL_F_U8: view_u64(vs, *p); break;
    case TL_F_U16: view_u64(vs, view_ld_u16(rec, f->off)); break;
    case TL_F_U32: view_u64(vs, view_ld_u32(rec, f->off)); break;
    case TL_F_U64: view_u64(vs, view_ld_u64(rec, f->off)); break;
    case TL_F_TS: view_ts(vs, view_ld_u64(rec, f->off)); break;
    case TL_F_DUR: {
        uint64_t us = view_ld_u64(rec, f->off);
        n = snprintf(tmp, sizeof(tmp), "%llu.%06llu", (unsigned long long)(us / 1000000),
                     (unsigned long long)(us % 1000000));
        view_num(vs, (double)us / 1e6, tmp, (size_t)n);
        break;
    }
    case TL_F_F64: {
        struct tl_buf b = { tmp, 0, sizeof(tmp) }; /* tl_json_f64 writes at most 24 bytes */
        double x = view_ld_f64(rec, f->off);
        tl_json_f64(&b, x);
        view_num(vs, x, tmp, b.len);
        break;
    }
    case TL_F_HEX32: {
        uint32_t x = view_ld_u32(rec, f->off);
        n = snprintf(tmp, sizeof(tmp), "0x%08x", x);
        view_num(vs, x, tmp, (size_t)n);
        break;
    }
    case TL_F_STR: {
        struct tl_str s = view_ld_str(rec, f->off);
        view_str(vs, s.ptr, s.len);
        break;
    }
    case TL_F_CSTR:
    case TL_F_RAWJSON: {
        const char *s = view_ld_cstr(rec, f->off);
        if (s)
            view_str(vs, s, strlen(s));
        break;
    }
    case TL_F_CHARS: view_str(vs, (const char *)p, strlen((const char *)p)); break;
    case TL_F_STATUS: {
        static const char *const status[] = { "ok", "truncated", "malformed" };
        const char *s = *p < TL_ARRAY_LEN(status) ? status[*p] : "malformed";
        view_str(vs, s, strlen(s));
        break;
    }
    case TL_F_IP: view_ip(vs, p); break;
    case TL_F_MAC:
        n = snprintf(tmp, sizeof(tmp), "%02x:%02x:%02x:%02x:%02x:%02x", p[0], p[1], p[2], p[3],
                     p[4], p[5]);
        if (view_text(vs, (size_t)n + 1)) {
            char *t = vs->text + vs->text_used;
            memcpy(t, tmp, (size_t)n + 1);
            vs->text_used += (size_t)n + 1;
            view_str(vs, t, (size_t)n);
        }
        break;
    case TL_F_U16LIST: {
        uint8_t cnt = ((const uint8_t *)rec)[f->aux];
        for (size_t i = 0; i < cnt; i++)
            view_u64(vs, view_ld_u16(rec, f->off + 2 * i));
        break;
    }
    case TL_F_U64LIST: {
        uint16_t cnt = view_ld_u16(rec, f->aux);
        for (size_t i = 0; i < cnt; i++)
            view_u64(vs, view_ld_u64(rec, f->off + 8 * i));
        break;
    }
    case TL_F_STRLIST: {
        struct tl_strlist l = view_ld_strlist(rec, f->off);
        for (uint32_t i = 0; i < l.n; i++)
            view_str(vs, l.v[i].ptr, l.v[i].len);
        break;
    }
    default: break;
    }
}

void tl_view_values(const struct tl_view *v, struct tl_fref ref, struct tl_values *vs)
{
    tl_field_values(ref.f, ref.in_ext ? v->ext : v->rec, vs);
}

/* Bytes a clone needs beyond the record for field f, 8-aligned pieces. */
static size_t view_clone_extra(const struct tl_field *f, const void *rec)
{
    size_t n = 0;
    switch (f->type) {
    case TL_F_STR: n = view_ld_str(rec, f->off).len; break;
    case TL_F_CSTR:
    case TL_F_RAWJSON: {
        const char *s = view_ld_cstr(rec, f->off);
        n = s ? strlen(s) + 1 : 0;
        break;
    }
    case TL_F_STRLIST: {
        struct tl_strlist l = view_ld_strlist(rec, f->off);
        n = (size_t)l.n * sizeof(struct tl_str);
        for (uint32_t i = 0; i < l.n; i++)
            n += (l.v[i].len + 7) & ~(size_t)7;
        break;
    }
    default: break;
    }
    return (n + 7) & ~(size_t)7;
}

/* Copies n bytes to *at (advancing it, 8-aligned) and returns where they went. */
static void *view_clone_put(char **at, const void *p, size_t n)
{
    char *dst = *at;
    if (n)
        memcpy(dst, p, n);
    *at += (n + 7) & ~(size_t)7;
    return dst;
}

/* The bytes of a record of type t (size bytes) that a clone copies whole. */
static size_t view_clone_base(const struct tl_event_type *t, size_t size)
{
    return t->clone_bytes && t->clone_bytes < size ? t->clone_bytes : size;
}

size_t tl_record_clone_size(const struct tl_event_type *t, const void *rec, size_t size)
{
    size_t n = (view_clone_base(t, size) + 7) & ~(size_t)7;
    for (size_t i = 0; i < t->nfields; i++)
        n += view_clone_extra(&t->fields[i], rec);
    return n;
}

void *tl_record_clone_into(const struct tl_event_type *t, const void *rec, size_t size, void *dst)
{
    char *copy = dst;
    size_t base = view_clone_base(t, size);
    memcpy(copy, rec, base);
    char *at = copy + ((base + 7) & ~(size_t)7);
    for (size_t i = 0; i < t->nfields; i++) {
        const struct tl_field *f = &t->fields[i];
        char *slot = copy + f->off;
        switch (f->type) {
        case TL_F_STR: {
            struct tl_str s = view_ld_str(rec, f->off);
            s.ptr = s.len ? view_clone_put(&at, s.ptr, s.len) : "";
            memcpy(slot, &s, sizeof(s));
            break;
        }
        case TL_F_CSTR:
        case TL_F_RAWJSON: {
            const char *s = view_ld_cstr(rec, f->off);
            if (s)
                s = view_clone_put(&at, s, strlen(s) + 1);
            memcpy(slot, &s, sizeof(s));
            break;
        }
        case TL_F_STRLIST: {
            struct tl_strlist l = view_ld_strlist(rec, f->off);
            struct tl_str *v = (struct tl_str *)(void *)at;
            at += (size_t)l.n * sizeof(struct tl_str);
            for (uint32_t j = 0; j < l.n; j++) {
                v[j].len = l.v[j].len;
                v[j].ptr = l.v[j].len ? view_clone_put(&at, l.v[j].ptr, l.v[j].len) : "";
            }
            l.v = v;
            memcpy(slot, &l, sizeof(l));
            break;
        }
        default: break;
        }
    }
    return copy;
}
