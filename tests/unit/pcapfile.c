/*
 * pcapfile.c - the capture file reader's buffers: packets handed out as
 * pointers stay intact until released, whatever the reader reads meanwhile;
 * it waits (on_full) rather than fill a buffer that holds a packet still in
 * use; a block larger than a buffer is read whole.
 */
#include <stdlib.h>
#include <unistd.h>

#include "check.h"
#include "pcapfile.h"

enum {
    PF_PACKETS = 16000, /* of PF_LEN bytes: 24 MB, more than all the reader's buffers */
    PF_LEN = 1500,
    PF_HELD = 10000, /* packets "in flight": 15 MB, more than the other buffers hold */
};

struct pf_file {
    char path[64];
    FILE *f;
};

static void pf_create(struct pf_file *pf)
{
    snprintf(pf->path, sizeof(pf->path), "/tmp/tl-pcapfile-XXXXXX");
    int fd = mkstemp(pf->path);
    pf->f = fd >= 0 ? fdopen(fd, "wb") : NULL;
    CHECK(pf->f != NULL);
}

static void pf_u32(FILE *f, uint32_t v)
{
    fwrite(&v, 4, 1, f);
}

static void pf_words(FILE *f, const uint32_t *w, size_t n)
{
    fwrite(w, 4, n, f);
}

/* Packet i's bytes: its number, then its low byte over and over. */
static void pf_fill(uint8_t *b, uint32_t i, uint32_t len)
{
    memset(b, (int)(i & 0xff), len);
    memcpy(b, &i, 4);
}

static bool pf_intact(const uint8_t *b, uint32_t i, uint32_t len)
{
    uint32_t got;
    memcpy(&got, b, 4);
    for (uint32_t k = 4; k < len; k++)
        if (b[k] != (i & 0xff))
            return false;
    return got == i;
}

static void pf_write_classic(struct pf_file *pf)
{
    static uint8_t b[PF_LEN];
    pf_create(pf);
    if (!pf->f)
        return;
    static const uint32_t header[] = { 0xa1b2c3d4, 0x00040002, 0, 0, 262144, 1 /* Ethernet */ };
    pf_words(pf->f, header, 6);
    for (uint32_t i = 0; i < PF_PACKETS; i++) {
        pf_u32(pf->f, 1700000000 + i / 1000);
        pf_u32(pf->f, i % 1000 * 1000);
        pf_u32(pf->f, PF_LEN);
        pf_u32(pf->f, PF_LEN);
        pf_fill(b, i, PF_LEN);
        fwrite(b, 1, PF_LEN, pf->f);
    }
    fclose(pf->f);
}

/* What a pipeline does with the packets: holds the last PF_HELD, checks each when done. */
struct pf_reader {
    struct tl_pcapfile *f;
    const uint8_t *data[PF_PACKETS];
    uint64_t off[PF_PACKETS];
    uint32_t first, next; /* held: [first, next) */
    unsigned waits, damaged;
    bool release; /* false: never releases (the reader must wait, not overwrite) */
};

/* Packets [first, upto) are done: checked, then released. */
static void pf_done(struct pf_reader *r, uint32_t upto)
{
    for (; r->first < upto; r->first++)
        if (!pf_intact(r->data[r->first], r->first, PF_LEN))
            r->damaged++;
    tl_pcapfile_release(r->f, r->first < r->next ? r->off[r->first] : UINT64_MAX);
}

static void pf_on_full(void *arg, uint64_t upto)
{
    struct pf_reader *r = arg;
    r->waits++;
    uint32_t i = r->first;
    while (i < r->next && r->off[i] < upto)
        i++;
    CHECK(i > r->first); /* it waits for a packet that is held */
    if (!r->release) {   /* what a stuck worker would leave: check, then let go */
        for (uint32_t k = r->first; k < r->next; k++)
            if (!pf_intact(r->data[k], k, PF_LEN))
                r->damaged++;
        r->release = true;
    }
    pf_done(r, i);
}

