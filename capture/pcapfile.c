/*
 * pcapfile.c - pcap and pcapng files, read through bounds-checked cursors.
 *
 * Formats: the classic libpcap format (https://www.tcpdump.org/manpages/pcap-savefile.5.html,
 * microsecond and nanosecond magics, either byte order) and pcapng
 * (draft-ietf-opsawg-pcapng: SHB, IDB, EPB, SPB, the obsolete PB; other
 * blocks are skipped by their length).
 *
 * Input is read with large read() calls into a few windows used in turn
 * (READ_WINDOWS of READ_WINDOW bytes), the same for files, pipes and stdin.
 * Packets are handed out as pointers into a window, not copied; a window is
 * filled again only once every packet in it was released (tl_pcapfile_release,
 * waiting through the hook of tl_pcapfile_on_full if need be). The file is
 * not mapped: where every newly mapped page takes a fault that costs more than
 * the copy (about 2 us a fault under one hypervisor measured); where the
 * kernel maps large folios it saved only 1-5% of the CPU; and a mapped file
 * another process cuts short was read past its new end as junk, where read()
 * simply ends (README, Benchmark). The windows sit in huge pages where the kernel allows
 * (fewer TLB misses), and the next record's header is fetched ahead while a
 * packet is handed over: a 2 MiB read() leaves it out of the nearer caches.
 * Every record or block is first made whole in the window
 * (win_need), then parsed by a cursor over exactly its bytes; nothing is read
 * past a length before that length was checked against the window and the caps
 * of pcapfile.h. A file that ends inside a record or block is "cut" (the caller
 * warns with the offset), any other inconsistency "bad" (the caller reports an
 * error with the offset).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cursor.h"
#include "pcapfile.h"

enum {
    PCAP_HDR = 24,
    PCAP_REC = 16,
    NG_SHB = 0x0A0D0D0A,
    NG_IDB = 1,
    NG_PB = 2, /* obsolete Packet Block */
    NG_SPB = 3,
    NG_EPB = 6,
    NG_BOM = 0x1A2B3C4D,
    NG_OPT_TSRESOL = 9,
    NG_OPT_TSOFFSET = 14,
    /* bytes a read() fills at most (a larger block gets a buffer of its own), and the windows
     * used in turn: what the workers may still be reading. 2 MiB, one huge page, and three of
     * them: larger or more windows were no faster and cost their size in resident memory, and
     * the batches in flight that point into them (README, Benchmark) */
    READ_WINDOW = 2 << 20,
    READ_WINDOWS = 3,
};

struct ng_iface {
    int linktype;
    uint32_t snaplen;
    uint64_t per_sec; /* timestamp units per second */
    int64_t offset_s; /* if_tsoffset */
};

struct tl_pcapfile {
    const char *name;
    int fd;
    /* the window: bytes [win_off, win_off + win_len) of the file at win, which holds win_cap */
    uint8_t *win;
    size_t win_len, win_cap;
    uint64_t win_off;
    size_t at; /* next unread byte, relative to win */
    bool eof;  /* no more bytes to read */
    uint8_t *ring[READ_WINDOWS];
    uint64_t ring_end[READ_WINDOWS]; /* file offset past the last byte a packet may use in it */
    unsigned cur;                    /* the ring window in use (unless win is big) */
    uint64_t released;               /* no packet before this file offset is read any more */
    uint8_t *big;                    /* a block larger than a window: read here, not pinned */
    size_t big_cap;
    void (*on_full)(void *arg, uint64_t upto); /* NULL: packets are valid until the next call */
    void *on_full_arg;
    uint64_t rec_off; /* offset of the record or block being read */
    bool ng;
    bool swapped; /* classic: the other byte order; ng: the section's byte order is big endian */
    bool nanos;   /* classic: nanosecond timestamps */
    int linktype; /* classic: the file's; ng: the first interface's, -1 before */
    uint32_t snaplen;
    struct ng_iface *ifaces;
    uint32_t nifaces, cap_ifaces;
    char error[192];
};

/* ---- the window ---- */

/* A ring window, in huge pages where the kernel has them: fewer TLB misses for the reads. */
static uint8_t *win_alloc(void)
{
    void *p = NULL;
    if (posix_memalign(&p, 2u << 20, READ_WINDOW) != 0)
        return NULL;
    madvise(p, READ_WINDOW, MADV_HUGEPAGE);
    return p;
}

