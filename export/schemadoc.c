/*
 * schemadoc.c - the field tables as text, as a JSON Schema (draft 2020-12) and
 * as a data sheet (see schemadoc.h).
 *
 * The JSON Schema is strict: every field a type can write is a property with
 * its JSON type, the fields written on every event are required, and nothing
 * else is allowed (additionalProperties: false), so validating real output
 * against it checks the tables and the writer together. Annotations beyond the
 * standard: x-personal (TL_FF_PERSONAL) and x-pseudonymisable.
 *
 * Which fields have a fixed set of values is said here, beside the sets, as
 * the modules that write them keep their names in static tables; the report
 * suite validates every project capture's events against these enums.
 */
#include <stdio.h>
#include <string.h>

#include "event.h"
#include "schemadoc.h"

/* ---- fixed sets of values ---- */

static const char *const sd_conn_states[] = { "S0", "S1",   "SF",   "REJ",    "S2",
                                              "S3", "RSTO", "RSTR", "RSTOS0", "RSTRH",
                                              "SH", "SHR",  "OTH",  NULL };
static const char *const sd_end_reasons[] = { "idle",    "active",   "fin", "rst",
                                              "evicted", "shutdown", NULL };
static const char *const sd_tunnels[] = { "gre",   "erspan1", "erspan2", "erspan3",
                                          "vxlan", "ipip",    "pptp",    NULL };
static const char *const sd_charsets[] = { "numeric", "hex",   "base32", "base64",
                                           "alnum",   "other", NULL };
static const char *const sd_client_kinds[] = { "browser", "tool", "bot", "other", NULL };
static const char *const sd_auth_schemes[] = { "Basic",  "NTLM",   "Negotiate",
                                               "Bearer", "Digest", NULL };
static const char *const sd_krb_requests[] = { "AS", "TGS", NULL };
static const char *const sd_krb_replies[] = { "AS-REP", "TGS-REP", "KRB-ERROR", NULL };
static const char *const sd_ldap_ops[] = { "bind",   "search",  "modify",  "add",
                                           "delete", "modDN",   "compare", "extended",
                                           "unbind", "abandon", "unknown", "sasl-sealed",
                                           "tls",    NULL };
static const char *const sd_ldap_enc[] = { "none", "tls", "sasl-signed", "sasl-sealed", NULL };
static const char *const sd_ldap_auth[] = {
    "simple", "sasl", "sicily_package_discovery", "sicily_negotiate", "sicily_response", NULL
};
static const char *const sd_ldap_scopes[] = { "base", "single", "tree", NULL };
static const char *const sd_ldap_derefs[] = { "never", "searching", "finding", "always", NULL };
static const char *const sd_id_sources[] = { "kerberos", "ldap", NULL };
static const char *const sd_levels[] = {
    "informational", "low", "medium", "high", "critical", NULL
};
static const char *const sd_corr_types[] = {
    "event_count", "value_count", "temporal", "temporal_ordered", "value_sum", "value_avg", NULL
};
/* every value tl_unanswered_name(), dissect/http.c and dissect/kerberos.c write */
static const char *const sd_reply_status[] = { "no_reply",
                                               "flow_ended",
                                               "reply_cut",
                                               "reply_gap",
                                               "request_gap",
                                               "reply_unparseable",
                                               "request_unparseable",
                                               "tunnel",
                                               "pending_capped",
                                               "request_written_early",
                                               "no_request",
                                               "smuggled",
                                               NULL };
static const char *const sd_status[] = { "ok", "truncated", "malformed", NULL };

static const struct {
    const char *type, *field;
    const char *const *values;
} sd_enums[] = {
    { "flow", "conn_state", sd_conn_states },
    { "flow", "end_reason", sd_end_reasons },
    { "flow", "tunnel.type", sd_tunnels },
    { "dns", "subdomain_charset", sd_charsets },
    { "http", "client_kind", sd_client_kinds },
    { "http", "auth_scheme", sd_auth_schemes },
    { "kerberos", "request_type", sd_krb_requests },
    { "kerberos", "reply_type", sd_krb_replies },
    { "ldap", "operation", sd_ldap_ops },
    { "ldap", "encryption", sd_ldap_enc },
    { "ldap", "auth_type", sd_ldap_auth },
    { "ldap", "scope", sd_ldap_scopes },
    { "ldap", "deref_aliases", sd_ldap_derefs },
    { "dns", "reply_status", sd_reply_status },
    { "http", "reply_status", sd_reply_status },
    { "kerberos", "reply_status", sd_reply_status },
    { "ldap", "reply_status", sd_reply_status },
    { "socks", "reply_status", sd_reply_status },
    { "identity", "source", sd_id_sources },
    { "alert", "rule.level", sd_levels },
    { "alert", "correlation.type", sd_corr_types },
};

