/*
 * fuzz_packets.c - libFuzzer target: a stream of packets through decode,
 * fragment reassembly, the flow table, nDPI-less records and the JSON writer.
 *
 * Input: records of [selector][length, 2 bytes big-endian][bytes]. The
 * selector's low 3 bits pick the link type; its high 5 bits advance packet
 * time by that many seconds, so timeouts, linger and expiry paths run too.
 * Each packet is copied to an exact-size heap buffer, so ASan sees any read
 * past its end.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "event.h"
#include "packet.h"
#include "paths.h" /* TL_RULES_DIR, written by the Makefile */
#include "pipeline.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const int links[8] = {
    TL_LINK_ETHERNET, TL_LINK_RAW,  TL_LINK_LINUX_SLL, TL_LINK_LINUX_SLL2,
    TL_LINK_NULL,     TL_LINK_LOOP, TL_LINK_IPV6,      TL_LINK_ETHERNET,
};

static void fuzz_config(struct tl_config *cfg)
{
    static const char *const set[][2] = {
        { "sensor", "fuzz" },
        { "ndpi.enabled", "false" },
        { "capture.ring_batches", "2" },
        { "capture.batch_bytes", "262400" }, /* the least: one packet of 256 KiB */
        { "flows.max_per_worker", "64" },
        { "defrag.max_datagrams", "8" },
        { "defrag.max_bytes", "65536" },
        { "flows.active_timeout", "40" },
        { "flows.hash_seed", "1" }, /* the same table layout for the same input */
        /* tables sized for a fuzz input, not a network: a pipeline is made per input */
        { "dissect.max_flows", "64" },
        { "identity.max_entries", "64" },
        { "coordinator.max_held", "1024" },
        { "domains.max_entries", "64" },
        { "rules.max_state", "1024" },
        /* a rule per dissector and a correlation, not all twelve files: loading is per input */
        { "rules.paths",
          TL_RULES_DIR "/dns_anomalies.yml," TL_RULES_DIR "/http_exe_download.yml," TL_RULES_DIR
                       "/kerberos_password_spray.yml," TL_RULES_DIR "/ldap_recon.yml" },
    };
    char err[256];
    tl_config_defaults(cfg);
    for (size_t i = 0; i < sizeof(set) / sizeof(set[0]); i++)
        if (tl_config_set(cfg, set[i][0], set[i][1], err, sizeof(err)) < 0)
            abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct tl_config cfg;
    char err[256];
    uint64_t ts = 1700000000ull * 1000000u;

    fuzz_config(&cfg);
    tl_config_set(&cfg, "output.path", "/dev/null", err, sizeof(err));
    struct tl_output *out = tl_output_open(&cfg, err, sizeof(err));
    struct tl_pipeline *p = tl_pipeline_new(&cfg, out, TL_PIPE_INLINE, err, sizeof(err));
    if (!out || !p)
        abort();
    size_t off = 0;
    while (size - off >= 3) {
        uint8_t sel = data[off];
        size_t len = (size_t)data[off + 1] << 8 | data[off + 2];
        off += 3;
        if (len > size - off)
            len = size - off;
        uint8_t *pkt = malloc(len ? len : 1);
        if (!pkt)
            abort();
        memcpy(pkt, data + off, len);
        ts += (uint64_t)(sel >> 3) * 1000000u + 1;
        tl_pipeline_packet(p, links[sel & 7], ts, pkt, (uint32_t)len, (uint32_t)len + (sel & 1));
        free(pkt);
        off += len;
    }
    tl_pipeline_finish(p, NULL);
    tl_pipeline_free(p);
    tl_output_close(out);
    tl_config_free(&cfg);
    return 0;
}