/* Reads into the window until n bytes are there from `at`, it is full, or the input ends. */
static bool win_read(struct tl_pcapfile *f, size_t n)
{
    while (f->win_len - f->at < n && f->win_len < f->win_cap && !f->eof) {
        ssize_t r = read(f->fd, f->win + f->win_len, f->win_cap - f->win_len);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0) {
            f->eof = true;
            break;
        }
        f->win_len += (size_t)r;
    }
    if (f->win != f->big)
        f->ring_end[f->cur] = f->win_off + f->win_len;
    return f->win_len - f->at >= n;
}

/*
 * The bytes from `at` on move to the start of another buffer, which n bytes
 * fit: the next ring window once no packet in it is read any more, or (a
 * block larger than a window) a buffer of its own.
 */
static bool win_move(struct tl_pcapfile *f, size_t n)
{
    uint8_t *to;
    size_t cap = READ_WINDOW;
    if (f->win != f->big)
        f->ring_end[f->cur] = f->win_off + f->at; /* what follows is not read from here */
    if (n > READ_WINDOW) {
        if (n > f->big_cap) {
            uint8_t *b = malloc(n);
            if (!b)
                return false;
            memcpy(b, f->win + f->at, f->win_len - f->at);
            free(f->big);
            f->big = b;
            f->big_cap = n;
        } else {
            memmove(f->big, f->win + f->at, f->win_len - f->at);
        }
        to = f->big;
        cap = f->big_cap;
    } else {
        unsigned next = (f->cur + 1) % READ_WINDOWS;
        if (!f->ring[next] && !(f->ring[next] = win_alloc()))
            return false;
        while (f->on_full && f->ring_end[next] > f->released)
            f->on_full(f->on_full_arg, f->ring_end[next]);
        f->cur = next;
        to = f->ring[next];
        memmove(to, f->win + f->at, f->win_len - f->at); /* from another window, or big */
    }
    f->win_off += f->at;
    f->win_len -= f->at;
    f->at = 0;
    f->win = to;
    f->win_cap = cap;
    return true;
}

/* win_need's slow path: the window holds fewer than n bytes from at. */
static bool win_fill(struct tl_pcapfile *f, size_t n)
{
    if (f->eof || (n > f->win_cap - f->at && !win_move(f, n)))
        return false;
    return win_read(f, n);
}

/* Are n bytes available from `at`? Reads more if needed. */
static inline bool win_need(struct tl_pcapfile *f, size_t n)
{
    return f->win_len - f->at >= n || win_fill(f, n);
}

/* A cursor over the next n bytes (which win_need checked), consuming them. */
static struct tl_cursor win_take(struct tl_pcapfile *f, size_t n)
{
    struct tl_cursor c = tl_cur_make(f->win + f->at, n);
    f->at += n;
    return c;
}

/*
 * Starts loading the next record's header while this packet is decoded and
 * handed over: the read() copy left it out of cache, and waiting for it was
 * most of the reader's own time.
 */
static void win_prefetch(const struct tl_pcapfile *f)
{
    if (f->at < f->win_len)
        __builtin_prefetch(f->win + f->at);
}

static bool win_at_end(struct tl_pcapfile *f)
{
    return !win_need(f, 1);
}

static enum tl_pcap_next pcap_bad(struct tl_pcapfile *f, const char *why)
{
    snprintf(f->error, sizeof(f->error), "%s", why);
    return TL_PCAP_BAD;
}

/* ---- byte order ---- */

static inline uint32_t rd32(struct tl_cursor *c, bool big)
{
    return big ? tl_cur_be32(c) : tl_cur_le32(c);
}

static inline uint16_t rd16(struct tl_cursor *c, bool big)
{
    return big ? tl_cur_be16(c) : tl_cur_le16(c);
}

/* ---- classic pcap ---- */

static int pcap_open_classic(struct tl_pcapfile *f, uint32_t magic_le)
{
    if (!win_need(f, PCAP_HDR))
        return -1;
    struct tl_cursor c = win_take(f, PCAP_HDR);
    f->swapped = magic_le == 0xd4c3b2a1 || magic_le == 0x4d3cb2a1;
    f->nanos = magic_le == 0xa1b23c4d || magic_le == 0x4d3cb2a1;
    tl_cur_skip(&c, 16); /* magic, version, thiszone, sigfigs */
    f->snaplen = rd32(&c, f->swapped);
    f->linktype = (int)(rd32(&c, f->swapped) & 0x0fffffff); /* upper bits: FCS length */
    return 0;
}

