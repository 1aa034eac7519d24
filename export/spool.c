/*
 * spool.c - the disk spool that holds events while Kafka cannot take them.
 *
 * A directory of segments spool-<seq 20 digits>.jsonl.zst, each a zstd stream
 * (one frame, checksummed; RFC 8878) of JSON lines. Lines are appended to the
 * newest segment and read back from the oldest, in order; the reader follows
 * the segment being written (the writer flushes a zstd block before the
 * reader looks), so a short outage makes one segment, not one per poll.
 *
 * Invariants: a segment is deleted only when every line of it was read and
 * resolved (tl_spool_done), so a crash replays, never loses; the bytes on disk
 * stay under max_bytes by deleting the oldest segment, whose unread lines are
 * counted in kafka.max_spool_bytes_capped. A segment cut short by a crash is
 * read up to its last whole line.
 */
#include <dirent.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zstd.h>

#include "log.h"
#include "sink.h"
#include "zbuf.h"

enum {
    SPOOL_MIN_SEG = 64 << 10,  /* smallest segment before the next one starts */
    SPOOL_MAX_SEG = 64 << 20,  /* largest */
    SPOOL_MAX_LINE = 64 << 20, /* a longer "line" in a segment is corrupt: the rest is skipped */
};

struct spool_seg {
    uint64_t seq;
    uint64_t bytes;   /* on disk (so far, while written) */
    uint64_t lines;   /* whole lines in it */
    uint64_t read;    /* lines handed out by tl_spool_next */
    uint64_t pending; /* handed out, not yet resolved */
    bool writing, read_all;
};

struct tl_spool {
    char *dir;
    uint64_t max_bytes, seg_max, total_bytes, unread, next_seq;
    int level;
    tl_counter *st;
    struct spool_seg *segs; /* oldest first */
    size_t nsegs, cap;
    /* the writer: the newest segment, when it is still open */
    FILE *wf;
    ZSTD_CCtx *cctx;
    void *wbuf;
    size_t wbuf_size;
    bool dirty;    /* appended since the last zstd flush */
    bool unsynced; /* written since the last fsync */
    /* the reader */
    FILE *rf;
    uint64_t rseq;
    ZSTD_DCtx *dctx;
    void *rin;
    size_t rin_size;
    ZSTD_inBuffer in;
    char *d; /* decompressed bytes: d[dpos..dlen) not yet handed out */
    size_t dpos, dlen, dcap;
};

static void spool_path(const struct tl_spool *s, uint64_t seq, char *out, size_t n)
{
    snprintf(out, n, "%s/spool-%020" PRIu64 ".jsonl.zst", s->dir, seq);
}

static struct spool_seg *spool_find(struct tl_spool *s, uint64_t seq)
{
    for (size_t i = 0; i < s->nsegs; i++)
        if (s->segs[i].seq == seq)
            return &s->segs[i];
    return NULL;
}

static struct spool_seg *spool_push(struct tl_spool *s, uint64_t seq)
{
    if (s->nsegs == s->cap) {
        size_t cap = s->cap ? s->cap * 2 : 16;
        struct spool_seg *p = realloc(s->segs, cap * sizeof(*p));
        if (!p)
            return NULL;
        s->segs = p;
        s->cap = cap;
    }
    struct spool_seg *g = &s->segs[s->nsegs++];
    memset(g, 0, sizeof(*g));
    g->seq = seq;
    if (seq >= s->next_seq)
        s->next_seq = seq + 1;
    return g;
}

static void spool_reader_close(struct tl_spool *s)
{
    if (s->rf)
        fclose(s->rf);
    s->rf = NULL;
    s->rseq = 0;
    s->dpos = s->dlen = 0;
    s->in = (ZSTD_inBuffer){ s->rin, 0, 0 };
}

/* Deletes segment i: its file, its bytes, and (counted) its unread lines. */
static void spool_remove(struct tl_spool *s, size_t i, bool count_lost)
{
    char path[4096];
    struct spool_seg *g = &s->segs[i];

    if (s->rf && s->rseq == g->seq)
        spool_reader_close(s);
    spool_path(s, g->seq, path, sizeof(path));
    if (unlink(path) < 0 && errno != ENOENT)
        tl_log(TL_LOG_WARNING, "spool: %s: %s", path, strerror(errno));
    uint64_t unread = g->read_all ? 0 : g->lines - g->read;
    s->unread -= unread;
    if (count_lost)
        tl_count(s->st, TL_STAT_KAFKA_SPOOL_CAPPED, unread);
    s->total_bytes -= g->bytes;
    memmove(g, g + 1, (s->nsegs - i - 1) * sizeof(*g));
    s->nsegs--;
}

