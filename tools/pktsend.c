/*
 * pktsend.c - the live benchmark's packet source (`make bench BENCH_LIVE=1`).
 *
 *   pktsend IFACE PCAP [PACKETS [PPS]]
 *
 * Sends the first PACKETS packets (0 or absent: all) of the classic pcap PCAP out of IFACE, at PPS
 * packets per second (0 or absent: as fast as the kernel takes them), and prints one line:
 *
 *   sent N packets (B bytes) in S s: R pps, M Mbit/s, E send errors, K skipped
 *
 * tcpreplay makes one system call per packet and, on a veth pair, the kernel delivers each
 * packet to the capturing side in the sender's own context, so on a two-core machine it topped
 * out near the rates tapline takes without a drop. pktsend maps the file with its page tables
 * filled (so the sending meets no page fault), then hands
 * them to an AF_PACKET socket 64 at a time with sendmmsg(2), bypassing the queueing discipline,
 * which leaves the kernel's delivery as almost the whole cost of a packet. A rate is kept by
 * sleeping until each batch is due (absolute CLOCK_MONOTONIC deadlines), with batches small
 * enough that a burst is at most a millisecond of traffic.
 *
 * Packets are sent as captured (caplen bytes); the file must be Ethernet (link type 1), and
 * records shorter than an Ethernet header are skipped ("K skipped"). A send the device refuses
 * for a full queue (ENOBUFS, EAGAIN) is tried again and counted in "E send errors". Needs
 * CAP_NET_RAW.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/if_packet.h>
#include <net/if.h>
#include <netinet/in.h>
#include <sched.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

enum { BATCH = 64, MAX_FRAME = 65535, ETH_HLEN = 14, LINKTYPE_ETHERNET = 1 };

struct capture {
    uint8_t *data; /* the whole file, mapped */
    size_t size;
    struct iovec *pkts; /* into data */
    size_t count;
    size_t skipped; /* records shorter than an Ethernet header */
};

static void die(const char *what)
{
    fprintf(stderr, "pktsend: %s: %s\n", what, strerror(errno));
    exit(1);
}

static uint32_t rd32(const uint8_t *p, int swap)
{
    uint32_t v;
    memcpy(&v, p, 4);
    return swap ? __builtin_bswap32(v) : v;
}

/* Maps the file with its page tables filled, so sending meets no page fault. */
static void map_file(const char *path, struct capture *c)
{
    int fd = open(path, O_RDONLY);
    if (fd < 0)
        die(path);
    struct stat st;
    if (fstat(fd, &st) != 0)
        die(path);
    c->size = (size_t)st.st_size;
    c->data = c->size ? mmap(NULL, c->size, PROT_READ, MAP_PRIVATE | MAP_POPULATE, fd, 0) : NULL;
    if (c->data == MAP_FAILED)
        die(path);
    close(fd);
}

/*
 * Indexes up to `limit` Ethernet frames; a record cut short by the end of the file ends it (with
 * a warning). Records shorter than an Ethernet header, which the kernel refuses to send, are
 * skipped and counted.
 */
static void index_packets(const char *path, struct capture *c, size_t limit)
{
    if (c->size < 24) {
        fprintf(stderr, "pktsend: %s: shorter than a pcap header\n", path);
        exit(1);
    }
    uint32_t magic = rd32(c->data, 0);
    int swap;
    if (magic == 0xa1b2c3d4 || magic == 0xa1b23c4d)
        swap = 0;
    else if (magic == 0xd4c3b2a1 || magic == 0x4d3cb2a1)
        swap = 1;
    else {
        fprintf(stderr, "pktsend: %s: not a classic pcap file (magic %08x)\n", path, magic);
        exit(1);
    }
    uint32_t linktype = rd32(c->data + 20, swap) & 0xffff;
    if (linktype != LINKTYPE_ETHERNET) {
        fprintf(stderr, "pktsend: %s: link type %u, not Ethernet (1)\n", path, linktype);
        exit(1);
    }
    size_t cap = 1024;
    c->pkts = malloc(cap * sizeof *c->pkts);
    if (!c->pkts)
        die("malloc");
    size_t off = 24;
    while (c->count < limit && c->size - off >= 16) {
        uint32_t caplen = rd32(c->data + off + 8, swap);
        off += 16;
        if (caplen > c->size - off)
            break;
        if (caplen > MAX_FRAME) {
            fprintf(stderr, "pktsend: %s: packet %zu has %u bytes, more than a frame\n", path,
                    c->count, caplen);
            exit(1);
        }
        if (caplen < ETH_HLEN) {
            c->skipped++;
            off += caplen;
            continue;
        }
        if (c->count == cap) {
            cap *= 2;
            c->pkts = realloc(c->pkts, cap * sizeof *c->pkts);
            if (!c->pkts)
                die("realloc");
        }
        c->pkts[c->count++] = (struct iovec){ c->data + off, caplen };
        off += caplen;
    }
    if (c->count < limit && off < c->size)
        fprintf(stderr,
                "pktsend: %s: cut inside a packet record at offset %zu; sending %zu packets\n",
                path, off, c->count);
}