size_t tl_schemadoc_enum_count(void)
{
    return TL_ARRAY_LEN(sd_enums);
}

const char *const *tl_schemadoc_enum(const char *type, const char *field)
{
    for (size_t i = 0; i < TL_ARRAY_LEN(sd_enums); i++)
        if (strcmp(sd_enums[i].type, type) == 0 && strcmp(sd_enums[i].field, field) == 0)
            return sd_enums[i].values;
    return NULL;
}

/* ---- pseudonyms ---- */

/*
 * The event types whose records pass tl_privacy_apply before they are written:
 * every event a worker emits (flows/emit.c) and identity (flows/coord.c); of
 * domain, the coordinator pseudonymises users itself. The report suite sets
 * privacy.pseudonymise to every field this accepts and checks the output.
 */
static const char *const sd_pseudo_types[] = { "flow",     "tls",  "dns",   "http",
                                               "kerberos", "ldap", "socks", "identity" };

bool tl_schemadoc_pseudonymisable(const struct tl_event_type *t, const struct tl_field *f)
{
    if (f->type != TL_F_STR && f->type != TL_F_CSTR && f->type != TL_F_STRLIST &&
        f->type != TL_F_CHARS)
        return false;
    /* A CHARS array is overwritten in place and must hold TL_PSEUDONYM_MAX bytes (privacy.h):
     * only identity's user and host do (community_id, uid and the others are shorter). */
    if (f->type == TL_F_CHARS)
        return strcmp(t->name, "identity") == 0 &&
               (strcmp(f->name, "user") == 0 || strcmp(f->name, "host") == 0);
    if (strcmp(t->name, "domain") == 0)
        return strcmp(f->name, "users") == 0;
    for (size_t i = 0; i < TL_ARRAY_LEN(sd_pseudo_types); i++)
        if (strcmp(sd_pseudo_types[i], t->name) == 0)
            return true;
    return false;
}

/* Whether "type.field" is in the comma (or space) list. */
static bool sd_listed(const char *list, const char *type, const char *field)
{
    size_t tl = strlen(type), fl = strlen(field);
    for (const char *p = list; p && *p;) {
        size_t len = strcspn(p, ", \t");
        if (len == tl + 1 + fl && memcmp(p, type, tl) == 0 && p[tl] == '.' &&
            memcmp(p + tl + 1, field, fl) == 0)
            return true;
        p += len;
        p += strspn(p, ", \t");
    }
    return false;
}

/* ---- selection ---- */

static int sd_select(const struct tl_event_type *const *types, size_t n, const char *only,
                     size_t *from, size_t *to, char *errbuf, size_t en)
{
    *from = 0;
    *to = n;
    if (!only)
        return 0;
    for (size_t i = 0; i < n; i++)
        if (strcmp(types[i]->name, only) == 0) {
            *from = i;
            *to = i + 1;
            return 0;
        }
    size_t used = (size_t)snprintf(errbuf, en, "no event type '%s' (known:", only);
    for (size_t i = 0; i < n && used < en; i++)
        used += (size_t)snprintf(errbuf + used, en - used, " %s", types[i]->name);
    if (used < en)
        snprintf(errbuf + used, en - used, ")");
    return -1;
}

/* Calls fn for every field of t and of its ext tables, in output order. */
typedef void (*sd_field_fn)(void *arg, const struct tl_event_type *t, const struct tl_field *f);

static void sd_each_field(const struct tl_event_type *t, sd_field_fn fn, void *arg)
{
    for (const struct tl_event_type *ft = t; ft; ft = ft->ext)
        for (size_t j = 0; j < ft->nfields; j++)
            fn(arg, t, &ft->fields[j]);
}

/* ---- text ---- */

