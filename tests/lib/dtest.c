/*
 * dtest.c - see dtest.h.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dtest.h"
#include "flow.h"

static void dtest_emit(struct tl_parse_ctx *ctx, void *record, uint64_t ts_us)
{
    struct dtest *t = ctx->emit_arg;
    struct tl_flow_ids *ids = record;
    ids->ts = ts_us;
    ids->proto = "test";
    tl_event_json(&t->out, t->d->event, "test", record);
    t->records++;
}

void dtest_init(struct dtest *t, const struct tl_dissector *d)
{
    memset(t, 0, sizeof(*t));
    t->d = d;
    t->limits.max_value_len = 8192;
    t->limits.max_items = 64;
    t->limits.max_pending = 16;
    t->limits.max_pipeline = 64;
    t->limits.max_body_hash = 10 << 20;
    /* every body, two digests: the cases check the hashing; http.c's own cases check the
     * default policy (files, SHA-256) */
    t->limits.body_hash = TL_HASH_ALL;
    t->limits.body_digests = TL_DIGEST_MD5 | TL_DIGEST_SHA256;
    t->limits.pending_timeout = 10000000;
    t->state = calloc(1, d->state_size ? d->state_size : 1);
    t->arena.base = t->arena_mem;
    t->arena.cap = sizeof(t->arena_mem);
}

static struct tl_parse_ctx dtest_ctx(struct dtest *t, int transport, int dir, uint64_t ts);

/* ctx->resize, as the flows layer does it (without a budget, but counting). */
static void *dtest_resize(struct tl_parse_ctx *ctx, void *p, size_t old, size_t n)
{
    struct dtest *t = ctx->emit_arg;
    if (n == 0) {
        free(p);
        t->resized -= (long long)old;
        return NULL;
    }
    void *q = t->no_memory && n > old ? NULL : realloc(p, n);
    if (q)
        t->resized += (long long)n - (long long)old;
    return q;
}

void dtest_free(struct dtest *t)
{
    if (t->d->state_free) {
        struct tl_parse_ctx c = dtest_ctx(t, TL_TCP, 0, 0);
        t->d->state_free(&c);
    }
    if (t->resized != 0) { /* the flows layer would count it against memory.max_bytes forever */
        fprintf(stderr, "dtest: the %s state still holds %lld bytes from ctx->resize\n", t->d->name,
                t->resized);
        abort();
    }
    free(t->state);
    free(t->stream[0]);
    free(t->stream[1]);
    tl_buf_free(&t->out);
}

static struct tl_parse_ctx dtest_ctx(struct dtest *t, int transport, int dir, uint64_t ts)
{
    struct tl_parse_ctx c = { 0 };
    c.transport = (uint8_t)transport;
    c.dir = (uint8_t)dir;
    c.ts_us = ts;
    c.state = t->state;
    c.arena = &t->arena;
    c.counters = t->counters;
    c.limits = &t->limits;
    c.emit = dtest_emit;
    c.emit_arg = t;
    c.resize = dtest_resize;
    return c;
}

void dtest_udp(struct dtest *t, int dir, uint64_t ts_us, const void *p, size_t n, bool capture_cut)
{
    uint8_t *copy = malloc(n ? n : 1);
    memcpy(copy, p, n);
    struct tl_parse_ctx c = dtest_ctx(t, TL_UDP, dir, ts_us);
    c.capture_cut = capture_cut;
    struct tl_cursor in = tl_cur_make(copy, n);
    tl_arena_reset(&t->arena);
    if (!t->gave_up && t->d->parse(&c, &in) == TL_PARSE_GIVEUP) {
        t->gave_up = true;
        t->counters[TL_DC_GIVEUP]++; /* counted by the caller, as flows/l7.c does */
    }
    free(copy);
}

