/*
 * record.c - the `flow` event: one table of fields, filled from a flow.
 *
 * conn_state and history follow Zeek's conn.log meanings, so existing SOC
 * parsers and habits carry over. An interim record (active timeout) carries
 * the counts since the previous record of the same flow; uid stays the same.
 */
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include "dissect.h"
#include "event.h"
#include "netlist.h"
#include "record.h"

struct flow_rec {
    struct tl_flow_ids ids;
    uint8_t ip_proto;
    const char *tunnel_type;
    struct tl_ip tunnel_orig, tunnel_resp;
    uint32_t tunnel_id;
    uint8_t orig_mac[6], resp_mac[6];
    uint16_t ether_type;
    uint64_t duration;
    uint64_t orig_pkts, resp_pkts, orig_bytes, resp_bytes, orig_ip_bytes, resp_ip_bytes;
    const char *conn_state;
    char history[24];
    uint64_t missed_bytes;
    const char *end_reason;
    bool interim;
    const char *app_proto, *app_category;
    struct tl_strlist app_risks;
    bool local_orig, local_resp;
    const char *service;
};

static const struct tl_field flow_fields[] = {
    TL_FLOW_ID_FIELDS(struct flow_rec),
    TL_FIELD(struct flow_rec, ip_proto, U8, "ip_proto", "IANA IP protocol number"),
    TL_FIELD_OPT(struct flow_rec, tunnel_type, CSTR, "tunnel.type",
                 "outermost tunnel: gre, erspan1, erspan2, erspan3, vxlan, ipip, pptp"),
    TL_FIELD_OPT_P(struct flow_rec, tunnel_orig, IP, "tunnel.outer_orig_h",
                   "tunnel source address as seen on the originator's first packet"),
    TL_FIELD_OPT_P(struct flow_rec, tunnel_resp, IP, "tunnel.outer_resp_h",
                   "tunnel destination address as seen on the originator's first packet"),
    TL_FIELD_OPT(struct flow_rec, tunnel_id, U32, "tunnel.id",
                 "VXLAN VNI, ERSPAN session id, GRE key or PPTP call id (the first packet's that "
                 "has one: GRE keys and call ids may differ by direction and do not split flows)"),
    TL_FIELD_OPT_P(struct flow_rec, orig_mac, MAC, "orig_l2_addr", "originator MAC address"),
    TL_FIELD_OPT_P(struct flow_rec, resp_mac, MAC, "resp_l2_addr", "responder MAC address"),
    TL_FIELD(struct flow_rec, ether_type, U16, "ether_type", "EtherType of the IP layer"),
    TL_FIELD(struct flow_rec, duration, DUR, "duration", "seconds from first to last packet"),
    TL_FIELD(struct flow_rec, orig_pkts, U64, "orig_pkts", "packets from the originator"),
    TL_FIELD(struct flow_rec, resp_pkts, U64, "resp_pkts", "packets from the responder"),
    TL_FIELD(struct flow_rec, orig_bytes, U64, "orig_bytes",
             "originator payload bytes (TCP: by sequence numbers, retransmissions once)"),
    TL_FIELD(struct flow_rec, resp_bytes, U64, "resp_bytes", "responder payload bytes"),
    TL_FIELD(struct flow_rec, orig_ip_bytes, U64, "orig_ip_bytes",
             "originator IP bytes (IP headers included)"),
    TL_FIELD(struct flow_rec, resp_ip_bytes, U64, "resp_ip_bytes", "responder IP bytes"),
    TL_FIELD(struct flow_rec, conn_state, CSTR, "conn_state", "Zeek connection state"),
    TL_FIELD_OPT(struct flow_rec, history, CHARS, "history",
                 "Zeek history letters, upper case from the originator"),
    TL_FIELD(struct flow_rec, missed_bytes, U64, "missed_bytes",
             "TCP payload bytes never seen (sequence gaps)"),
    TL_FIELD(struct flow_rec, end_reason, CSTR, "end_reason",
             "idle, active, fin, rst, evicted or shutdown"),
    TL_FIELD(struct flow_rec, interim, BOOL, "interim",
             "true when the flow goes on: counts are since the previous record"),
    TL_FIELD_OPT(struct flow_rec, service, CSTR, "service",
                 "Zeek's: the protocol a dissector read on the flow (dns, http, krb, krb_tcp, "
                 "ldap_tcp, ldap_udp); absent when none read a message"),
    TL_FIELD_OPT(struct flow_rec, app_proto, CSTR, "app_proto", "nDPI application protocol"),
    TL_FIELD_OPT(struct flow_rec, app_category, CSTR, "app_category", "nDPI category"),
    TL_FIELD_AT("app_risks", TL_F_STRLIST, TL_FF_OPT, 0, offsetof(struct flow_rec, app_risks),
                "nDPI flow risks"),
    TL_FIELD(struct flow_rec, local_orig, BOOL, "local_orig", "originator is in flows.home_nets"),
    TL_FIELD(struct flow_rec, local_resp, BOOL, "local_resp", "responder is in flows.home_nets"),
};

