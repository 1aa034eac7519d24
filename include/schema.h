/*
 * schema.h - one table of fields per event type.
 *
 * A record is a plain C struct; its event type lists, once, each field's JSON
 * name, type, offset and one-line meaning. That table drives the JSON writer,
 * rule field lookup and --list-fields, so no field can exist in one and not in
 * the others.
 */
#ifndef TL_SCHEMA_H
#define TL_SCHEMA_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cursor.h"

/*
 * The version of the events' schema (field names, types, meanings), in every
 * stats event and Kafka message header. Bumped when a field changes meaning or
 * goes away; fields that are added bump it too, so consumers can tell.
 */
#define TL_SCHEMA_VERSION 3

enum tl_ftype {
    TL_F_BOOL,    /* bool */
    TL_F_U8,      /* uint8_t */
    TL_F_U16,     /* uint16_t */
    TL_F_U32,     /* uint32_t */
    TL_F_U64,     /* uint64_t */
    TL_F_TS,      /* uint64_t microseconds since the epoch -> RFC 3339 UTC string */
    TL_F_DUR,     /* uint64_t microseconds -> seconds with 6 decimals */
    TL_F_STR,     /* struct tl_str */
    TL_F_CSTR,    /* const char * (NUL-terminated, static or owned by the record) */
    TL_F_CHARS,   /* char[] inside the record, NUL-terminated */
    TL_F_IP,      /* struct tl_ip: dotted quad when v4-mapped, else RFC 5952 */
    TL_F_MAC,     /* uint8_t[6] */
    TL_F_U16LIST, /* uint16_t[]; `aux` is the offset of its uint8_t count */
    TL_F_STRLIST, /* struct tl_strlist */
    TL_F_HEX32,   /* uint32_t written as "0x%08x" */
    TL_F_U64LIST, /* uint64_t[]; `aux` is the offset of its uint16_t count */
    TL_F_STATUS,  /* uint8_t enum tl_msg_status -> "ok", "truncated", "malformed" */
    TL_F_RAWJSON, /* const char * already holding one valid JSON value, written verbatim */
    TL_F_F64,     /* double, written with up to 6 decimals */
};

enum {
    TL_FF_OPT = 1 << 0,  /* omitted when zero, empty or NULL */
    TL_FF_IF = 1 << 1,   /* written only when the bool at offset `aux` is true (zero is a value) */
    TL_FF_LATE = 1 << 2, /* filled by the coordinator, after the worker wrote the rest */
    /* can identify a person: addresses, user and host names, URIs, queries, MACs (the data
     * sheet and the JSON Schema say so; privacy.* options pseudonymise text ones) */
    TL_FF_PERSONAL = 1 << 3,
};

struct tl_strlist {
    const struct tl_str *v;
    uint32_t n;
};

struct tl_field {
    const char *name;  /* JSON key, Zeek style: "id.orig_h" */
    uint8_t type;      /* enum tl_ftype */
    uint8_t flags;     /* TL_FF_* */
    uint16_t aux;      /* type-specific: count offset for lists, bool offset for TL_FF_IF, the
                          array's size for CHARS otherwise (TL_FIELD_SIZE) */
    uint16_t name_len; /* strlen(name), from the TL_FIELD macros (a unit test holds their names
                          free of anything JSON escapes); 0: not known, escaped when written */
    size_t off;        /* offsetof the value in the record */
    const char *doc;   /* one line for --list-fields */
};

/* A field's name: a string literal (the "" makes anything else a compile error), its length
 * known at compile time so that writing the key is one copy. */
#define TL_FNAME(jname) .name = jname, .name_len = (uint16_t)(sizeof("" jname) - 1)

/* Any field, every member given (lists of other types, fields of a record's ext). */
#define TL_FIELD_AT(jname, ftype, fl, auxv, offv, docstr)                                          \
    {                                                                                              \
        TL_FNAME(jname), .type = ftype, .flags = fl, .aux = auxv, .off = offv, .doc = docstr       \
    }

