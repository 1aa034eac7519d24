/*
 * metrics.c - the Prometheus endpoint (metrics.listen), served by libmicrohttpd.
 *
 * GET /metrics answers the text exposition format 0.0.4 that the caller's
 * function writes (the pipeline's counters: flows/pipeline.c); anything else
 * is 404. libmicrohttpd runs its own thread; the text is made per scrape from
 * a snapshot the pipeline refreshes, so a scrape never touches the packet path.
 */
#include <arpa/inet.h>
#include <microhttpd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "event.h"
#include "metrics.h"

struct tl_metrics {
    struct MHD_Daemon *d;
    tl_metrics_fn fn;
    void *arg;
};

static enum MHD_Result metrics_answer(void *cls, struct MHD_Connection *conn, const char *url,
                                      const char *method, const char *version, const char *upload,
                                      size_t *upload_size, void **state)
{
    struct tl_metrics *m = cls;
    struct tl_buf body = { 0 };
    (void)version;
    (void)upload;
    (void)upload_size;
    (void)state;

    bool found = strcmp(url, "/metrics") == 0;
    if (strcmp(method, "GET") != 0 && strcmp(method, "HEAD") != 0)
        return MHD_NO;
    if (found)
        m->fn(m->arg, &body);
    else
        tl_buf_puts(&body, "tapline serves /metrics\n");
    static char empty[1];
    struct MHD_Response *r =
        MHD_create_response_from_buffer(body.len, body.p ? body.p : empty, MHD_RESPMEM_MUST_COPY);
    tl_buf_free(&body);
    if (!r)
        return MHD_NO;
    MHD_add_response_header(r, "Content-Type",
                            found ? "text/plain; version=0.0.4; charset=utf-8" : "text/plain");
    enum MHD_Result rc = MHD_queue_response(conn, found ? MHD_HTTP_OK : MHD_HTTP_NOT_FOUND, r);
    MHD_destroy_response(r);
    return rc;
}

/* HOST:PORT or [V6]:PORT into a socket address; -1 when it is neither. */
static int metrics_address(const char *listen, struct sockaddr_storage *ss)
{
    char host[64];
    const char *colon = strrchr(listen, ':');
    if (!colon || colon == listen || (size_t)(colon - listen) >= sizeof(host))
        return -1;
    char *end;
    long port = strtol(colon + 1, &end, 10);
    if (*end || end == colon + 1 || port < 1 || port > 65535)
        return -1;
    memcpy(host, listen, (size_t)(colon - listen));
    host[colon - listen] = '\0';
    memset(ss, 0, sizeof(*ss));
    struct sockaddr_in *v4 = (struct sockaddr_in *)(void *)ss;
    struct sockaddr_in6 *v6 = (struct sockaddr_in6 *)(void *)ss;
    size_t hl = strlen(host);
    if (hl > 2 && host[0] == '[' && host[hl - 1] == ']') {
        host[hl - 1] = '\0';
        v6->sin6_family = AF_INET6;
        v6->sin6_port = htons((uint16_t)port);
        return inet_pton(AF_INET6, host + 1, &v6->sin6_addr) == 1 ? 0 : -1;
    }
    v4->sin_family = AF_INET;
    v4->sin_port = htons((uint16_t)port);
    return inet_pton(AF_INET, host, &v4->sin_addr) == 1 ? 0 : -1;
}

struct tl_metrics *tl_metrics_start(const char *listen, tl_metrics_fn fn, void *arg, char *errbuf,
                                    size_t n)
{
    struct sockaddr_storage ss;
    if (metrics_address(listen, &ss) < 0) {
        snprintf(errbuf, n, "metrics.listen: '%s' is not ADDRESS:PORT (e.g. 127.0.0.1:9108)",
                 listen);
        return NULL;
    }
    struct tl_metrics *m = calloc(1, sizeof(*m));
    if (!m) {
        snprintf(errbuf, n, "out of memory");
        return NULL;
    }
    m->fn = fn;
    m->arg = arg;
    unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_ERROR_LOG;
    if (ss.ss_family == AF_INET6)
        flags |= MHD_USE_IPv6;
    m->d = MHD_start_daemon(flags, 0, NULL, NULL, metrics_answer, m, MHD_OPTION_SOCK_ADDR,
                            (struct sockaddr *)&ss, MHD_OPTION_CONNECTION_LIMIT, 16u,
                            MHD_OPTION_CONNECTION_TIMEOUT, 10u, MHD_OPTION_END);
    if (!m->d) {
        snprintf(errbuf, n, "metrics.listen: cannot listen on %s", listen);
        free(m);
        return NULL;
    }
    return m;
}

void tl_metrics_stop(struct tl_metrics *m)
{
    if (!m)
        return;
    MHD_stop_daemon(m->d);
    free(m);
}