/* Calls parse() while it consumes stream bytes and returns OK. */
static void dtest_stream(struct dtest *t, struct tl_parse_ctx *c, struct tl_cursor *in)
{
    tl_arena_reset(&t->arena);
    while (!t->gave_up && !t->handover && tl_cur_left(in) > 0) {
        size_t before = tl_cur_left(in);
        enum tl_parse r = t->d->parse(c, in);
        if (r == TL_PARSE_GIVEUP) {
            t->gave_up = true;
            t->counters[TL_DC_GIVEUP]++;
        }
        t->handover = c->handover;
        if (r != TL_PARSE_OK || tl_cur_left(in) == before)
            break;
    }
}

void dtest_tcp(struct dtest *t, int dir, uint64_t ts_us, const void *p, size_t n)
{
    size_t len = t->stream_len[dir] + n;
    uint8_t *buf = malloc(len ? len : 1);
    if (t->stream_len[dir])
        memcpy(buf, t->stream[dir], t->stream_len[dir]);
    memcpy(buf + t->stream_len[dir], p, n);
    free(t->stream[dir]);

    struct tl_parse_ctx c = dtest_ctx(t, TL_TCP, dir, ts_us);
    struct tl_cursor in = tl_cur_make(buf, len);
    dtest_stream(t, &c, &in);
    /* Keep what is unconsumed, in an exact-size copy. */
    size_t left = t->gave_up ? 0 : tl_cur_left(&in);
    t->stream[dir] = malloc(left ? left : 1);
    if (left)
        memcpy(t->stream[dir], buf + (len - left), left);
    t->stream_len[dir] = left;
    free(buf);
}

/* Nothing follows the kept bytes of dir: parse() sees them once more with capture_cut, as
 * flows/l7.c does before a gap and at the flow's end, then they are dropped. */
static void dtest_cut(struct dtest *t, int dir)
{
    if (t->handover) /* the bytes are the next dissector's */
        return;
    struct tl_parse_ctx c = dtest_ctx(t, TL_TCP, dir, 0);
    struct tl_cursor in = tl_cur_make(t->stream[dir], t->stream_len[dir]);
    c.capture_cut = true;
    dtest_stream(t, &c, &in);
    t->stream_len[dir] = 0;
}

void dtest_gap(struct dtest *t, int dir, uint64_t n)
{
    struct tl_parse_ctx c = dtest_ctx(t, TL_TCP, dir, 0);
    dtest_cut(t, dir);
    t->counters[TL_DC_GAPS]++;
    if (t->d->gap && !t->gave_up)
        t->d->gap(&c, n);
}

void dtest_end(struct dtest *t)
{
    struct tl_parse_ctx c = dtest_ctx(t, TL_TCP, 0, 0);
    dtest_cut(t, 0);
    dtest_cut(t, 1);
    tl_arena_reset(&t->arena);
    if (t->d->flush)
        t->d->flush(&c, UINT64_MAX);
}

void dtest_flush(struct dtest *t, uint64_t now_us)
{
    struct tl_parse_ctx c = dtest_ctx(t, TL_TCP, 0, now_us);
    tl_arena_reset(&t->arena);
    if (t->d->flush)
        t->d->flush(&c, now_us);
}

bool dtest_rest(struct dtest *t)
{
    uint8_t kept[TL_REST_BYTES] = { 0 };
    if (!t->d->rest || t->gave_up || t->handover || t->stream_len[0] || t->stream_len[1] ||
        !t->d->rest(t->state, kept))
        return false;
    if (t->d->state_free) {
        struct tl_parse_ctx c = dtest_ctx(t, TL_TCP, 0, 0);
        t->d->state_free(&c);
    }
    memset(t->state, 0, t->d->state_size);
    t->d->resume(t->state, kept);
    return true;
}

int dtest_count(const struct dtest *t, const char *needle)
{
    int n = 0;
    if (!t->out.p)
        return 0;
    char *text = strndup(t->out.p, t->out.len);
    for (const char *p = text; (p = strstr(p, needle)); p++)
        n++;
    free(text);
    return n;
}
