/*
 * file.c - the file and stdout sink: JSON lines, rotation, SIGHUP reopen.
 *
 * Only whole lines are written, and a file is flushed before it is closed or
 * renamed, so no closed file ends in half a line. Rotation (by size before a
 * line would cross output.rotate_bytes, by age at output.rotate_seconds of
 * wall clock) renames PATH to STEM.<UTC yyyymmddThhmmssZ>[.N].jsonl and opens
 * PATH afresh. With output.compress_level, a compressor thread turns each
 * rotated file into .jsonl.zst (zstd streaming, written as .tmp and renamed,
 * so a .zst file is always complete), off the output thread.
 * SIGHUP (through tl_output_hup) reopens PATH in append mode, for logrotate.
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <zstd.h>

#include "log.h"
#include "sink.h"
#include "zbuf.h"

struct file_job {
    struct file_job *next;
    char *path; /* the rotated file; becomes path.zst */
};

/*
 * The output's stdio buffer. glibc ignores setvbuf()'s size unless it is given
 * the buffer too, and its default (st_blksize, 4 KiB) cost a write(2) per 4 KiB
 * of JSON: 60,000 system calls for a 250 MB replay.
 */
enum { FILE_IOBUF = 1 << 20 };

struct tl_file {
    FILE *f;
    char *iobuf; /* FILE_IOBUF bytes, f's buffer; stdout's is file_stdout_buf */
    char *path;
    bool is_stdout;
    uint64_t bytes, opened_us, rotate_bytes, rotate_us;
    int level;
    tl_counter *st;
    /* the compressor thread and its queue */
    pthread_t thread;
    bool thread_started, stop;
    pthread_mutex_t lock;
    pthread_cond_t cond;
    struct file_job *head, **tail;
};

uint64_t tl_sink_now_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

int tl_file_compress(const char *src, const char *dst, int level, char *errbuf, size_t n)
{
    char tmp[4096];
    FILE *in = NULL, *out = NULL;
    ZSTD_CCtx *cc = ZSTD_createCCtx();
    size_t isz = ZSTD_CStreamInSize(), osz = ZSTD_CStreamOutSize();
    char *ib = malloc(isz), *ob = malloc(osz);
    int rc = -1;

    snprintf(tmp, sizeof(tmp), "%s.tmp", dst);
    if (!cc || !ib || !ob) {
        snprintf(errbuf, n, "out of memory");
        goto fail;
    }
    if (!(in = fopen(src, "rb")) || !(out = fopen(tmp, "wb"))) {
        snprintf(errbuf, n, "%s: %s", in ? tmp : src, strerror(errno));
        goto fail;
    }
    ZSTD_CCtx_setParameter(cc, ZSTD_c_compressionLevel, level);
    ZSTD_CCtx_setParameter(cc, ZSTD_c_checksumFlag, 1);
    for (;;) {
        size_t got = fread(ib, 1, isz, in);
        bool last = got < isz;
        ZSTD_inBuffer zi = { ib, got, 0 };
        size_t left;
        do {
            ZSTD_outBuffer zo = { ob, osz, 0 };
            left = ZSTD_compressStream2(cc, &zo, &zi, last ? ZSTD_e_end : ZSTD_e_continue);
            if (ZSTD_isError(left)) {
                snprintf(errbuf, n, "%s: zstd: %s", src, ZSTD_getErrorName(left));
                goto fail;
            }
            if (fwrite(ob, 1, tl_zout_len(&zo), out) != tl_zout_len(&zo)) {
                snprintf(errbuf, n, "%s: %s", tmp, strerror(errno));
                goto fail;
            }
        } while (last ? left != 0 : !tl_zin_done(&zi));
        if (last)
            break;
    }
    if (ferror(in) || fflush(out) != 0 || fsync(fileno(out)) != 0) {
        snprintf(errbuf, n, "%s: %s", ferror(in) ? src : tmp, strerror(errno));
        goto fail;
    }
    if (fclose(out) != 0 || rename(tmp, dst) != 0) {
        out = NULL;
        snprintf(errbuf, n, "%s: %s", dst, strerror(errno));
        goto fail;
    }
    out = NULL;
    rc = 0;
fail:
    if (out) {
        fclose(out);
        unlink(tmp);
    }
    if (in)
        fclose(in);
    ZSTD_freeCCtx(cc);
    free(ib);
    free(ob);
    return rc;
}