static void pf_read_all(struct pf_reader *r, const char *path, bool release)
{
    char err[256];
    struct tl_pkt pkt;
    memset(r, 0, sizeof(*r));
    r->release = release;
    r->f = tl_pcapfile_open(path, NULL, err, sizeof(err));
    CHECK(r->f != NULL);
    if (!r->f)
        return;
    tl_pcapfile_on_full(r->f, pf_on_full, r);
    tl_pcapfile_release(r->f, UINT64_MAX); /* nothing is pinned yet: that must not last */
    while (tl_pcapfile_next(r->f, &pkt) == TL_PCAP_PACKET && r->next < PF_PACKETS) {
        CHECK(pkt.pinned);
        CHECK_EQ(pkt.caplen, PF_LEN);
        r->data[r->next] = pkt.data;
        r->off[r->next++] = pkt.data_off;
        if (r->release && r->next - r->first > PF_HELD)
            pf_done(r, r->next - PF_HELD);
    }
    pf_done(r, r->next);
    tl_pcapfile_close(r->f);
}

/* Reads the whole file holding packets; release: as they are done, else never unless made to. */
static void pf_check_reader(bool release)
{
    struct pf_file pf;
    static struct pf_reader r;
    pf_write_classic(&pf);
    pf_read_all(&r, pf.path, release);
    CHECK_EQ(r.next, PF_PACKETS);
    CHECK_EQ(r.damaged, 0);
    CHECK(r.waits > 0); /* 15 MB held of 24, or all: the reader had to wait */
    unlink(pf.path);
}

static void test_pinned_until_released(void)
{
    pf_check_reader(true);
}

/*
 * Released "everything" while nothing was pinned, then nothing more: the reader
 * must still wait before it fills the buffer of a packet it handed out since.
 */
static void test_release_is_not_ahead_of_reading(void)
{
    pf_check_reader(false);
}

/* pcapng: a block larger than the reader's buffers (a comment of 4.5 MB on a packet). */
static void test_block_larger_than_a_buffer(void)
{
    enum { OPTS = 72, OPT_LEN = 65532, SMALL = 100 };
    struct pf_file pf;
    static uint8_t b[OPT_LEN];
    char err[256];
    struct tl_pkt pkt;

    pf_create(&pf);
    if (!pf.f)
        return;
    static const uint32_t head[] = {
        0x0A0D0D0A, 28, 0x1A2B3C4D, 1, 0xffffffff, 0xffffffff, 28, /* SHB, version 1.0 */
        1,          20, 1,          0, 20,                         /* IDB: Ethernet */
    };
    pf_words(pf.f, head, 12);
    for (uint32_t i = 0; i < 3; i++) { /* small, big, small */
        uint32_t opts = i == 1 ? OPTS * (4 + OPT_LEN) + 4 : 0;
        uint32_t len = 32 + SMALL + opts;
        pf_u32(pf.f, 6);
        pf_u32(pf.f, len);
        pf_u32(pf.f, 0);
        pf_u32(pf.f, 0);
        pf_u32(pf.f, i);
        pf_u32(pf.f, SMALL);
        pf_u32(pf.f, SMALL);
        pf_fill(b, i, SMALL);
        fwrite(b, 1, SMALL, pf.f);
        for (unsigned k = 0; opts && k < OPTS; k++) {
            pf_u32(pf.f, 1 | (uint32_t)OPT_LEN << 16); /* opt_comment */
            memset(b, 'c', OPT_LEN);
            fwrite(b, 1, OPT_LEN, pf.f);
        }
        if (opts)
            pf_u32(pf.f, 0); /* opt_endofopt */
        pf_u32(pf.f, len);
    }
    fclose(pf.f);

    struct tl_pcapfile *f = tl_pcapfile_open(pf.path, NULL, err, sizeof(err));
    CHECK(f != NULL);
    for (uint32_t i = 0; f && i < 3; i++) {
        CHECK_EQ(tl_pcapfile_next(f, &pkt), TL_PCAP_PACKET);
        CHECK_EQ(pkt.caplen, SMALL);
        CHECK(pf_intact(pkt.data, i, SMALL));
        CHECK_EQ(pkt.ts_us, i);
    }
    if (f) {
        CHECK_EQ(tl_pcapfile_next(f, &pkt), TL_PCAP_END);
        tl_pcapfile_close(f);
    }
    unlink(pf.path);
}

const struct tl_test tl_tests_pcapfile[] = {
    { "pinned_until_released", test_pinned_until_released },
    { "release_is_not_ahead_of_reading", test_release_is_not_ahead_of_reading },
    { "block_larger_than_a_buffer", test_block_larger_than_a_buffer },
    { NULL, NULL },
};