static void sd_text_field(void *arg, const struct tl_event_type *t, const struct tl_field *f)
{
    (void)t;
    fprintf(arg, "  %-28s %-16s %s%s\n", f->name, tl_ftype_name((enum tl_ftype)f->type), f->doc,
            f->flags & TL_FF_PERSONAL ? " [personal]" : "");
}

int tl_schemadoc_text(FILE *out, const struct tl_event_type *const *types, size_t n,
                      const char *only, char *errbuf, size_t en)
{
    size_t from, to;
    if (sd_select(types, n, only, &from, &to, errbuf, en) < 0)
        return -1;
    for (size_t i = from; i < to; i++) {
        fprintf(out, "%s: %s\n", types[i]->name, types[i]->doc);
        fprintf(out, "  %-28s %-16s %s\n", "event_type", "string", "the event type");
        fprintf(out, "  %-28s %-16s %s\n", "sensor", "string", "the sensor name");
        sd_each_field(types[i], sd_text_field, out);
        fprintf(out, "\n");
    }
    return 0;
}

/* ---- JSON Schema ---- */

static void sd_jstr(FILE *out, const char *s)
{
    struct tl_buf b = { 0 };
    tl_json_string(&b, s, strlen(s));
    fwrite(b.p, 1, b.len, out);
    tl_buf_free(&b);
}

static const char sd_ts_pattern[] = "^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}"
                                    "\\\\.[0-9]{6}Z$";

/* The JSON type of a field's values, as schema keywords (without braces). */
static void sd_json_type(FILE *out, const struct tl_field *f)
{
    switch (f->type) {
    case TL_F_BOOL: fputs("\"type\":\"boolean\"", out); break;
    case TL_F_U8: fputs("\"type\":\"integer\",\"minimum\":0,\"maximum\":255", out); break;
    case TL_F_U16: fputs("\"type\":\"integer\",\"minimum\":0,\"maximum\":65535", out); break;
    case TL_F_U32: fputs("\"type\":\"integer\",\"minimum\":0,\"maximum\":4294967295", out); break;
    case TL_F_U64: fputs("\"type\":\"integer\",\"minimum\":0", out); break;
    case TL_F_TS: fprintf(out, "\"type\":\"string\",\"pattern\":\"%s\"", sd_ts_pattern); break;
    case TL_F_DUR: fputs("\"type\":\"number\",\"minimum\":0", out); break;
    case TL_F_STR:
    case TL_F_CSTR:
    case TL_F_CHARS: fputs("\"type\":\"string\"", out); break;
    case TL_F_IP:
        fputs("\"type\":\"string\",\"anyOf\":[{\"format\":\"ipv4\"},{\"format\":\"ipv6\"}]", out);
        break;
    case TL_F_MAC:
        fputs("\"type\":\"string\",\"pattern\":\"^[0-9a-f]{2}(:[0-9a-f]{2}){5}$\"", out);
        break;
    case TL_F_U16LIST:
        fputs("\"type\":\"array\",\"items\":{\"type\":\"integer\",\"minimum\":0,"
              "\"maximum\":65535}",
              out);
        break;
    case TL_F_U64LIST:
        fputs("\"type\":\"array\",\"items\":{\"type\":\"integer\",\"minimum\":0}", out);
        break;
    case TL_F_STRLIST: fputs("\"type\":\"array\",\"items\":{\"type\":\"string\"}", out); break;
    case TL_F_HEX32: fputs("\"type\":\"string\",\"pattern\":\"^0x[0-9a-f]{8}$\"", out); break;
    case TL_F_F64: fputs("\"type\":[\"number\",\"null\"]", out); break;
    case TL_F_STATUS: fputs("\"type\":\"string\"", out); break;
    default: fputs("\"$comment\":\"any JSON value\"", out); break; /* RAWJSON */
    }
}

static void sd_json_enum(FILE *out, const char *const *values)
{
    fputs(",\"enum\":[", out);
    for (size_t i = 0; values[i]; i++) {
        if (i)
            fputc(',', out);
        sd_jstr(out, values[i]);
    }
    fputc(']', out);
}

/* Whether the writer writes f on every event of its type. */
static bool sd_always(const struct tl_field *f)
{
    return !(f->flags & (TL_FF_OPT | TL_FF_IF));
}