const struct tl_event_type tl_flow_event = {
    .name = "flow",
    .doc = "one record per flow (and per active-timeout interval)",
    .fields = flow_fields,
    .nfields = TL_ARRAY_LEN(flow_fields),
};

static const char *const end_names[] = {
    [TL_END_NONE] = "none",         [TL_END_IDLE] = "idle", [TL_END_ACTIVE] = "active",
    [TL_END_FIN] = "fin",           [TL_END_RST] = "rst",   [TL_END_EVICTED] = "evicted",
    [TL_END_SHUTDOWN] = "shutdown",
};

static const char *const tunnel_names[] = {
    [TL_TUNNEL_NONE] = NULL,
    [TL_TUNNEL_GRE] = "gre",
    [TL_TUNNEL_ERSPAN_I] = "erspan1",
    [TL_TUNNEL_ERSPAN_II] = "erspan2",
    [TL_TUNNEL_ERSPAN_III] = "erspan3",
    [TL_TUNNEL_VXLAN] = "vxlan",
    [TL_TUNNEL_IPIP] = "ipip",
    [TL_TUNNEL_PPTP] = "pptp",
};

static char proto_numbers[256][4];

static void record_init_proto_numbers(void)
{
    for (unsigned i = 0; i < 256; i++)
        snprintf(proto_numbers[i], sizeof(proto_numbers[i]), "%u", i);
}

/* Zeek's names for the protocols it names; the IANA number as text for the rest. */
static const char *record_proto_name(uint8_t p)
{
    static const char *const names[256] = {
        [TL_IPPROTO_ICMP] = "icmp",
        [TL_IPPROTO_TCP] = "tcp",
        [TL_IPPROTO_UDP] = "udp",
        [TL_IPPROTO_ICMPV6] = "icmp",
        [2] = "igmp",
        [47] = "gre",
        [50] = "esp",
        [51] = "ah",
        [89] = "ospf",
        [103] = "pim",
        [112] = "vrrp",
        [132] = "sctp",
    };
    static pthread_once_t once = PTHREAD_ONCE_INIT;
    if (names[p])
        return names[p];
    pthread_once(&once, record_init_proto_numbers);
    return proto_numbers[p];
}

void tl_flow_ids_fill(struct tl_flow_ids *ids, const struct tl_flow *f, uint16_t cid_seed)
{
    const struct tl_fkey *k = &f->key;
    const uint8_t *oa = f->orig_is_a ? k->a : k->b, *ra = f->orig_is_a ? k->b : k->a;
    uint16_t op = f->orig_is_a ? k->pa : k->pb, rp = f->orig_is_a ? k->pb : k->pa;
    bool icmp = k->proto == TL_IPPROTO_ICMP || k->proto == TL_IPPROTO_ICMPV6;
    int off = f->ipv == 4 ? 12 : 0;

    memset(ids, 0, sizeof(*ids));
    ids->ts = f->first_us;
    struct {
        struct tl_fkey k;
        uint64_t first;
    } seed = { *k, f->first_us };
    tl_uid_format(ids->uid, tl_hash64(&seed, sizeof(seed), 0x75696473));
    if (icmp) {
        op = f->icmp_type;
        rp = f->icmp_code;
    }
    tl_community_id(ids->community_id, cid_seed, f->ipv, oa + off, ra + off, k->proto, op, rp);
    memcpy(ids->orig_h.b, oa, 16);
    memcpy(ids->resp_h.b, ra, 16);
    ids->orig_p = op;
    ids->resp_p = rp;
    ids->proto = record_proto_name(k->proto);
    ids->nvlan = f->nvlan;
    memcpy(ids->vlan, k->vlan, sizeof(ids->vlan));
}

enum record_tcp_state {
    ST_INACTIVE,
    ST_PARTIAL,
    ST_SYN_SENT,
    ST_SYN_ACK_SENT,
    ST_ESTABLISHED,
    ST_CLOSED,
    ST_RESET
};

/* One side's TCP state as Zeek's endpoint state machine would have it. */
static enum record_tcp_state record_tcp_state(const struct tl_fdir *d, bool established)
{
    if (d->flags & TL_FD_RST)
        return ST_RESET;
    if (d->flags & TL_FD_FIN)
        return ST_CLOSED;
    if (established)
        return ST_ESTABLISHED;
    if (d->flags & TL_FD_SYN)
        return ST_SYN_SENT;
    if (d->flags & TL_FD_SYNACK)
        return ST_SYN_ACK_SENT;
    return d->pkts ? ST_PARTIAL : ST_INACTIVE;
}

