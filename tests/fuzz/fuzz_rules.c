/*
 * fuzz_rules.c - libFuzzer target for the Sigma loader (detect/sigma.c and
 * what it calls): any bytes as a rule file, loaded from an exact-size heap
 * copy; whatever loads is then run on a few events (matching, alerts,
 * correlation inputs and windows) and freed.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "event.h"
#include "rules.h"
#include "sigma.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct fz_rec {
    uint64_t ts;
    char uid[20];
    struct tl_ip orig_h, resp_h;
    uint16_t orig_p, resp_p;
    struct tl_str query, host, uri, method, user_agent;
    uint16_t status;
    uint8_t Z;
    struct tl_strlist answers;
};

#define R struct fz_rec
static const struct tl_field fz_fields[] = {
    TL_FIELD(R, ts, TS, "ts", ""),
    TL_FIELD_OPT(R, uid, CHARS, "uid", ""),
    TL_FIELD(R, orig_h, IP, "id.orig_h", ""),
    TL_FIELD(R, orig_p, U16, "id.orig_p", ""),
    TL_FIELD(R, resp_h, IP, "id.resp_h", ""),
    TL_FIELD(R, resp_p, U16, "id.resp_p", ""),
    TL_FIELD_OPT(R, query, STR, "query", ""),
    TL_FIELD_OPT(R, host, STR, "host", ""),
    TL_FIELD_OPT(R, uri, STR, "uri", ""),
    TL_FIELD_OPT(R, method, STR, "method", ""),
    TL_FIELD_OPT(R, user_agent, STR, "user_agent", ""),
    TL_FIELD_OPT(R, status, U16, "status_code", ""),
    TL_FIELD(R, Z, U8, "Z", ""),
    TL_FIELD_OPT(R, answers, STRLIST, "answers", ""),
};
#undef R

/* One record shape under the names routing looks for. */
static const struct tl_event_type fz_types[] = {
    { .name = "flow", .doc = "", .fields = fz_fields, .nfields = TL_ARRAY_LEN(fz_fields) },
    { .name = "dns", .doc = "", .fields = fz_fields, .nfields = TL_ARRAY_LEN(fz_fields) },
    { .name = "http", .doc = "", .fields = fz_fields, .nfields = TL_ARRAY_LEN(fz_fields) },
    { .name = "ldap", .doc = "", .fields = fz_fields, .nfields = TL_ARRAY_LEN(fz_fields) },
};

static struct tl_str fz_s(const char *s)
{
    return (struct tl_str){ s, strlen(s) };
}

struct fz_run {
    const struct tl_ruleset *rs;
    struct tl_rules_scratch *sc;
    struct tl_corr *corr;
    struct tl_buf out;
};

static void fz_hit(void *arg, const struct tl_rule *r, const struct tl_view *v)
{
    struct fz_run *run = arg;
    if (tl_rule_alerts(r))
        tl_alert_json(&run->out, "fuzz", r, v, run->sc);
    for (struct tl_corr_input *in = tl_corr_inputs(run->rs, r, v, run->sc), *next; in; in = next) {
        next = tl_corr_input_next(in);
        tl_corr_feed(run->corr, in, &run->out, "fuzz");
    }
}

static void fz_events(struct fz_run *run)
{
    static const struct tl_str answers[] = { { "192.0.2.1", 9 }, { "a.example", 9 } };
    struct fz_rec rec;
    memset(&rec, 0, sizeof(rec));
    memcpy(rec.uid, "CFUZZ", 6);
    rec.orig_h.b[10] = rec.orig_h.b[11] = 0xff;
    rec.orig_h.b[12] = 10;
    rec.resp_h = rec.orig_h;
    rec.resp_p = 80;
    rec.query = fz_s("a.example");
    rec.host = fz_s("Files.Example");
    rec.uri = fz_s("/dl/x.EXE?q=L2Jpbi9zaA==");
    rec.method = fz_s("GET");
    rec.user_agent = fz_s("curl/8.0 -enc");
    rec.status = 200;
    rec.Z = 1;
    rec.answers = (struct tl_strlist){ answers, 2 };
    for (int i = 0; i < 6; i++) {
        rec.ts = 1000000ull * (uint64_t)(i * 7);
        rec.orig_h.b[15] = (uint8_t)(i % 2);
        struct tl_view v = { &fz_types[i % TL_ARRAY_LEN(fz_types)], &rec, NULL };
        tl_rules_match(run->rs, &v, TL_PHASE_RECORD, run->sc, fz_hit, run);
        tl_rules_match(run->rs, &v, TL_PHASE_LATE, run->sc, fz_hit, run);
    }
    tl_corr_tick(run->corr, UINT64_MAX / 2, &run->out, "fuzz");
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const struct tl_event_type *const types[] = { &fz_types[0], &fz_types[1], &fz_types[2],
                                                         &fz_types[3] };
    struct tl_rules_env env = { types, TL_ARRAY_LEN(types), "p=/dl,/x*\nq=", 8, 2 };
    struct tl_rules_summary sum;
    char err[256];
    char *copy = malloc(size ? size : 1);
    if (!copy)
        abort();
    memcpy(copy, data, size);
    struct tl_ruleset *rs =
        sg_rules_load_mem(&env, "fuzz.yml", copy, size, NULL, NULL, &sum, err, sizeof(err));
    free(copy);
    if (!rs)
        return 0;
    struct fz_run run = { .rs = rs, .sc = tl_rules_scratch_new(), .corr = tl_corr_new(rs, &env) };
    if (run.sc && run.corr)
        fz_events(&run);
    tl_corr_free(run.corr);
    tl_rules_scratch_free(run.sc);
    tl_buf_free(&run.out);
    tl_rules_free(rs);
    return 0;
}