/* One property, after the ones before it (event_type and sensor come first). */
static void sd_json_field(void *arg, const struct tl_event_type *t, const struct tl_field *f)
{
    FILE *out = arg;
    const char *const *values =
        f->type == TL_F_STATUS ? sd_status : tl_schemadoc_enum(t->name, f->name);

    fputc(',', out);
    sd_jstr(out, f->name);
    fputs(":{", out);
    sd_json_type(out, f);
    if (values)
        sd_json_enum(out, values);
    fputs(",\"description\":", out);
    sd_jstr(out, f->doc);
    if (f->flags & TL_FF_PERSONAL)
        fputs(",\"x-personal\":true", out);
    if ((f->flags & TL_FF_PERSONAL) && tl_schemadoc_pseudonymisable(t, f))
        fputs(",\"x-pseudonymisable\":true", out);
    fputc('}', out);
}

/* One event type's schema, without braces (so it can be a definition or a document). */
static void sd_json_type_body(FILE *out, const struct tl_event_type *t)
{
    fputs("\"type\":\"object\",\"description\":", out);
    sd_jstr(out, t->doc);
    fputs(",\"properties\":{\"event_type\":{\"const\":", out);
    sd_jstr(out, t->name);
    fputs(",\"description\":\"the event type\"},"
          "\"sensor\":{\"type\":[\"string\",\"null\"],\"description\":\"the sensor name\"}",
          out);
    sd_each_field(t, sd_json_field, out);
    fputs("},\"required\":[\"event_type\",\"sensor\"", out);
    for (size_t i = 0; i < t->nfields; i++) /* an ext table's fields are never required */
        if (sd_always(&t->fields[i])) {
            fputc(',', out);
            sd_jstr(out, t->fields[i].name);
        }
    fputs("],\"additionalProperties\":false", out);
}

int tl_schemadoc_json(FILE *out, const struct tl_event_type *const *types, size_t n,
                      const char *only, char *errbuf, size_t en)
{
    size_t from, to;
    if (sd_select(types, n, only, &from, &to, errbuf, en) < 0)
        return -1;
    fputs("{\"$schema\":\"https://json-schema.org/draft/2020-12/schema\",", out);
    if (only) {
        fprintf(out, "\"$id\":\"urn:tapline:schema:%d:%s\",\"title\":\"tapline %s event\",",
                TL_SCHEMA_VERSION, only, only);
        fprintf(out, "\"x-schema-version\":%d,", TL_SCHEMA_VERSION);
        sd_json_type_body(out, types[from]);
        fputs("}\n", out);
        return 0;
    }
    fprintf(out,
            "\"$id\":\"urn:tapline:schema:%d\",\"title\":\"tapline events\",\"description\":"
            "\"one JSON object per line; event_type says which definition applies\","
            "\"x-schema-version\":%d,\"oneOf\":[",
            TL_SCHEMA_VERSION, TL_SCHEMA_VERSION);
    for (size_t i = from; i < to; i++)
        fprintf(out, "%s{\"$ref\":\"#/$defs/%s\"}", i > from ? "," : "", types[i]->name);
    fputs("],\"$defs\":{", out);
    for (size_t i = from; i < to; i++) {
        fputs(i > from ? "," : "", out);
        sd_jstr(out, types[i]->name);
        fputs(":{", out);
        sd_json_type_body(out, types[i]);
        fputc('}', out);
    }
    fputs("}}\n", out);
    return 0;
}

/* ---- the data sheet ---- */

/* Text for a markdown table cell: | escaped, newlines as spaces. */
static void sd_md(FILE *out, const char *s)
{
    for (; *s; s++) {
        if (*s == '|')
            fputs("\\|", out);
        else
            fputc(*s == '\n' ? ' ' : *s, out);
    }
}

struct sd_sheet {
    FILE *out;
    const char *pseudonymise;
    unsigned personal;
};