static int open_socket(const char *iface)
{
    int fd = socket(AF_PACKET, SOCK_RAW, 0);
    if (fd < 0)
        die("socket(AF_PACKET)");
    unsigned ifindex = if_nametoindex(iface);
    if (ifindex == 0)
        die(iface);
    struct sockaddr_ll sll = { .sll_family = AF_PACKET, .sll_ifindex = (int)ifindex };
    if (bind(fd, (struct sockaddr *)&sll, sizeof sll) != 0)
        die("bind");
    int one = 1;
    if (setsockopt(fd, SOL_PACKET, PACKET_QDISC_BYPASS, &one, sizeof one) != 0)
        die("PACKET_QDISC_BYPASS");
    int sndbuf = 16 << 20;
    setsockopt(fd, SOL_SOCKET, SO_SNDBUFFORCE, &sndbuf, sizeof sndbuf);
    return fd;
}

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void sleep_until(double t)
{
    struct timespec ts = { (time_t)t, (long)((t - (double)(time_t)t) * 1e9) };
    while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL) == EINTR)
        ;
}

/*
 * Waits until the batch `at` seconds after `start` is due and returns the start to use from now
 * on. A sender that fell more than a millisecond behind (it shares the CPUs) moves its start
 * instead of catching up with a burst at full speed: the rate achieved drops, which the caller
 * sees, and no burst at full speed lasts more than about a millisecond.
 */
static double pace(double start, double at)
{
    double due = start + at, t = now();
    if (t > due + 1e-3)
        return start + (t - due);
    sleep_until(due);
    return start;
}

/* Sends pkts[0..n); a full device queue (ENOBUFS, EAGAIN) is waited out, counted in errors. */
static void send_batch(int fd, struct iovec *pkts, unsigned n, unsigned long *errors)
{
    struct mmsghdr msgs[BATCH];
    for (unsigned i = 0; i < n; i++)
        msgs[i] = (struct mmsghdr){ .msg_hdr = { .msg_iov = &pkts[i], .msg_iovlen = 1 } };
    unsigned done = 0;
    while (done < n) {
        int sent = sendmmsg(fd, msgs + done, n - done, 0);
        if (sent > 0) {
            done += (unsigned)sent;
            continue;
        }
        if (errno != ENOBUFS && errno != EAGAIN && errno != EINTR)
            die("sendmmsg");
        ++*errors;
        sched_yield();
    }
}

int main(int argc, char **argv)
{
    if (argc < 3 || argc > 5) {
        fprintf(stderr, "usage: pktsend IFACE PCAP [PACKETS [PPS]]\n");
        return 2;
    }
    size_t limit = argc > 3 ? strtoull(argv[3], NULL, 10) : 0;
    double pps = argc > 4 ? strtod(argv[4], NULL) : 0;
    struct capture c = { 0 };
    map_file(argv[2], &c);
    index_packets(argv[2], &c, limit ? limit : SIZE_MAX);
    int fd = open_socket(argv[1]);

    /* At a set rate, a batch is at most a millisecond of packets. */
    unsigned batch = BATCH;
    if (pps > 0 && pps / 1000 < BATCH)
        batch = pps < 1000 ? 1 : (unsigned)(pps / 1000);
    unsigned long errors = 0;
    uint64_t bytes = 0;
    for (size_t i = 0; i < c.count; i++)
        bytes += c.pkts[i].iov_len;
    double begin = now(), start = begin;
    for (size_t i = 0; i < c.count; i += batch) {
        unsigned n = c.count - i < batch ? (unsigned)(c.count - i) : batch;
        if (pps > 0)
            start = pace(start, (double)i / pps);
        send_batch(fd, c.pkts + i, n, &errors);
    }
    double elapsed = now() - begin;
    double per_s = elapsed > 0 ? 1 / elapsed : 0;
    printf("sent %zu packets (%llu bytes) in %.3f s: %.0f pps, %.0f Mbit/s, %lu send errors, "
           "%zu skipped\n",
           c.count, (unsigned long long)bytes, elapsed, (double)c.count * per_s,
           (double)bytes * 8 / 1e6 * per_s, errors, c.skipped);
    close(fd);
    free(c.pkts);
    munmap(c.data, c.size);
    return 0;
}
