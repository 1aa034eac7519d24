/*
 * output.c - the file and stdout sink: JSON lines, whole lines per write.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "event.h"

struct tl_output {
    FILE *f;
    bool is_stdout;
    char *path;
};

struct tl_output *tl_output_open(const char *path, char *errbuf, size_t n)
{
    struct tl_output *o = calloc(1, sizeof(*o));
    if (!o) {
        snprintf(errbuf, n, "out of memory");
        return NULL;
    }
    o->is_stdout = !path || strcmp(path, "-") == 0;
    o->path = strdup(o->is_stdout ? "stdout" : path);
    o->f = o->is_stdout ? stdout : fopen(path, "w");
    if (!o->f || !o->path) {
        snprintf(errbuf, n, "%s: %s", path, strerror(errno));
        free(o->path);
        free(o);
        return NULL;
    }
    setvbuf(o->f, NULL, _IOFBF, 1 << 20);
    return o;
}

int tl_output_write(struct tl_output *o, const char *p, size_t n)
{
    return fwrite(p, 1, n, o->f) == n ? 0 : -1;
}

int tl_output_flush(struct tl_output *o)
{
    return fflush(o->f) == 0 ? 0 : -1;
}

void tl_output_close(struct tl_output *o)
{
    if (!o)
        return;
    if (o->is_stdout)
        fflush(o->f);
    else
        fclose(o->f);
    free(o->path);
    free(o);
}