static void spool_maybe_remove(struct tl_spool *s, struct spool_seg *g)
{
    if (g->read_all && g->pending == 0 && !g->writing)
        spool_remove(s, (size_t)(g - s->segs), false);
}

/* Feeds the writer; mode ZSTD_e_continue, _flush or _end. -1 on a write error. */
static int spool_compress(struct tl_spool *s, const void *p, size_t n, ZSTD_EndDirective mode)
{
    ZSTD_inBuffer in = { p, n, 0 };
    struct spool_seg *g = &s->segs[s->nsegs - 1];
    size_t left;

    do {
        ZSTD_outBuffer out = { s->wbuf, s->wbuf_size, 0 };
        left = ZSTD_compressStream2(s->cctx, &out, &in, mode);
        if (ZSTD_isError(left)) {
            tl_log(TL_LOG_WARNING, "spool: zstd: %s", ZSTD_getErrorName(left));
            return -1;
        }
        if (tl_zout_len(&out) && fwrite(s->wbuf, 1, tl_zout_len(&out), s->wf) != tl_zout_len(&out))
            return -1;
        g->bytes += tl_zout_len(&out);
        s->total_bytes += tl_zout_len(&out);
    } while (mode == ZSTD_e_continue ? !tl_zin_done(&in) : left != 0);
    return 0;
}

static void spool_writer_close(struct tl_spool *s)
{
    if (!s->wf)
        return;
    if (spool_compress(s, NULL, 0, ZSTD_e_end) < 0 || fflush(s->wf) != 0 ||
        fsync(fileno(s->wf)) != 0 || fclose(s->wf) != 0)
        tl_log(TL_LOG_WARNING, "spool: closing a segment: %s", strerror(errno));
    s->wf = NULL;
    s->dirty = s->unsynced = false;
    s->segs[s->nsegs - 1].writing = false;
    spool_maybe_remove(s, &s->segs[s->nsegs - 1]);
}

void tl_spool_sync(struct tl_spool *s)
{
    if (!s->wf || !s->dirty)
        return;
    if (spool_compress(s, NULL, 0, ZSTD_e_flush) < 0 || fflush(s->wf) != 0)
        tl_log(TL_LOG_WARNING, "spool: %s", strerror(errno));
    s->dirty = false;
    s->unsynced = true;
}

void tl_spool_fsync(struct tl_spool *s)
{
    if (!s->wf || !s->unsynced)
        return;
    if (fsync(fileno(s->wf)) != 0)
        tl_log(TL_LOG_WARNING, "spool: fsync: %s", strerror(errno));
    s->unsynced = false;
}

/* Past the cap, the oldest segment goes; the one being written, if it is the only one. */
static void spool_enforce_cap(struct tl_spool *s)
{
    while (s->total_bytes > s->max_bytes && s->nsegs) {
        if (s->nsegs == 1 && s->segs[0].writing)
            spool_writer_close(s);
        if (s->nsegs)
            spool_remove(s, 0, true);
    }
}

int tl_spool_append(struct tl_spool *s, const char *p, size_t n)
{
    char path[4096];

    if (s->wf && s->segs[s->nsegs - 1].bytes >= s->seg_max)
        spool_writer_close(s);
    if (!s->wf) {
        uint64_t seq = s->next_seq;
        spool_path(s, seq, path, sizeof(path));
        if (!(s->wf = fopen(path, "wbx"))) {
            tl_log(TL_LOG_WARNING, "spool: %s: %s", path, strerror(errno));
            s->next_seq++; /* do not retry the same name forever */
            tl_count(s->st, TL_STAT_OUTPUT_ERRORS, 1);
            return -1;
        }
        if (!spool_push(s, seq)) {
            fclose(s->wf);
            s->wf = NULL;
            unlink(path);
            tl_count(s->st, TL_STAT_OUTPUT_ERRORS, 1);
            return -1;
        }
        s->segs[s->nsegs - 1].writing = true;
        ZSTD_CCtx_reset(s->cctx, ZSTD_reset_session_only);
    }
    if (spool_compress(s, p, n, ZSTD_e_continue) < 0 ||
        spool_compress(s, "\n", 1, ZSTD_e_continue) < 0) {
        tl_count(s->st, TL_STAT_OUTPUT_ERRORS, 1);
        return -1;
    }
    s->segs[s->nsegs - 1].lines++;
    s->unread++;
    s->dirty = true;
    tl_count(s->st, TL_STAT_KAFKA_SPOOLED, 1);
    spool_enforce_cap(s);
    return 0;
}