static enum tl_pcap_next pcap_next_classic(struct tl_pcapfile *f, struct tl_pkt *p)
{
    f->rec_off = f->win_off + f->at;
    if (win_at_end(f))
        return TL_PCAP_END;
    if (!win_need(f, PCAP_REC))
        return TL_PCAP_CUT;
    struct tl_cursor c = tl_cur_make(f->win + f->at, PCAP_REC);
    uint32_t sec = rd32(&c, f->swapped), frac = rd32(&c, f->swapped);
    uint32_t caplen = rd32(&c, f->swapped), wirelen = rd32(&c, f->swapped);
    if (caplen > TL_PCAP_MAX_PACKET)
        return pcap_bad(f, "captured length larger than 262144 bytes");
    if (!win_need(f, PCAP_REC + (size_t)caplen))
        return TL_PCAP_CUT;
    f->at += PCAP_REC;
    struct tl_cursor body = win_take(f, caplen);
    win_prefetch(f);
    p->data = tl_cur_bytes(&body, caplen);
    p->caplen = caplen;
    p->wirelen = wirelen < caplen ? caplen : wirelen;
    p->ts_us = (uint64_t)sec * 1000000u + (f->nanos ? frac / 1000u : frac);
    p->linktype = f->linktype;
    p->iface = 0;
    return TL_PCAP_PACKET;
}

/* ---- pcapng ---- */

/* Units per second from if_tsresol: 10^-v, or 2^-v when the top bit is set. */
static bool ng_resolution(uint8_t v, uint64_t *per_sec)
{
    unsigned e = v & 0x7f;
    if (v & 0x80) {
        if (e > 63)
            return false;
        *per_sec = (uint64_t)1 << e;
        return true;
    }
    if (e > 19)
        return false;
    uint64_t r = 1;
    while (e--)
        r *= 10;
    *per_sec = r;
    return true;
}

/* The options of an IDB: the cursor holds them; fills resolution and offset. */
static bool ng_iface_options(struct tl_cursor *c, bool big, struct ng_iface *ifc)
{
    while (tl_cur_left(c) >= 4) {
        uint16_t code = rd16(c, big), len = rd16(c, big);
        struct tl_cursor val;
        if (!tl_cur_sub(c, len, &val) || !tl_cur_skip(c, (4 - len % 4) % 4))
            return false;
        if (code == 0)
            break;
        if (code == NG_OPT_TSRESOL && len >= 1 && !ng_resolution(tl_cur_u8(&val), &ifc->per_sec))
            return false;
        if (code == NG_OPT_TSOFFSET && len == 8) {
            uint64_t hi = rd32(&val, big), lo = rd32(&val, big);
            uint64_t v = big ? hi << 32 | lo : lo << 32 | hi;
            ifc->offset_s = (int64_t)v;
        }
    }
    return true;
}

static enum tl_pcap_next ng_idb(struct tl_pcapfile *f, struct tl_cursor *b)
{
    struct ng_iface ifc = { 0, 0, 1000000, 0 };
    ifc.linktype = rd16(b, f->swapped);
    tl_cur_skip(b, 2);
    ifc.snaplen = rd32(b, f->swapped);
    if (!tl_cur_ok(b) || !ng_iface_options(b, f->swapped, &ifc))
        return pcap_bad(f, "malformed interface description block");
    if (f->nifaces == TL_PCAPNG_MAX_IFACES)
        return pcap_bad(f, "more than 4096 interfaces in one section");
    if (f->nifaces == f->cap_ifaces) {
        uint32_t cap = f->cap_ifaces ? f->cap_ifaces * 2 : 4;
        struct ng_iface *v = realloc(f->ifaces, cap * sizeof(*v));
        if (!v)
            return pcap_bad(f, "out of memory");
        f->ifaces = v;
        f->cap_ifaces = cap;
    }
    f->ifaces[f->nifaces++] = ifc;
    if (f->linktype < 0)
        f->linktype = ifc.linktype;
    return TL_PCAP_END; /* not a packet: the caller reads on */
}