/* aux of a plain field: a CHARS array's size, so that what rewrites it in place knows it. */
#define TL_FIELD_SIZE(rec, member, ftype)                                                          \
    (uint16_t)(TL_F_##ftype == TL_F_CHARS ? sizeof(((rec *)0)->member) : 0)
#define TL_FIELD(rec, member, ftype, jname, docstr)                                                \
    {                                                                                              \
        TL_FNAME(jname), .type = TL_F_##ftype, .flags = 0,                                         \
                         .aux = TL_FIELD_SIZE(rec, member, ftype), .off = offsetof(rec, member),   \
                         .doc = docstr                                                             \
    }
#define TL_FIELD_OPT(rec, member, ftype, jname, docstr)                                            \
    {                                                                                              \
        TL_FNAME(jname), .type = TL_F_##ftype, .flags = TL_FF_OPT,                                 \
                         .aux = TL_FIELD_SIZE(rec, member, ftype), .off = offsetof(rec, member),   \
                         .doc = docstr                                                             \
    }
#define TL_FIELD_IF(rec, member, ftype, present, jname, docstr)                                    \
    {                                                                                              \
        TL_FNAME(jname), .type = TL_F_##ftype, .flags = TL_FF_IF,                                  \
                         .aux = (uint16_t)offsetof(rec, present), .off = offsetof(rec, member),    \
                         .doc = docstr                                                             \
    }
#define TL_FIELD_LATE(rec, member, ftype, present, jname, docstr)                                  \
    {                                                                                              \
        TL_FNAME(jname), .type = TL_F_##ftype, .flags = TL_FF_IF | TL_FF_LATE,                     \
                         .aux = (uint16_t)offsetof(rec, present), .off = offsetof(rec, member),    \
                         .doc = docstr                                                             \
    }
/* The same, for a field that can identify a person (TL_FF_PERSONAL). */
#define TL_FIELD_P(rec, member, ftype, jname, docstr)                                              \
    {                                                                                              \
        TL_FNAME(jname), .type = TL_F_##ftype, .flags = TL_FF_PERSONAL,                            \
                         .aux = TL_FIELD_SIZE(rec, member, ftype), .off = offsetof(rec, member),   \
                         .doc = docstr                                                             \
    }
#define TL_FIELD_OPT_P(rec, member, ftype, jname, docstr)                                          \
    {                                                                                              \
        TL_FNAME(jname), .type = TL_F_##ftype, .flags = TL_FF_OPT | TL_FF_PERSONAL,                \
                         .aux = TL_FIELD_SIZE(rec, member, ftype), .off = offsetof(rec, member),   \
                         .doc = docstr                                                             \
    }
#define TL_FIELD_IF_P(rec, member, ftype, present, jname, docstr)                                  \
    {                                                                                              \
        TL_FNAME(jname), .type = TL_F_##ftype, .flags = TL_FF_IF | TL_FF_PERSONAL,                 \
                         .aux = (uint16_t)offsetof(rec, present), .off = offsetof(rec, member),    \
                         .doc = docstr                                                             \
    }
#define TL_FIELD_LIST(rec, member, count, jname, docstr)                                           \
    {                                                                                              \
        TL_FNAME(jname), .type = TL_F_U16LIST, .flags = TL_FF_OPT,                                 \
                         .aux = (uint16_t)offsetof(rec, count), .off = offsetof(rec, member),      \
                         .doc = docstr                                                             \
    }

/*
 * An event type: the name written as event_type, and its fields in output order.
 * `ext`, when set, lists fields the pipeline adds after the record's own (the
 * domain names and statistics on dns, http and tls events); they live in a
 * separate record that the writer and rules are handed beside the first. An
 * ext table may have an ext of its own, read from the same separate record.
 */
struct tl_event_type {
    const char *name;
    const char *doc;
    const struct tl_field *fields;
    size_t nfields;
    const struct tl_event_type *ext;
    /*
     * Optional: the bytes at the start of the record that its fields are in;
     * what follows is storage they point into, which a clone of the record
     * (tl_record_clone_into, for an event the coordinator holds) copies field
     * by field anyway. 0: the whole record.
     */
    size_t clone_bytes;
};

/* Zeek-like type names for --list-fields. */
const char *tl_ftype_name(enum tl_ftype t);

/* Whether the JSON writer writes field f of rec (TL_FF_OPT and TL_FF_IF may leave it out). */
bool tl_field_present(const struct tl_field *f, const void *rec);

#endif