/* More decompressed bytes into d; 1 if some came, 0 at the end of what is in the file, -1 bad. */
static int spool_fill(struct tl_spool *s)
{
    if (s->dpos) {
        memmove(s->d, s->d + s->dpos, s->dlen - s->dpos);
        s->dlen -= s->dpos;
        s->dpos = 0;
    }
    if (s->dcap - s->dlen < ZSTD_DStreamOutSize()) {
        size_t cap = s->dcap ? s->dcap * 2 : ZSTD_DStreamOutSize() * 2;
        if (cap > SPOOL_MAX_LINE)
            return -1;
        char *d = realloc(s->d, cap);
        if (!d)
            return -1;
        s->d = d;
        s->dcap = cap;
    }
    for (;;) {
        if (tl_zin_done(&s->in)) {
            size_t got = fread(s->rin, 1, s->rin_size, s->rf);
            if (!got) {
                clearerr(s->rf); /* the writer may add more */
                return 0;
            }
            s->in = (ZSTD_inBuffer){ s->rin, got, 0 };
        }
        ZSTD_outBuffer out = { s->d + s->dlen, s->dcap - s->dlen, 0 };
        size_t r = ZSTD_decompressStream(s->dctx, &out, &s->in);
        if (ZSTD_isError(r)) {
            tl_log(TL_LOG_WARNING, "spool: segment %" PRIu64 ": zstd: %s", s->rseq,
                   ZSTD_getErrorName(r));
            return -1;
        }
        s->dlen += tl_zout_len(&out);
        if (tl_zout_len(&out))
            return 1;
    }
}

int tl_spool_next(struct tl_spool *s, const char **line, size_t *n, uint64_t *seq)
{
    char path[4096];

    for (size_t i = 0; i < s->nsegs;) {
        struct spool_seg *g = &s->segs[i];
        if (g->read_all) {
            i++;
            continue;
        }
        if (g->read == g->lines) {
            if (g->writing) /* caught up: the sink sends new events straight on now */
                spool_writer_close(s);
            g = &s->segs[i];
            g->read_all = true;
            spool_reader_close(s);
            size_t before = s->nsegs;
            spool_maybe_remove(s, g);
            if (s->nsegs == before)
                i++;
            continue;
        }
        if (!s->rf || s->rseq != g->seq) {
            spool_reader_close(s);
            spool_path(s, g->seq, path, sizeof(path));
            if (g->writing)
                tl_spool_sync(s);
            if (!(s->rf = fopen(path, "rb"))) {
                tl_log(TL_LOG_WARNING, "spool: %s: %s", path, strerror(errno));
                goto lost;
            }
            s->rseq = g->seq;
            ZSTD_DCtx_reset(s->dctx, ZSTD_reset_session_only);
        }
        for (bool synced = false;;) {
            char *nl = memchr(s->d + s->dpos, '\n', s->dlen - s->dpos);
            if (nl) {
                *line = s->d + s->dpos;
                *n = (size_t)(nl - *line);
                s->dpos += *n + 1;
                g->read++;
                g->pending++;
                s->unread--;
                *seq = g->seq;
                return 1;
            }
            int r = spool_fill(s);
            if (r > 0)
                continue;
            if (r == 0 && g->writing && !synced) {
                tl_spool_sync(s); /* the lines are in the compressor: push them out */
                synced = true;
                continue;
            }
            if (r == 0 && g->writing)
                return 0;
            break; /* corrupt, or cut short: the rest of this segment is lost */
        }
    lost:
        tl_log(TL_LOG_WARNING, "spool: segment %" PRIu64 ": %" PRIu64 " line(s) unreadable", g->seq,
               g->lines - g->read);
        tl_count(s->st, TL_STAT_OUTPUT_ERRORS, g->lines - g->read);
        s->unread -= g->lines - g->read;
        g->read = g->lines;
    }
    return 0;
}

void tl_spool_done(struct tl_spool *s, uint64_t seq)
{
    struct spool_seg *g = spool_find(s, seq);
    if (!g || !g->pending)
        return; /* dropped at the cap meanwhile */
    g->pending--;
    spool_maybe_remove(s, g);
}

uint64_t tl_spool_unread(const struct tl_spool *s)
{
    return s->unread;
}

uint64_t tl_spool_bytes(const struct tl_spool *s)
{
    return s->total_bytes;
}