/* Microseconds since the epoch from a pcapng timestamp in the interface's units. */
static uint64_t ng_time(const struct ng_iface *ifc, uint64_t units)
{
    uint64_t secs = units / ifc->per_sec, rest = units % ifc->per_sec;
    uint64_t us = (uint64_t)((unsigned __int128)rest * 1000000u / ifc->per_sec);
    int64_t s = (int64_t)secs + ifc->offset_s;
    return s < 0 ? 0 : (uint64_t)s * 1000000u + us;
}

/* EPB, SPB or PB: the packet fields of the block body in b. */
static enum tl_pcap_next ng_packet(struct tl_pcapfile *f, uint32_t type, struct tl_cursor *b,
                                   struct tl_pkt *p)
{
    uint32_t iface = 0, hi = 0, lo = 0, caplen, wirelen;
    if (type == NG_SPB) {
        wirelen = rd32(b, f->swapped);
        caplen = wirelen;
    } else {
        iface = type == NG_PB ? rd16(b, f->swapped) : rd32(b, f->swapped);
        if (type == NG_PB)
            tl_cur_skip(b, 2); /* drops count */
        hi = rd32(b, f->swapped);
        lo = rd32(b, f->swapped);
        caplen = rd32(b, f->swapped);
        wirelen = rd32(b, f->swapped);
    }
    if (!tl_cur_ok(b))
        return pcap_bad(f, "packet block too short");
    if (iface >= f->nifaces)
        return pcap_bad(f, "packet of an interface that was never described");
    const struct ng_iface *ifc = &f->ifaces[iface];
    if (type == NG_SPB) { /* its captured length is what the block holds, up to the snaplen */
        if (ifc->snaplen && caplen > ifc->snaplen)
            caplen = ifc->snaplen;
        if (caplen > tl_cur_left(b))
            caplen = (uint32_t)tl_cur_left(b);
    }
    if (caplen > TL_PCAP_MAX_PACKET || caplen > tl_cur_left(b))
        return pcap_bad(f, "captured length larger than the block");
    p->data = tl_cur_bytes(b, caplen);
    p->caplen = caplen;
    p->wirelen = wirelen < caplen ? caplen : wirelen;
    p->ts_us = type == NG_SPB ? 0 : ng_time(ifc, (uint64_t)hi << 32 | lo);
    p->linktype = ifc->linktype;
    p->iface = iface;
    return TL_PCAP_PACKET;
}

/* A Section Header Block at `at`: its byte order; a new section forgets the interfaces. */
static enum tl_pcap_next ng_shb(struct tl_pcapfile *f, uint32_t *len)
{
    if (!win_need(f, 12))
        return TL_PCAP_CUT;
    struct tl_cursor c = tl_cur_make(f->win + f->at + 8, 4);
    uint32_t bom = tl_cur_le32(&c);
    if (bom != NG_BOM && bom != 0x4D3C2B1A)
        return pcap_bad(f, "section header with an unknown byte-order magic");
    f->swapped = bom != NG_BOM;
    c = tl_cur_make(f->win + f->at + 4, 4);
    *len = rd32(&c, f->swapped);
    f->nifaces = 0;
    return TL_PCAP_END;
}

static enum tl_pcap_next pcap_next_ng(struct tl_pcapfile *f, struct tl_pkt *p)
{
    for (;;) {
        f->rec_off = f->win_off + f->at;
        if (win_at_end(f))
            return TL_PCAP_END;
        if (!win_need(f, 8))
            return TL_PCAP_CUT;
        struct tl_cursor h = tl_cur_make(f->win + f->at, 8);
        uint32_t type = tl_cur_le32(&h), len;
        if (type == NG_SHB) {
            enum tl_pcap_next r = ng_shb(f, &len);
            if (r != TL_PCAP_END)
                return r;
        } else {
            h = tl_cur_make(f->win + f->at, 8);
            type = rd32(&h, f->swapped);
            len = rd32(&h, f->swapped);
        }
        if (len < 12 || len % 4 || len > TL_PCAPNG_MAX_BLOCK)
            return pcap_bad(f, "block with an impossible length");
        if (!win_need(f, len))
            return TL_PCAP_CUT;
        struct tl_cursor blk = win_take(f, len), body;
        win_prefetch(f);
        tl_cur_skip(&blk, 8);
        tl_cur_sub(&blk, len - 12, &body);
        if (rd32(&blk, f->swapped) != len)
            return pcap_bad(f, "block whose trailing length differs from its leading one");
        enum tl_pcap_next r = TL_PCAP_END;
        if (type == NG_IDB)
            r = ng_idb(f, &body);
        else if (type == NG_EPB || type == NG_SPB || type == NG_PB)
            r = ng_packet(f, type, &body, p);
        if (r != TL_PCAP_END)
            return r;
    }
}