static void sd_sheet_field(void *arg, const struct tl_event_type *t, const struct tl_field *f)
{
    struct sd_sheet *s = arg;
    bool personal = f->flags & TL_FF_PERSONAL;

    fprintf(s->out, "| `%s` | %s | ", f->name, tl_ftype_name((enum tl_ftype)f->type));
    sd_md(s->out, f->doc);
    fputs(personal ? " | **yes** | " : " | no | ", s->out);
    if (!personal) {
        fputs(" |\n", s->out);
        return;
    }
    s->personal++;
    if (tl_schemadoc_pseudonymisable(t, f) && sd_listed(s->pseudonymise, t->name, f->name))
        fprintf(s->out,
                "pseudonymised once `privacy.hmac_key_file` is set (`%s.%s` is in "
                "`privacy.pseudonymise`)",
                t->name, f->name);
    else if (tl_schemadoc_pseudonymisable(t, f))
        fprintf(s->out,
                "pseudonymise: add `%s.%s` to `privacy.pseudonymise`, set "
                "`privacy.hmac_key_file`",
                t->name, f->name);
    else if (f->type == TL_F_RAWJSON)
        fprintf(s->out,
                "values of other events' fields: pseudonyms where those are "
                "pseudonymised; else drop `%s` events",
                t->name);
    else
        fprintf(s->out, "not pseudonymisable: drop `%s` events", t->name);
    fputs(" |\n", s->out);
}

static void sd_count_personal(void *arg, const struct tl_event_type *t, const struct tl_field *f)
{
    (void)t;
    if (f->flags & TL_FF_PERSONAL)
        (*(unsigned *)arg)++;
}

static void sd_sheet_intro(FILE *out, const struct tl_event_type *const *types, size_t n)
{
    fprintf(out,
            "# tapline: the data it exports\n\n"
            "<!-- Generated by `tapline --data-sheet` from the field tables that write the "
            "events; `make` rewrites this file and a test fails when it is stale. Do not edit. "
            "-->\n\n"
            "Every field tapline can write, per event type (schema version %d): what it is "
            "for, whether it can identify a person, and how to pseudonymise or drop it. "
            "Events go to the output file (`output.path`) and to Kafka (`kafka.brokers`); "
            "nothing else leaves the sensor.\n\n"
            "- **Personal** (\"yes\"): the value can identify a person, alone or with other "
            "data: IP and MAC addresses, user and host names, principals, directory names "
            "(DNs) and LDAP filters, URIs, queried names and server names, user agents.\n"
            "- **Pseudonymise**: with a key file (`privacy.hmac_key_file`), every field listed "
            "in `privacy.pseudonymise` (`type.field`, comma list) is written, and matched by "
            "rules, as the HMAC-SHA-256 of its value under the key (hex, "
            "`privacy.pseudonym_hex_len` digits): the same value gives the same pseudonym on "
            "every sensor holding the key, and without the key it cannot be reversed. Text "
            "fields of the flow, tls, dns, http, kerberos, ldap and identity events can be "
            "pseudonymised, and the users of domain events; addresses and community_id "
            "cannot.\n"
            "- **Drop**: an event type left out of `output.types` (the file) and "
            "`kafka.types` (Kafka) is not written at all (both unset: every type is written). "
            "`dissect.protocols` turns a dissector off, and its event type with it.\n"
            "- Besides events, the domain statistics keep each registered domain's requesting "
            "addresses and users (as pseudonyms when `domain.users` is pseudonymised) in "
            "memory, in `domains.state_file` when it is set and, with `redis.url`, in Redis.\n\n"
            "| event type | fields | personal |\n|---|---|---|\n",
            TL_SCHEMA_VERSION);
    for (size_t i = 0; i < n; i++) {
        unsigned nf = 2, np = 0; /* event_type and sensor */
        for (const struct tl_event_type *ft = types[i]; ft; ft = ft->ext)
            nf += (unsigned)ft->nfields;
        sd_each_field(types[i], sd_count_personal, &np);
        fprintf(out, "| [`%s`](#%s) | %u | %u |\n", types[i]->name, types[i]->name, nf, np);
    }
}

void tl_schemadoc_sheet(FILE *out, const struct tl_event_type *const *types, size_t n,
                        const char *pseudonymise)
{
    sd_sheet_intro(out, types, n);
    for (size_t i = 0; i < n; i++) {
        struct sd_sheet s = { out, pseudonymise, 0 };
        fprintf(out, "\n## %s\n\n", types[i]->name);
        sd_md(out, types[i]->doc);
        fprintf(out,
                ". To drop: leave `%s` out of `output.types` and `kafka.types`.\n\n"
                "| field | type | what it is for | personal | pseudonymise or drop |\n"
                "|---|---|---|---|---|\n"
                "| `event_type` | string | the event type | no |  |\n"
                "| `sensor` | string | the sensor name (`sensor`) | no |  |\n",
                types[i]->name);
        sd_each_field(types[i], sd_sheet_field, &s);
    }
}
