/*
 * pcapfile.h - capture files read by our own reader: pcap and pcapng.
 *
 * Files, pipes and stdin are read in large blocks into a few buffers used in
 * turn, and packets are handed out as pointers into them (no copy). Every length in
 * the file is checked against what remains and against fixed caps before use.
 * pcapng sections, interfaces with their own link types, snapshot lengths and
 * time resolutions (if_tsresol, if_tsoffset) are followed; a packet carries its
 * interface's link type.
 */
#ifndef TL_CAPTURE_PCAPFILE_H
#define TL_CAPTURE_PCAPFILE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum {
    TL_PCAP_MAX_PACKET = 262144,   /* libpcap's MAXIMUM_SNAPLEN: larger records are corrupt */
    TL_PCAPNG_MAX_BLOCK = 1 << 24, /* a block larger than this is corrupt */
    TL_PCAPNG_MAX_IFACES = 4096,   /* interfaces per section */
};

struct tl_pkt {
    uint64_t ts_us;
    const uint8_t *data; /* valid until the next call, or (pinned) until released or closed */
    bool pinned;         /* data stays where it is until tl_pcapfile_release passes it */
    uint64_t data_off;   /* the file offset of data */
    uint32_t caplen, wirelen;
    int linktype;
    uint32_t iface; /* pcapng interface id; 0 for pcap */
};

enum tl_pcap_next {
    TL_PCAP_PACKET = 1, /* *pkt is a packet */
    TL_PCAP_END = 0,    /* the file ended where a record or block could end */
    TL_PCAP_CUT = -1,   /* the file ends inside a record or block: the rest is lost */
    TL_PCAP_BAD = -2,   /* corrupt or unreadable: tl_pcapfile_error says why */
};

struct tl_pcapfile;

/*
 * Opens path ("-": stdin). NULL with errbuf "NAME: reason" when it cannot be
 * read or is not a capture (*not_capture is then true, if given).
 */
struct tl_pcapfile *tl_pcapfile_open(const char *path, bool *not_capture, char *errbuf, size_t n);
enum tl_pcap_next tl_pcapfile_next(struct tl_pcapfile *f, struct tl_pkt *pkt);
/*
 * Packets stay where they are (pinned) until released, for readers on other
 * threads: when the reader needs a buffer that holds packets from file offset
 * `upto` down, it calls on_full, which must return once tl_pcapfile_release
 * has passed upto (or made progress towards it; it is called again). Without
 * it, a packet is valid until the next call.
 */
void tl_pcapfile_on_full(struct tl_pcapfile *f, void (*on_full)(void *arg, uint64_t upto),
                         void *arg);
/* No packet before file offset `below` will be read again: its buffer may be filled anew. */
void tl_pcapfile_release(struct tl_pcapfile *f, uint64_t below);
/* The byte offset of the record or block that the last call read, or stopped in. */
uint64_t tl_pcapfile_offset(const struct tl_pcapfile *f);
/* Why the last call returned TL_PCAP_BAD. */
const char *tl_pcapfile_error(const struct tl_pcapfile *f);
/* True for pcapng, false for pcap. */
bool tl_pcapfile_is_ng(const struct tl_pcapfile *f);
/* The link type of a classic pcap (or of the first pcapng interface seen; -1 before any). */
int tl_pcapfile_linktype(const struct tl_pcapfile *f);
void tl_pcapfile_close(struct tl_pcapfile *f);

#endif