static void *file_compressor(void *arg)
{
    struct tl_file *f = arg;
    char err[512], dst[4096 + 8];

    pthread_mutex_lock(&f->lock);
    for (;;) {
        while (!f->head && !f->stop)
            pthread_cond_wait(&f->cond, &f->lock);
        struct file_job *j = f->head;
        if (!j)
            break; /* stop, and nothing left to do */
        f->head = j->next;
        if (!f->head)
            f->tail = &f->head;
        pthread_mutex_unlock(&f->lock);
        snprintf(dst, sizeof(dst), "%s.zst", j->path);
        if (tl_file_compress(j->path, dst, f->level, err, sizeof(err)) == 0)
            unlink(j->path);
        else
            tl_log(TL_LOG_WARNING, "compressing a rotated file: %s", err);
        free(j->path);
        free(j);
        pthread_mutex_lock(&f->lock);
    }
    pthread_mutex_unlock(&f->lock);
    return NULL;
}

static void file_queue(struct tl_file *f, const char *path)
{
    struct file_job *j = calloc(1, sizeof(*j));
    if (!j || !(j->path = strdup(path))) {
        free(j);
        return; /* the rotated file stays plain */
    }
    if (!f->thread_started) {
        if (pthread_create(&f->thread, NULL, file_compressor, f) != 0) {
            free(j->path);
            free(j);
            return;
        }
        f->thread_started = true;
    }
    pthread_mutex_lock(&f->lock);
    *f->tail = j;
    f->tail = &j->next;
    pthread_cond_signal(&f->cond);
    pthread_mutex_unlock(&f->lock);
}

/* STEM.<time>[.N].jsonl, STEM being the path less a .jsonl or .json suffix; "" if none is free. */
static void file_rotated_name(const struct tl_file *f, char *out, size_t n)
{
    size_t len = strlen(f->path), stem = len;
    char ts[32];
    time_t now = time(NULL);
    struct tm tm;
    struct stat st;

    if (len > 6 && strcmp(f->path + len - 6, ".jsonl") == 0)
        stem = len - 6;
    else if (len > 5 && strcmp(f->path + len - 5, ".json") == 0)
        stem = len - 5;
    gmtime_r(&now, &tm);
    strftime(ts, sizeof(ts), "%Y%m%dT%H%M%SZ", &tm);
    for (unsigned i = 0; i < 10000; i++) {
        char alt[4096 + 8];
        if (i)
            snprintf(out, n, "%.*s.%s.%u.jsonl", (int)stem, f->path, ts, i);
        else
            snprintf(out, n, "%.*s.%s.jsonl", (int)stem, f->path, ts);
        snprintf(alt, sizeof(alt), "%s.zst", out);
        if (stat(out, &st) < 0 && stat(alt, &st) < 0)
            return;
    }
    out[0] = '\0';
}

static int file_open_path(struct tl_file *f, const char *mode)
{
    if (!(f->f = fopen(f->path, mode)))
        return -1;
    setvbuf(f->f, f->iobuf, _IOFBF, FILE_IOBUF);
    struct stat st;
    f->bytes = fstat(fileno(f->f), &st) == 0 ? (uint64_t)st.st_size : 0;
    f->opened_us = tl_sink_now_us();
    return 0;
}