/* ---- opening ---- */

static int pcap_first_window(struct tl_pcapfile *f)
{
    f->ring[0] = win_alloc();
    if (!f->ring[0])
        return -1;
    f->win = f->ring[0];
    f->win_cap = READ_WINDOW;
    return 0;
}

struct tl_pcapfile *tl_pcapfile_open(const char *path, bool *not_capture, char *errbuf, size_t n)
{
    bool is_stdin = strcmp(path, "-") == 0;
    struct tl_pcapfile *f = calloc(1, sizeof(*f));

    if (not_capture)
        *not_capture = false;
    if (!f) {
        snprintf(errbuf, n, "%s: out of memory", path);
        return NULL;
    }
    f->name = is_stdin ? "stdin" : path;
    f->linktype = -1;
    f->fd = is_stdin ? STDIN_FILENO : open(path, O_RDONLY | O_CLOEXEC);
    if (f->fd < 0) {
        snprintf(errbuf, n, "%s: %s", f->name, strerror(errno));
        goto fail;
    }
    if (pcap_first_window(f) < 0) {
        snprintf(errbuf, n, "%s: out of memory", f->name);
        goto fail;
    }
    if (!win_need(f, 4)) {
        snprintf(errbuf, n, "%s: empty, or too short to be a capture file", f->name);
        if (not_capture)
            *not_capture = true;
        goto fail;
    }
    struct tl_cursor c = tl_cur_make(f->win, 4);
    uint32_t magic = tl_cur_le32(&c);
    if (magic == 0xa1b2c3d4 || magic == 0xa1b23c4d || magic == 0xd4c3b2a1 || magic == 0x4d3cb2a1) {
        if (pcap_open_classic(f, magic) < 0) {
            snprintf(errbuf, n, "%s: capture cut off in its file header", f->name);
            goto fail;
        }
        return f;
    }
    if (magic == NG_SHB) {
        f->ng = true;
        return f;
    }
    snprintf(errbuf, n, "%s: not a pcap or pcapng capture file", f->name);
    if (not_capture)
        *not_capture = true;
fail:
    tl_pcapfile_close(f);
    return NULL;
}

void tl_pcapfile_on_full(struct tl_pcapfile *f, void (*on_full)(void *arg, uint64_t upto),
                         void *arg)
{
    f->on_full = on_full;
    f->on_full_arg = arg;
}

void tl_pcapfile_release(struct tl_pcapfile *f, uint64_t below)
{
    uint64_t read = f->win_off + f->at; /* nothing pinned now: what comes next will be */
    if (below > read)
        below = read;
    if (below > f->released)
        f->released = below;
}

enum tl_pcap_next tl_pcapfile_next(struct tl_pcapfile *f, struct tl_pkt *pkt)
{
    enum tl_pcap_next r = f->ng ? pcap_next_ng(f, pkt) : pcap_next_classic(f, pkt);
    if (r == TL_PCAP_PACKET) {
        pkt->pinned = f->on_full && f->win != f->big;
        pkt->data_off = f->win_off + (uint64_t)(pkt->data - f->win);
    }
    return r;
}

uint64_t tl_pcapfile_offset(const struct tl_pcapfile *f)
{
    return f->rec_off;
}

const char *tl_pcapfile_error(const struct tl_pcapfile *f)
{
    return f->error;
}

bool tl_pcapfile_is_ng(const struct tl_pcapfile *f)
{
    return f->ng;
}

int tl_pcapfile_linktype(const struct tl_pcapfile *f)
{
    return f->linktype;
}

void tl_pcapfile_close(struct tl_pcapfile *f)
{
    if (!f)
        return;
    for (unsigned i = 0; i < READ_WINDOWS; i++)
        free(f->ring[i]);
    free(f->big);
    free(f->ifaces);
    if (f->fd > STDIN_FILENO)
        close(f->fd);
    free(f);
}