/* Whole lines in a segment left by an earlier run (a crash may have cut the last one). */
static int spool_count(struct tl_spool *s, const char *path, uint64_t *lines)
{
    FILE *f = fopen(path, "rb");
    size_t r = 1;
    if (!f)
        return -1;
    *lines = 0;
    ZSTD_DCtx_reset(s->dctx, ZSTD_reset_session_only);
    for (size_t got; (got = fread(s->rin, 1, s->rin_size, f));) {
        ZSTD_inBuffer in = { s->rin, got, 0 };
        while (!tl_zin_done(&in)) {
            ZSTD_outBuffer out = { s->d, s->dcap, 0 };
            r = ZSTD_decompressStream(s->dctx, &out, &in);
            if (ZSTD_isError(r))
                goto done;
            for (const char *p = s->d;
                 (p = memchr(p, '\n', tl_zout_len(&out) - (size_t)(p - s->d))); p++)
                (*lines)++;
        }
    }
done:
    fclose(f);
    if (ZSTD_isError(r) || r != 0)
        tl_log(TL_LOG_WARNING, "spool: %s: %s; reading its %" PRIu64 " whole line(s)", path,
               ZSTD_isError(r) ? ZSTD_getErrorName(r) : "cut short", *lines);
    return 0;
}

static int spool_cmp(const void *a, const void *b)
{
    uint64_t x = ((const struct spool_seg *)a)->seq, y = ((const struct spool_seg *)b)->seq;
    return x < y ? -1 : x > y;
}

/* The segments an earlier run left, oldest first, to be replayed before anything new. */
static int spool_scan(struct tl_spool *s, char *errbuf, size_t n)
{
    char path[4096];
    DIR *d = opendir(s->dir);
    struct dirent *e;

    if (!d) {
        snprintf(errbuf, n, "kafka.spool_dir: %s: %s", s->dir, strerror(errno));
        return -1;
    }
    while ((e = readdir(d))) {
        unsigned long long seq;
        int end = 0;
        struct stat st;
        if (sscanf(e->d_name, "spool-%20llu.jsonl.zst%n", &seq, &end) != 1 ||
            e->d_name[end] != '\0' || strlen(e->d_name) != 36)
            continue;
        spool_path(s, seq, path, sizeof(path));
        if (stat(path, &st) < 0 || !S_ISREG(st.st_mode))
            continue;
        struct spool_seg *g = spool_push(s, seq);
        if (!g || spool_count(s, path, &g->lines) < 0) {
            closedir(d);
            snprintf(errbuf, n, "kafka.spool_dir: %s: cannot read", path);
            return -1;
        }
        g->bytes = (uint64_t)st.st_size;
        s->total_bytes += g->bytes;
        s->unread += g->lines;
    }
    closedir(d);
    if (s->nsegs)
        qsort(s->segs, s->nsegs, sizeof(*s->segs), spool_cmp);
    return 0;
}

struct tl_spool *tl_spool_open(const char *dir, uint64_t max_bytes, int level, tl_counter *st,
                               char *errbuf, size_t n)
{
    struct tl_spool *s = calloc(1, sizeof(*s));
    if (!s) {
        snprintf(errbuf, n, "out of memory");
        return NULL;
    }
    s->st = st;
    s->level = level;
    s->max_bytes = max_bytes;
    s->seg_max = max_bytes / 8;
    if (s->seg_max > SPOOL_MAX_SEG)
        s->seg_max = SPOOL_MAX_SEG;
    if (s->seg_max < SPOOL_MIN_SEG)
        s->seg_max = SPOOL_MIN_SEG;
    s->next_seq = 1;
    s->dir = strdup(dir);
    s->cctx = ZSTD_createCCtx();
    s->dctx = ZSTD_createDCtx();
    s->wbuf_size = ZSTD_CStreamOutSize();
    s->rin_size = ZSTD_DStreamInSize();
    s->wbuf = malloc(s->wbuf_size);
    s->rin = malloc(s->rin_size);
    s->dcap = ZSTD_DStreamOutSize() * 2;
    s->d = malloc(s->dcap);
    if (!s->dir || !s->cctx || !s->dctx || !s->wbuf || !s->rin || !s->d) {
        snprintf(errbuf, n, "out of memory");
        goto fail;
    }
    ZSTD_CCtx_setParameter(s->cctx, ZSTD_c_compressionLevel, level);
    ZSTD_CCtx_setParameter(s->cctx, ZSTD_c_checksumFlag, 1);
    s->in = (ZSTD_inBuffer){ s->rin, 0, 0 };
    if (mkdir(dir, 0750) < 0 && errno != EEXIST) {
        snprintf(errbuf, n, "kafka.spool_dir: %s: %s", dir, strerror(errno));
        goto fail;
    }
    if (spool_scan(s, errbuf, n) < 0)
        goto fail;
    return s;
fail:
    tl_spool_close(s);
    return NULL;
}

void tl_spool_close(struct tl_spool *s)
{
    if (!s)
        return;
    spool_writer_close(s);
    spool_reader_close(s);
    ZSTD_freeCCtx(s->cctx);
    ZSTD_freeDCtx(s->dctx);
    free(s->wbuf);
    free(s->rin);
    free(s->d);
    free(s->segs);
    free(s->dir);
    free(s);
}