static void file_rotate(struct tl_file *f)
{
    char rotated[4096];

    if (f->is_stdout || !f->f || !f->bytes)
        return;
    file_rotated_name(f, rotated, sizeof(rotated));
    if (fclose(f->f) != 0)
        tl_count(f->st, TL_STAT_OUTPUT_ERRORS, 1);
    f->f = NULL;
    if (!rotated[0] || rename(f->path, rotated) != 0) {
        tl_log(TL_LOG_WARNING, "rotating %s: %s", f->path,
               rotated[0] ? strerror(errno) : "no free name");
        file_open_path(f, "a");
        return;
    }
    tl_count(f->st, TL_STAT_OUTPUT_ROTATED, 1);
    if (file_open_path(f, "w") < 0)
        tl_log(TL_LOG_WARNING, "%s: %s", f->path, strerror(errno));
    if (f->level)
        file_queue(f, rotated);
}

struct tl_file *tl_file_open(const struct tl_config *cfg, const char *path, tl_counter *st,
                             char *errbuf, size_t n)
{
    struct tl_file *f = calloc(1, sizeof(*f));
    if (!f) {
        snprintf(errbuf, n, "out of memory");
        return NULL;
    }
    f->st = st;
    f->is_stdout = strcmp(path, "-") == 0;
    f->path = strdup(f->is_stdout ? "stdout" : path);
    f->rotate_bytes = cfg->rotate_bytes;
    f->rotate_us = cfg->rotate_secs;
    f->level = (int)(cfg->compress_level > (uint64_t)ZSTD_maxCLevel() ? (uint64_t)ZSTD_maxCLevel()
                                                                      : cfg->compress_level);
    f->tail = &f->head;
    pthread_mutex_init(&f->lock, NULL);
    pthread_cond_init(&f->cond, NULL);
    if (!f->path) {
        snprintf(errbuf, n, "out of memory");
        goto fail;
    }
    if (f->is_stdout) {
        /* stdout lives on after tl_file_close, so its buffer must too */
        static char file_stdout_buf[FILE_IOBUF];
        f->f = stdout;
        setvbuf(f->f, file_stdout_buf, _IOFBF, FILE_IOBUF);
    } else if (!(f->iobuf = malloc(FILE_IOBUF))) {
        snprintf(errbuf, n, "out of memory");
        goto fail;
    } else if (file_open_path(f, "w") < 0) {
        snprintf(errbuf, n, "%s: %s", path, strerror(errno));
        goto fail;
    }
    return f;
fail:
    free(f->iobuf);
    free(f->path);
    free(f);
    return NULL;
}

int tl_file_write(struct tl_file *f, const char *p, size_t n)
{
    if (f->rotate_bytes && f->bytes && f->bytes + n > f->rotate_bytes)
        file_rotate(f);
    if (!f->f)
        return -1;
    f->bytes += n;
    return fwrite(p, 1, n, f->f) == n ? 0 : -1;
}

int tl_file_flush(struct tl_file *f)
{
    if (f->rotate_us && tl_sink_now_us() - f->opened_us >= f->rotate_us) {
        if (f->bytes)
            file_rotate(f);
        else
            f->opened_us = tl_sink_now_us(); /* nothing to rotate: the age restarts */
    }
    return f->f && fflush(f->f) == 0 ? 0 : -1;
}

void tl_file_reopen(struct tl_file *f)
{
    if (f->is_stdout)
        return;
    if (f->f && fclose(f->f) != 0)
        tl_count(f->st, TL_STAT_OUTPUT_ERRORS, 1);
    if (file_open_path(f, "a") < 0)
        tl_log(TL_LOG_WARNING, "reopening %s: %s", f->path, strerror(errno));
    tl_count(f->st, TL_STAT_OUTPUT_REOPENED, 1);
}

void tl_file_close(struct tl_file *f)
{
    if (!f)
        return;
    if (f->f && (f->is_stdout ? fflush(f->f) : fclose(f->f)) != 0)
        tl_log(TL_LOG_WARNING, "%s: %s", f->path, strerror(errno));
    if (f->thread_started) {
        pthread_mutex_lock(&f->lock);
        f->stop = true;
        pthread_cond_signal(&f->cond);
        pthread_mutex_unlock(&f->lock);
        pthread_join(f->thread, NULL);
    }
    pthread_mutex_destroy(&f->lock);
    pthread_cond_destroy(&f->cond);
    free(f->iobuf);
    free(f->path);
    free(f);
}