/* Zeek's conn_state (base/protocols/conn/main.zeek), from each side's state. */
const char *tl_flow_conn_state(const struct tl_flow *f)
{
    const struct tl_fdir *o = &f->dir[0], *r = &f->dir[1];

    if (f->key.proto == TL_IPPROTO_UDP)
        return r->pkts ? "SF" : "S0";
    if (f->key.proto != TL_IPPROTO_TCP)
        return "OTH";

    bool est = (o->flags & TL_FD_SYN) && (r->flags & TL_FD_SYNACK);
    enum record_tcp_state os = record_tcp_state(o, est), rs = record_tcp_state(r, est);
    bool o_inactive = os == ST_INACTIVE || os == ST_PARTIAL;
    bool r_inactive = rs == ST_INACTIVE || rs == ST_PARTIAL;

    if (rs == ST_RESET) {
        if (os == ST_SYN_SENT || os == ST_SYN_ACK_SENT ||
            (os == ST_RESET && o->bytes == 0 && r->bytes == 0))
            return "REJ";
        return o_inactive ? "RSTRH" : "RSTR";
    }
    if (os == ST_RESET)
        return r_inactive ? "RSTOS0" : "RSTO";
    if (os == ST_CLOSED && rs == ST_CLOSED)
        return "SF";
    if (os == ST_CLOSED)
        return r_inactive ? "SH" : "S2";
    if (rs == ST_CLOSED)
        return o_inactive ? "SHR" : "S3";
    if (os == ST_SYN_SENT && rs == ST_INACTIVE)
        return "S0";
    if (os == ST_ESTABLISHED && rs == ST_ESTABLISHED)
        return "S1";
    return "OTH";
}

/* Zeek's conn.log name for the service of the dissector at registry index i (TCP or UDP). */
static const char *record_service(size_t i, bool tcp)
{
    static const struct {
        const char *dissector, *udp, *tcp;
    } zeek[] = {
        { "kerberos", "krb", "krb_tcp" },
        { "ldap", "ldap_udp", "ldap_tcp" },
    };
    if (i >= tl_ndissectors)
        return NULL;
    const char *name = tl_dissectors[i]->name;
    for (size_t k = 0; k < TL_ARRAY_LEN(zeek); k++)
        if (strcmp(name, zeek[k].dissector) == 0)
            return tcp ? zeek[k].tcp : zeek[k].udp;
    return name;
}

static uint64_t record_delta(uint64_t now, uint64_t *reported)
{
    uint64_t d = now - *reported;
    *reported = now;
    return d;
}

void tl_flow_emit(tl_record_fn fn, void *arg, struct tl_flow *f, enum tl_end_reason why,
                  bool interim, const struct tl_flow_names *names, const struct tl_netlist *home,
                  uint16_t cid_seed)
{
    struct flow_rec r;
    struct tl_str risks[TL_MAX_RISKS];
    struct tl_fdir *o = &f->dir[0], *p = &f->dir[1];

    memset(&r, 0, sizeof(r));
    tl_flow_ids_fill(&r.ids, f, cid_seed);
    r.ids.ts = f->rec_start_us;
    r.ip_proto = f->key.proto;
    if (f->tunnel && f->tunnel < TL_ARRAY_LEN(tunnel_names)) {
        r.tunnel_type = tunnel_names[f->tunnel];
        memcpy(r.tunnel_orig.b, f->outer_src, 16);
        memcpy(r.tunnel_resp.b, f->outer_dst, 16);
        r.tunnel_id = f->tunnel_id;
    }
    if (f->has_mac) {
        memcpy(r.orig_mac, o->mac, 6);
        memcpy(r.resp_mac, p->mac, 6);
    }
    r.ether_type = f->ether_type;
    r.duration = f->last_us > f->rec_start_us ? f->last_us - f->rec_start_us : 0;
    r.orig_pkts = record_delta(o->pkts, &o->rep_pkts);
    r.resp_pkts = record_delta(p->pkts, &p->rep_pkts);
    r.orig_bytes = record_delta(o->bytes, &o->rep_bytes);
    r.resp_bytes = record_delta(p->bytes, &p->rep_bytes);
    r.orig_ip_bytes = record_delta(o->ip_bytes, &o->rep_ip_bytes);
    r.resp_ip_bytes = record_delta(p->ip_bytes, &p->rep_ip_bytes);
    r.conn_state = tl_flow_conn_state(f);
    memcpy(r.history, f->history, sizeof(r.history));
    r.missed_bytes = f->missed_bytes;
    r.end_reason = end_names[interim ? TL_END_ACTIVE : why];
    r.interim = interim;
    if (names) {
        r.app_proto = names->app_proto;
        r.app_category = names->app_category;
        for (uint32_t i = 0; i < names->nrisks && i < TL_MAX_RISKS; i++) {
            risks[i].ptr = names->risks[i];
            risks[i].len = strlen(names->risks[i]);
        }
        r.app_risks.v = risks;
        r.app_risks.n = names->nrisks;
    }
    if (f->service)
        r.service = record_service(f->service - 1u, f->key.proto == TL_IPPROTO_TCP);
    r.local_orig = tl_netlist_contains(home, r.ids.orig_h.b);
    r.local_resp = tl_netlist_contains(home, r.ids.resp_h.b);
    fn(arg, &tl_flow_event, &r, sizeof(r));
    f->rec_start_us = f->last_us;
}
