/*
 * kerberos.c - the Kerberos dissector on messages taken from the shared
 * captures (each vector cites its file and frame under ../shared/pcaps/kerberos):
 * exchanges paired into one record, TCP record markers, cuts at every byte,
 * non-Kerberos input, and requests flushed unanswered. Expected values were
 * checked against tshark's decode of the same frames.
 */
#include <stdlib.h>

#include "check.h"
#include "dtest.h"
#include "flow.h"

/* sv_bug-8278-krb5-03.pcap frame 4 (181 bytes) */
static const char err_preauth_req[] =
    "000000b16a81ae3081aba103020105a20302010aa31530133011a10402020080a20904073005a0030101ffa4"
    "8187308184a00703050050800000a111300fa003020101a10830061b0474657374a20e1b0c444f4d3138392e"
    "4c4f43414ca321301fa003020101a11830161b066b72627467741b0c444f4d3138392e4c4f43414ca511180f"
    "32303236303231343230333033315aa611180f32303236303231343230333033315aa70602042cfab4dfa805"
    "3003020117";
/* sv_bug-8278-krb5-03.pcap frame 5 (185 bytes) */
static const char err_preauth_err[] =
    "000000b57e81b23081afa003020105a10302011ea411180f32303236303231333230333033315aa505020303"
    "b8f1a603020119a90e1b0c444f4d3138392e4c4f43414caa21301fa003020101a11830161b066b7262746774"
    "1b0c444f4d3138392e4c4f43414cac51044f304d3016a10302010ba20f040d300b3009a003020117a1020400"
    "3012a103020113a20b040930073005a0030201173009a103020102a20204003009a103020110a20204003009"
    "a10302010fa2020400";
/* zeek_krb_kinit.pcap frame 140 (284 bytes) */
static const char kinit_asreq[] =
    "6a82011830820114a103020105a20302010aa36b3069300da10402020085a20504034d4954304ca103020102"
    "a24504433041a003020112a23a043809102fe6f0884d667ca1e360be01f1863b46ed25364f1cb446e57d3493"
    "26e2b6cdc50f9b57bd22e4de7d498c145d6e5cc13480a37226e32e300aa10402020095a2020400a4819a3081"
    "97a00703050040000010a12e302ca003020101a12530231b2172657175697265735f707265617574685f636c"
    "69656e745f7072696e636970616ca20b1b09564c4144472e4e4554a31e301ca003020102a11530131b066b72"
    "627467741b09564c4144472e4e4554a511180f32303135303131393232353431305aa70602047b2e5e96a814"
    "301202011202011102011002011702011902011a";
/* zeek_krb_kinit.pcap frame 141 (779 bytes) */
static const char kinit_asrep[] =
    "6b82030730820303a003020105a10302010ba24430423040a103020113a239043730353033a003020112a12c"
    "1b2a564c4144472e4e455472657175697265735f707265617574685f636c69656e745f7072696e636970616c"
    "a30b1b09564c4144472e4e4554a42e302ca003020101a12530231b2172657175697265735f70726561757468"
    "5f636c69656e745f7072696e636970616ca58201596182015530820151a003020105a10b1b09564c4144472e"
    "4e4554a21e301ca003020102a11530131b066b72627467741b09564c4144472e4e4554a382011b30820117a0"
    "03020112a103020101a28201090482010523cb87033622fa68a8b10aae53278379f644d0d0c5bc68295293a7"
    "d6b056614ad98e3a198a08f38572ffa30b45cb2fe0fac0909c5f78d7b2acabd85c727c1024fd3d0de6f044bd"
    "339c68fb6e4c707cd913bcad2e7e3e7a195345a7e00810264d5406206b9008c50a3ab82eb044041778a0d1e8"
    "802b56ced18383ba873e8e77bf0891e5cde87b5cdfd29f56b219f7cfc3f77af1cbf0d69f44b3bd75e7867498"
    "972fd265dbc945eca60506e842ffdafe0f5eb63b6f296d94976d13b3c9c83cd82b3836b0ba01395c8a07d9f0"
    "f5ee602331ad64cde31570b7bbb46c2359ec8b9d5d4a8f97ecfcab4532851ac04c46b22041d49adafe413bd7"
    "a9e873cba5312f6035e7b2eadd33a682011530820111a003020112a2820108048201041c4d167d637ed0fcc3"
    "84bfc77bab4d3fabddfa9799d438a6b4261d29deb78fadd9a5298628b4322d8d6db1527732b1b192df21c571"
    "17aaab45040a519d920b8c2ae208362225551d571452e91b7a7fc8b104313b6cb840a2703f79768e688b52d1"
    "08b39ee688c32b6ce5b177e541e02a6cb7bb1a722e8340a3bb57785047acec036ed62f906a0991316e354379"
    "c3c3c8238addfb9f12ea83b98e5fc5ce163c65c2f908c98ae28ce1fac2bf8092173c17f653b810434ab50f18"
    "c12d40647f11307d49a36e59ae681b34bbc29c1c2caa6a2cdcb26184b6f8ef94bce582101f6951cd886eaf0c"
    "140769fbfc14a67664979e46621160fa080a03daec9540aadbcb8b6c5a07a4";
/* zeek_krb_auth.pcap frame 1 (673 bytes) */
static const char auth_tgsreq[] =
    "6c82029d30820299a103020105a20302010ca3820226308202223082021ea103020101a2820215048202116e"
    "82020d30820209a003020105a10302010ea20703050000000000a38201396182013530820131a003020105a1"
    "0b1b09564c4144472e4e4554a21e301ca003020102a11530131b066b72627467741b09564c4144472e4e4554"
    "a381fc3081f9a003020112a103020101a281ec0481e9c6e97a72c5b7332c2db413797e959d2fd64eec88b25f"
    "6dbbecb9b0f43385897380ae90fc15352b4d40d4e2697297b6295cfc2034f8da31301e1302a3d45a5e76396b"
    "c1f658d94cfe6c001f2428096582b075ee74892e998523795d82426c5524169fa0c41e6a9c8252b86756b453"
    "a398aea7ed6e12bb99437c55dddb5342bbcf455c8508f3efc5480ff8169a069cec85885a225e1ae9fecd77ac"
    "22ec4c05a62ada29860c8331a2d5c92ebec5acaf41fe075accaf2001a5f17ff20b22f2f80812890e7c20346e"
    "45f6da06c84ea846718c08ad3aa474333d7976393431c8c66dbb88d893bc626b1d40efa481b63081b3a00302"
    "0112a281ab0481a8bdf5c939be474af5ca53c9edfadcac3805641eb97c73529402b0028fcfd8a18bcc8a2978"
    "b5642678c0e45f35e1a56e690ea3a5c28bebe271d1d958f2c72aa4452127b6ce05c013b29164b587ee0297a2"
    "2ba8c22eae281e85dd7b98f30cf38e6620bc8336cbbbdb981444568cc3d4196e20acf59a6fb76c61f0872bd4"
    "605b58324ec3c8cf69b1a9b20f4afee3d09f153cebaf112202b15eb4e8ebd144b54eccbbfa957e3094bada32"
    "a4633061a00703050060000000a20b1b09564c4144472e4e4554a31e301ca003020101a11530131b066b7262"
    "7467741b09564c4144472e4e4554a511180f31393730303130313030303030305aa706020469eb0f4da80e30"
    "0c020112020111020110020117";
/* zeek_krb_auth.pcap frame 2 (634 bytes) */
static const char auth_tgsrep[] =
    "6d82027630820272a003020105a10302010da30b1b09564c4144472e4e4554a4123010a003020101a1093007"
    "1b05766c616467a582014e6182014a30820146a003020105a10b1b09564c4144472e4e4554a21e301ca00302"
    "0101a11530131b066b72627467741b09564c4144472e4e4554a38201103082010ca003020112a103020101a2"
    "81ff0481fc23daf04b61e57811ab60097874fc83b76c48c651a5ef84f00016ba946028c44d608126e110ec0b"
    "979bd38e119e6b745bf53f15bc1bfd1b2394f202c74ae23f9703861a746f0a75cf8b4572d5bf69743f7a86be"
    "8a793bc26a66279303df173d4f8cfa586cc8f5c4bbbeb99cb0ed484e898bbde0ba1dce721b99f22d54d0ef80"
    "b8d0a1172df49f5d40d336703a3bef542dc7f9f9f6fb9b1fa957d57351eba6ae038347540e088143903f0fdf"
    "f81bcee496595d314e76c3f42bf7c0354feca893c545f03956dabb96c0a95cd8c39775b4a8451bba21420733"
    "723f69344570e8d15d1b2da037ea8103dceb53d1abbf55d7698cb6d33f6aefc362a66b5e10a681f23081efa0"
    "03020112a281e70481e447fd39abbfd46847f626076ca16de00e0f21e2205e0c3541b707fe5c32a7759a49fd"
    "f7803eb4e753cdd36727413bc7c15b011c4844950bf83f21bc71aca9254039dad2ea773e0baa1f3340fe9ccc"
    "3e9f7f5bf1c466847277e7d0d2bf91ec2b425bda01fb8f46267aef0a8071b4ee4c0e6d5a4645f542810bf6d5"
    "7a37489c078a70220e96a7ed751c32cd26a8227f723d5bb9af0abc48e33ada0b018e1f3ca85067242deaa72a"
    "9abe9ca397b2c78410a5f420d3a687347605de11222ce19757fedf12cce60f5c84844fba6ac9f41ad35cc124"
    "f35c00e59897069caf9d1498d7902ea02fdf";
/* sv_bug-8278-krb5-01.pcap frame 4 (322 bytes) */
static const char two_records[] =
    "0000009d6a819a308197a103020105a20302010aa4818a308187a00703050050800000a1153013a003020101"
    "a10c300a1b087465737475736572a20c1b0a44454d4f2e4c4f43414ca31f301da003020102a11630141b066b"
    "72627467741b0a44454d4f2e4c4f43414ca511180f32303236303231303233323535315aa611180f32303236"
    "303231303233323535315aa70602042de004d8a80830060201120201110000009d6c819a308197a103020105"
    "a20302010ca4818a308187a00703050050800000a1153013a003020101a10c300a1b087465737475736572a2"
    "0c1b0a44454d4f2e4c4f43414ca31f301da003020102a11630141b066b72627467741b0a44454d4f2e4c4f43"
    "414ca511180f32303236303231303233323535315aa611180f32303236303231303233323535315aa7060204"
    "4da4bd85a8083006020112020111";
/* arkime_krb5-udp.pcap frame 1 (251 bytes) */
static const char arkime_asreq[] =
    "6a81f83081f5a103020105a20302010aa35c305a304ca103020102a24504433041a003020112a23a0438ffff"
    "ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff"
    "ffffffffffffffffffff300aa10402020095a2020400a4818a308187a00703050040000000a1163014a00302"
    "0101a10d300b1b09787878787878787824a2121b1078782e7878782e78787878782e4e4554a3253023a00302"
    "0102a11c301a1b066b72627467741b1078782e7878782e78787878782e4e4554a511180f3230313630363138"
    "3232313431355aa70602042c2cf0b0a80e300c020112020111020110020117";
/* zeek_krb_error-preauth-padata.pcap frame 1 (22 bytes) */
static const char lone_error[] = "7e143012a603020119ac0b30093007a103020102a200";

/* The bytes of a hex string, in an exact-size heap copy; *n gets the length. */
static uint8_t *kt_unhex(const char *h, size_t *n)
{
    size_t len = strlen(h) / 2;
    uint8_t *p = malloc(len ? len : 1);
    for (size_t i = 0; i < len; i++) {
        unsigned v;
        sscanf(h + 2 * i, "%2x", &v);
        p[i] = (uint8_t)v;
    }
    *n = len;
    return p;
}

static void kt_udp(struct dtest *t, int dir, uint64_t ts, const char *hex)
{
    size_t n;
    uint8_t *p = kt_unhex(hex, &n);
    dtest_udp(t, dir, ts, p, n, false);
    free(p);
}

static void kt_tcp(struct dtest *t, int dir, uint64_t ts, const char *hex)
{
    size_t n;
    uint8_t *p = kt_unhex(hex, &n);
    dtest_tcp(t, dir, ts, p, n);
    free(p);
}

static int kt_has(const struct dtest *t, const char *needle)
{
    return dtest_count(t, needle);
}

static void test_as_preauth_required(void)
{
    struct dtest t;
    dtest_init(&t, &tl_kerberos_dissector);
    kt_tcp(&t, 0, 1000000, err_preauth_req);
    CHECK_EQ(t.records, 0); /* waits for its reply */
    kt_tcp(&t, 1, 1010000, err_preauth_err);
    CHECK_EQ(t.records, 1);
    dtest_end(&t);
    CHECK_EQ(t.records, 1);
    CHECK(!t.gave_up);
    CHECK_EQ(t.counters[TL_DC_MESSAGES], 2);
    CHECK_EQ(t.counters[TL_DC_MALFORMED] + t.counters[TL_DC_TRUNCATED], 0);
    CHECK_EQ(kt_has(&t, "\"request_type\":\"AS\""), 1);
    CHECK_EQ(kt_has(&t, "\"reply_type\":\"KRB-ERROR\""), 1);
    CHECK_EQ(kt_has(&t, "\"success\":false"), 1);
    CHECK_EQ(kt_has(&t, "\"error_code\":25,\"error_name\":\"KDC_ERR_PREAUTH_REQUIRED\""), 1);
    CHECK_EQ(kt_has(&t, "\"client\":\"test\",\"client_name_type\":\"NT-PRINCIPAL\""), 1);
    CHECK_EQ(kt_has(&t, "\"client_realm\":\"DOM189.LOCAL\""), 1);
    CHECK_EQ(kt_has(&t, "\"service\":\"krbtgt/DOM189.LOCAL\",\"service_realm\":\"DOM189.LOCAL\""),
             1);
    CHECK_EQ(kt_has(&t, "\"kdc_options\":\"0x50800000\""), 1); /* tshark: kerberos.kdc_options */
    CHECK_EQ(kt_has(&t, "\"kdc_option_names\":[\"forwardable\",\"proxiable\",\"renewable\"]"), 1);
    CHECK_EQ(kt_has(&t, "\"req_etypes\":[\"rc4-hmac(23)\"]"), 1);
    CHECK_EQ(kt_has(&t, "\"pa_types\":[\"PA-PAC-REQUEST\"],\"preauth\":false"), 1);
    CHECK_EQ(kt_has(&t, "\"ts\":\"1970-01-01T00:00:01.000000Z\""), 1); /* the request's time */
    /* Zeek's columns: no e-text, so error_msg is the name; options of the request. */
    CHECK_EQ(kt_has(&t, "\"error_msg\":\"KDC_ERR_PREAUTH_REQUIRED\""), 1);
    CHECK_EQ(kt_has(&t, "\"forwardable\":true,\"renewable\":true"), 1);
    CHECK_EQ(kt_has(&t, "\"cipher\""), 0); /* no ticket was issued */
    CHECK_EQ(kt_has(&t, "\"status\":\"ok\""), 1);
    dtest_free(&t);
}

static void test_as_rep_preauth(void)
{
    struct dtest t;
    dtest_init(&t, &tl_kerberos_dissector);
    kt_udp(&t, 0, 1000000, kinit_asreq);
    kt_udp(&t, 1, 1100000, kinit_asrep);
    CHECK_EQ(t.records, 1);
    CHECK_EQ(kt_has(&t, "\"request_type\":\"AS\",\"reply_type\":\"AS-REP\",\"success\":true"), 1);
    CHECK_EQ(kt_has(&t, "\"client\":\"requires_preauth_client_principal\""), 1);
    CHECK_EQ(kt_has(&t, "\"client_realm\":\"VLADG.NET\""), 1);
    CHECK_EQ(kt_has(&t, "\"service\":\"krbtgt/VLADG.NET\""), 1);
    CHECK_EQ(kt_has(&t, "\"kdc_options\":\"0x40000010\""), 1);
    CHECK_EQ(kt_has(&t, "\"kdc_option_names\":[\"forwardable\",\"renewable-ok\"]"), 1);
    CHECK_EQ(kt_has(&t, "\"till\":\"2015-01-19T22:54:10.000000Z\""), 1);
    CHECK_EQ(
        kt_has(&t, "\"pa_types\":[\"PA-FX-COOKIE\",\"PA-ENC-TIMESTAMP\",\"PA-REQ-ENC-PA-REP\"]"),
        1);
    CHECK_EQ(kt_has(&t, "\"preauth\":true"), 1);
    CHECK_EQ(kt_has(&t,
                    "\"req_etypes\":[\"aes256-cts-hmac-sha1-96(18)\",\"aes128-cts-hmac-sha1-96(17)"
                    "\",\"des3-cbc-sha1(16)\",\"rc4-hmac(23)\",\"camellia128-cts-cmac(25)\","
                    "\"camellia256-cts-cmac(26)\"]"),
             1);
    CHECK_EQ(kt_has(&t, "\"ticket_etype\":\"aes256-cts-hmac-sha1-96(18)\""), 1);
    CHECK_EQ(kt_has(&t, "\"rep_etype\":\"aes256-cts-hmac-sha1-96(18)\""), 1);
    CHECK_EQ(kt_has(&t, "\"cipher\":\"aes256-cts-hmac-sha1-96\""), 1);
    CHECK_EQ(kt_has(&t, "\"forwardable\":true,\"renewable\":false"), 1);
    CHECK_EQ(kt_has(&t, "\"error_msg\""), 0);
    /* Hashes of the ticket's enc-part cipher as tshark shows it (kerberos.cipher), via Python. */
    CHECK_EQ(kt_has(&t, "\"ticket_md5\":\"722e20924782bc8c0a8dd80f0dc97634\""), 1);
    CHECK_EQ(kt_has(&t, "\"ticket_sha256\":\"48e3b5bd3f0bf9f42f20df046b3e19542fd4cd4af034b8ae43fe"
                        "e9ee95bfbfbf\""),
             1);
    dtest_free(&t);
}

static void test_tgs(void)
{
    struct dtest t;
    dtest_init(&t, &tl_kerberos_dissector);
    kt_udp(&t, 0, 1000000, auth_tgsreq);
    kt_udp(&t, 1, 1001000, auth_tgsrep);
    CHECK_EQ(t.records, 1);
    CHECK_EQ(kt_has(&t, "\"request_type\":\"TGS\",\"reply_type\":\"TGS-REP\",\"success\":true"), 1);
    /* The TGS-REQ body has no cname: the client is the TGS-REP's. */
    CHECK_EQ(kt_has(&t, "\"client\":\"vladg\",\"client_name_type\":\"NT-PRINCIPAL\","
                        "\"client_realm\":\"VLADG.NET\""),
             1);
    CHECK_EQ(kt_has(&t, "\"service\":\"krbtgt/VLADG.NET\",\"service_realm\":\"VLADG.NET\""), 1);
    CHECK_EQ(kt_has(&t, "\"pa_types\":[\"PA-TGS-REQ\"],\"preauth\":false"), 1);
    CHECK_EQ(kt_has(&t,
                    "\"tgs_ticket_realm\":\"VLADG.NET\",\"tgs_ticket_service\":\"krbtgt/VLADG.NET\""
                    ",\"tgs_ticket_etype\":\"aes256-cts-hmac-sha1-96(18)\""),
             1);
    CHECK_EQ(kt_has(&t, "\"ticket_md5\":\"396a9d9e8975cc5024a83c6e86101f06\""), 1);
    CHECK_EQ(kt_has(&t, "\"from\""), 0); /* not requested */
    /* zeek_krb_auth.pcap.zeek-kerberos.log: cipher aes256-cts-hmac-sha1-96, forwardable T,
     * renewable F. */
    CHECK_EQ(kt_has(&t, "\"cipher\":\"aes256-cts-hmac-sha1-96\""), 1);
    CHECK_EQ(kt_has(&t, "\"forwardable\":true,\"renewable\":false"), 1);
    dtest_free(&t);
}

/* The ticket's etype in auth_tgsrep (its enc-part [3] of the Ticket) replaced by `etype`. */
static void kt_tgs_with_etype(const char *etype, const char *want)
{
    static const char ticket_encpart[] = "a38201103082010ca003020112";
    char *rep = strdup(auth_tgsrep);
    char *at = strstr(rep, ticket_encpart);
    CHECK(at != NULL);
    if (at)
        memcpy(at + strlen(ticket_encpart) - 2, etype, 2);
    struct dtest t;
    dtest_init(&t, &tl_kerberos_dissector);
    kt_udp(&t, 0, 1000000, auth_tgsreq);
    kt_udp(&t, 1, 1001000, rep);
    CHECK_EQ(t.records, 1);
    CHECK_EQ(kt_has(&t, want), 1);
    CHECK_EQ(kt_has(&t, "\"status\":\"ok\""), 1);
    dtest_free(&t);
    free(rep);
}

/* Zeek's cipher names: RC4 (kerberoasting), DES, RFC 8009, and unknown ones. */
static void test_cipher_names(void)
{
    kt_tgs_with_etype("17", "\"cipher\":\"rc4-hmac\"");
    kt_tgs_with_etype("03", "\"cipher\":\"des-cbc-md5\"");
    kt_tgs_with_etype("01", "\"cipher\":\"des-cbc-crc\"");
    kt_tgs_with_etype("10", "\"cipher\":\"des3-cbc-sha1-kd\"");
    kt_tgs_with_etype("07", "\"cipher\":\"des3-cbc-sha1\"");
    kt_tgs_with_etype("18", "\"cipher\":\"rc4-hmac-exp\"");
    kt_tgs_with_etype("13", "\"cipher\":\"aes128-cts-hmac-sha256-128\"");
    kt_tgs_with_etype("14", "\"cipher\":\"aes256-cts-hmac-sha384-192\"");
    kt_tgs_with_etype("11", "\"cipher\":\"aes128-cts-hmac-sha1-96\"");
    kt_tgs_with_etype("63", "\"cipher\":\"unknown-99\"");
}

/* A KRB-ERROR with an e-text (as MIT's KDC sends): Zeek's error_msg is the e-text. */
static void test_error_msg_etext(void)
{
    /* Built by hand: pvno 5, msg-type 30, error-code 24, realm, sname, e-text. */
    static const char err[] = "7e50304ea003020105a10302011ea603020118a90b1b09564c4144472e4e4554aa"
                              "1e301ca003020102a11530131b066b72627467741b09564c4144472e4e4554ab10"
                              "1b0e505245415554485f4641494c4544";
    struct dtest t;
    dtest_init(&t, &tl_kerberos_dissector);
    kt_udp(&t, 1, 1000000, err);
    CHECK_EQ(t.records, 1);
    CHECK_EQ(kt_has(&t, "\"error_code\":24,\"error_name\":\"KDC_ERR_PREAUTH_FAILED\""), 1);
    CHECK_EQ(kt_has(&t, "\"error_text\":\"PREAUTH_FAILED\",\"error_msg\":\"PREAUTH_FAILED\""), 1);
    CHECK_EQ(kt_has(&t, "\"forwardable\""), 0); /* no request seen */
    CHECK_EQ(kt_has(&t, "\"status\":\"ok\""), 1);
    dtest_free(&t);
}

static void test_tcp_two_records(void)
{
    size_t n;
    uint8_t *p = kt_unhex(two_records, &n);
    /* Whole, then split at every byte into two segments, then byte by byte. */
    for (size_t cut = 0; cut <= n + 1; cut++) {
        struct dtest t;
        dtest_init(&t, &tl_kerberos_dissector);
        if (cut <= n) {
            uint8_t *a = tl_test_dup(p, cut), *b = tl_test_dup(p + cut, n - cut);
            dtest_tcp(&t, 0, 1000000, a, cut);
            dtest_tcp(&t, 0, 1000001, b, n - cut);
            free(a);
            free(b);
        } else {
            for (size_t i = 0; i < n; i++)
                dtest_tcp(&t, 0, 1000000 + i, p + i, 1);
        }
        CHECK_EQ(t.records, 0);
        CHECK_EQ(t.counters[TL_DC_MESSAGES], 2);
        CHECK_EQ(t.stream_len[0], 0);
        dtest_end(&t); /* neither was answered */
        CHECK_EQ(t.records, 2);
        CHECK(!t.gave_up);
        CHECK_EQ(kt_has(&t, "\"request_type\":\"AS\""), 1);
        CHECK_EQ(kt_has(&t, "\"request_type\":\"TGS\""), 1);
        CHECK_EQ(kt_has(&t, "\"client\":\"testuser\""), 2);
        CHECK_EQ(kt_has(&t, "\"status\":\"ok\""), 2);
        CHECK_EQ(kt_has(&t, "\"reply_type\""), 0);
        dtest_free(&t);
    }
    free(p);
}

/* Every cut of a UDP datagram the capture shortened is truncated, never read past. */
static void test_udp_truncated(void)
{
    const char *vectors[] = { arkime_asreq, kinit_asrep, auth_tgsreq, lone_error };
    for (size_t v = 0; v < TL_ARRAY_LEN(vectors); v++) {
        size_t n;
        uint8_t *p = kt_unhex(vectors[v], &n);
        for (size_t cut = 1; cut < n; cut++) {
            struct dtest t;
            dtest_init(&t, &tl_kerberos_dissector);
            dtest_udp(&t, 0, 1000000, p, cut, true);
            dtest_end(&t);
            CHECK_EQ(t.records, 1);
            CHECK_EQ(t.counters[TL_DC_TRUNCATED], 1);
            CHECK_EQ(kt_has(&t, "\"status\":\"truncated\""), 1);
            dtest_free(&t);
        }
        free(p);
    }

    /* What precedes the cut is kept: the arkime AS-REQ cut inside its etype list. */
    struct dtest t;
    size_t n;
    uint8_t *p = kt_unhex(arkime_asreq, &n);
    dtest_init(&t, &tl_kerberos_dissector);
    dtest_udp(&t, 0, 1000000, p, n - 2, true);
    dtest_end(&t);
    CHECK_EQ(kt_has(&t, "\"client\":\"xxxxxxxx$\""), 1);
    CHECK_EQ(kt_has(&t, "\"service\":\"krbtgt/xx.xxx.xxxxx.NET\""), 1);
    CHECK_EQ(kt_has(&t, "\"status\":\"truncated\""), 1);
    dtest_free(&t);

    /* Not cut by the capture but short anyway: malformed. */
    dtest_init(&t, &tl_kerberos_dissector);
    dtest_udp(&t, 0, 1000000, p, n - 2, false);
    dtest_end(&t);
    CHECK_EQ(kt_has(&t, "\"status\":\"malformed\""), 1);
    CHECK_EQ(t.counters[TL_DC_MALFORMED], 1);
    dtest_free(&t);
    free(p);
}

static void test_giveup(void)
{
    static const char http[] = "GET / HTTP/1.1\r\nHost: x\r\n\r\n";
    static const uint8_t reserved[] = { 0x80, 0x00, 0x00, 0x10, 0x6a };
    static const uint8_t tls[] = { 0x00, 0x00, 0x00, 0x10, 0x16, 0x03, 0x01 };
    struct dtest t;

    dtest_init(&t, &tl_kerberos_dissector);
    dtest_udp(&t, 0, 1, http, sizeof(http) - 1, false);
    CHECK(t.gave_up);
    CHECK_EQ(t.records, 0);
    dtest_free(&t);

    dtest_init(&t, &tl_kerberos_dissector);
    dtest_udp(&t, 0, 1, http, 0, false); /* empty datagram */
    CHECK(t.gave_up);
    dtest_free(&t);

    dtest_init(&t, &tl_kerberos_dissector);
    dtest_tcp(&t, 0, 1, http, sizeof(http) - 1); /* "GET " as a length: far too long */
    CHECK(t.gave_up);
    dtest_free(&t);

    dtest_init(&t, &tl_kerberos_dissector);
    dtest_tcp(&t, 0, 1, reserved, sizeof(reserved)); /* RFC 4120 7.2.2 reserved bit */
    CHECK(t.gave_up);
    dtest_free(&t);

    dtest_init(&t, &tl_kerberos_dissector);
    dtest_tcp(&t, 0, 1, tls, sizeof(tls)); /* plausible length, not a Kerberos tag */
    CHECK(t.gave_up);
    dtest_free(&t);

    /* A partial record marker waits. */
    dtest_init(&t, &tl_kerberos_dissector);
    dtest_tcp(&t, 0, 1, tls, 3);
    CHECK(!t.gave_up);
    CHECK_EQ(t.stream_len[0], 3);
    dtest_free(&t);
}

/* Serialises like dtest's emit, for flush() called with a chosen time. */
static void kt_emit(struct tl_parse_ctx *ctx, void *record, uint64_t ts_us)
{
    struct dtest *t = ctx->emit_arg;
    struct tl_flow_ids *ids = record;
    ids->ts = ts_us;
    ids->proto = "test";
    tl_event_json(&t->out, t->d->event, "test", record);
    t->records++;
}

/* Calls flush(now); returns when it says it will next have something to write. */
static uint64_t kt_flush(struct dtest *t, uint64_t now)
{
    struct tl_parse_ctx c = { 0 };
    c.transport = TL_UDP;
    c.state = t->state;
    c.arena = &t->arena;
    c.counters = t->counters;
    c.limits = &t->limits;
    c.emit = kt_emit;
    c.emit_arg = t;
    tl_arena_reset(&t->arena);
    return t->d->flush(&c, now);
}

static void test_unanswered_flush(void)
{
    struct dtest t;
    dtest_init(&t, &tl_kerberos_dissector);
    t.limits.pending_timeout = 5000000;
    kt_udp(&t, 0, 1000000, arkime_asreq);
    kt_udp(&t, 0, 3000000, auth_tgsreq);
    /* The first is exactly at its timeout: it still waits, and flush says to ask now (the
     * worker asks again a tick later). */
    CHECK_EQ(kt_flush(&t, 6000000), 6000000);
    CHECK_EQ(t.records, 0);
    CHECK_EQ(kt_flush(&t, 6000001), 8000000); /* the TGS-REQ is due next */
    CHECK_EQ(t.records, 1);
    CHECK_EQ(kt_has(&t, "\"request_type\":\"AS\""), 1);
    CHECK_EQ(kt_has(&t, "\"success\":false"), 1);
    CHECK_EQ(kt_has(&t, "\"reply_type\""), 0);
    CHECK_EQ(kt_has(&t, "\"reply_status\":\"no_reply\""), 1);
    CHECK_EQ(
        kt_has(&t, "\"pa_types\":[\"PA-ENC-TIMESTAMP\",\"PA-REQ-ENC-PA-REP\"],\"preauth\":true"),
        1);
    kt_udp(&t, 1, 7000000, auth_tgsrep); /* the TGS-REQ is still there to pair */
    CHECK_EQ(t.records, 2);
    CHECK_EQ(kt_flush(&t, 7000000), UINT64_MAX); /* nothing waits */
    CHECK_EQ(kt_has(&t, "\"reply_type\":\"TGS-REP\""), 1);
    CHECK_EQ(kt_has(&t, "\"reply_status\""), 1); /* the pair has none */
    kt_flush(&t, UINT64_MAX);
    CHECK_EQ(t.records, 2);
    dtest_free(&t);

    /* The flow ends first: UDP says no reply came, TCP that the connection ended. */
    dtest_init(&t, &tl_kerberos_dissector);
    kt_udp(&t, 0, 1000000, arkime_asreq);
    kt_flush(&t, UINT64_MAX);
    CHECK_EQ(kt_has(&t, "\"reply_status\":\"no_reply\""), 1);
    dtest_free(&t);
    dtest_init(&t, &tl_kerberos_dissector);
    kt_tcp(&t, 0, 1000000, err_preauth_req);
    dtest_end(&t);
    CHECK_EQ(t.records, 1);
    CHECK_EQ(kt_has(&t, "\"reply_status\":\"flow_ended\""), 1);
    dtest_free(&t);
}

static void test_reply_alone(void)
{
    struct dtest t;
    dtest_init(&t, &tl_kerberos_dissector);
    /* Sent by the flow's originator, with no request seen (as Zeek's test capture has it). */
    kt_udp(&t, 0, 1000000, lone_error);
    CHECK_EQ(t.records, 1);
    CHECK_EQ(kt_has(&t, "\"request_type\""), 0);
    CHECK_EQ(kt_has(&t, "\"reply_type\":\"KRB-ERROR\",\"success\":false,\"error_code\":25"), 1);
    CHECK_EQ(kt_has(&t, "\"status\":\"ok\",\"reply_status\":\"no_request\""), 1);
    kt_udp(&t, 1, 2000000, auth_tgsrep);
    CHECK_EQ(t.records, 2);
    CHECK_EQ(kt_has(&t, "\"request_type\":\"TGS\",\"reply_type\":\"TGS-REP\""), 1);
    CHECK_EQ(kt_has(&t, "\"client\":\"vladg\""), 1);
    dtest_end(&t);
    CHECK_EQ(t.records, 2);
    dtest_free(&t);
}

static void test_pending_cap(void)
{
    struct dtest t;
    dtest_init(&t, &tl_kerberos_dissector);
    t.limits.max_pending = 2;
    kt_udp(&t, 0, 1000000, arkime_asreq);
    kt_udp(&t, 0, 2000000, auth_tgsreq);
    kt_udp(&t, 0, 3000000, kinit_asreq);
    CHECK_EQ(t.records, 1); /* the oldest made room */
    CHECK_EQ(t.counters[TL_DC_CAPPED], 1);
    CHECK_EQ(kt_has(&t, "\"client\":\"xxxxxxxx$\""), 1);
    CHECK_EQ(kt_has(&t, "\"reply_status\":\"pending_capped\""), 1);
    /* The AS-REP pairs with the remaining AS-REQ, not the older TGS-REQ. */
    kt_udp(&t, 1, 3100000, kinit_asrep);
    CHECK_EQ(t.records, 2);
    CHECK_EQ(kt_has(&t, "\"client\":\"requires_preauth_client_principal\""), 1);
    dtest_end(&t);
    CHECK_EQ(t.records, 3);
    dtest_free(&t);

    /* One request waits in the state; with no memory for more, each new one sends the
     * oldest out alone, counted, and the reply still finds its own. */
    dtest_init(&t, &tl_kerberos_dissector);
    t.no_memory = true;
    kt_udp(&t, 0, 1000000, arkime_asreq);
    kt_udp(&t, 0, 2000000, auth_tgsreq);
    kt_udp(&t, 0, 3000000, kinit_asreq);
    CHECK_EQ(t.records, 2);
    CHECK_EQ(t.counters[TL_DC_CAPPED], 2);
    kt_udp(&t, 1, 3100000, kinit_asrep);
    CHECK_EQ(kt_has(&t, "\"client\":\"requires_preauth_client_principal\""), 1);
    CHECK_EQ(kt_has(&t, "\"reply_status\":\"pending_capped\""), 2);
    dtest_free(&t);
}

static void test_malformed(void)
{
    /* AS-REQ tag, then a body whose SEQUENCE holds an INTEGER where [1] pvno belongs. */
    static const uint8_t bad[] = { 0x6a, 0x07, 0x30, 0x05, 0xa1, 0x03, 0x04, 0x01, 0x05 };
    static const uint8_t trailing[] = { 0x7e, 0x02, 0x30, 0x00, 0x00 };
    struct dtest t;
    dtest_init(&t, &tl_kerberos_dissector);
    dtest_udp(&t, 0, 1, bad, sizeof(bad), false);
    dtest_end(&t);
    CHECK_EQ(t.records, 1);
    CHECK_EQ(kt_has(&t, "\"status\":\"malformed\""), 1);
    CHECK_EQ(t.counters[TL_DC_MALFORMED], 1);
    CHECK(!t.gave_up);
    dtest_free(&t);

    dtest_init(&t, &tl_kerberos_dissector);
    dtest_udp(&t, 0, 1, trailing, sizeof(trailing), false);
    CHECK_EQ(kt_has(&t, "\"status\":\"malformed\""), 1);
    dtest_free(&t);
}

/* The preauth exchange of sv_bug-8278-krb5-03 over TCP, as bytes. */
static uint8_t *kt_req(size_t *n)
{
    return kt_unhex(err_preauth_req, n);
}

static uint8_t *kt_err(size_t *n)
{
    return kt_unhex(err_preauth_err, n);
}

/*
 * The reply's TCP stream stops after k bytes, at the flow's end or before a
 * gap: the request is written once, paired with what the cut reply shows, or
 * alone when not even the reply's tag came.
 */
static void test_tcp_reply_cut(void)
{
    size_t nq, np;
    uint8_t *q = kt_req(&nq), *p = kt_err(&np);
    for (int gap = 0; gap < 2; gap++)
        for (size_t k = 0; k < np; k++) {
            struct dtest t;
            dtest_init(&t, &tl_kerberos_dissector);
            uint8_t *a = tl_test_dup(p, k);
            dtest_tcp(&t, 0, 1000000, q, nq);
            dtest_tcp(&t, 1, 1010000, a, k);
            if (gap)
                dtest_gap(&t, 1, np - k);
            dtest_end(&t);
            CHECK_EQ(t.records, 1);
            CHECK_EQ(kt_has(&t, "\"request_type\":\"AS\""), 1);
            CHECK_EQ(kt_has(&t, "\"client\":\"test\""), 1);
            if (k == 0) /* nothing of the reply came */
                CHECK_EQ(kt_has(&t, gap ? "\"reply_status\":\"reply_gap\""
                                        : "\"reply_status\":\"flow_ended\""),
                         1);
            else
                CHECK_EQ(kt_has(&t, "\"reply_status\":\"reply_cut\""), 1);
            CHECK_EQ(kt_has(&t, "\"reply_type\":\"KRB-ERROR\""), k > 4);
            CHECK_EQ(kt_has(&t, "\"status\":\"truncated\""), k > 4);
            if (k >= 51) /* the error-code ends at byte 51 */
                CHECK_EQ(kt_has(&t, "\"error_name\":\"KDC_ERR_PREAUTH_REQUIRED\""), 1);
            CHECK(!t.gave_up);
            free(a);
            dtest_free(&t);
        }
    free(q);
    free(p);
}

/* A request the capture holds only the start of is written too, at every cut. */
static void test_tcp_request_cut(void)
{
    size_t nq;
    uint8_t *q = kt_req(&nq);
    for (size_t k = 5; k < nq; k++) {
        struct dtest t;
        dtest_init(&t, &tl_kerberos_dissector);
        uint8_t *a = tl_test_dup(q, k);
        dtest_tcp(&t, 0, 1000000, a, k);
        CHECK_EQ(t.records, 0);
        dtest_end(&t);
        CHECK_EQ(t.records, 1);
        CHECK_EQ(kt_has(&t, "\"request_type\":\"AS\""), 1);
        CHECK_EQ(kt_has(&t, "\"status\":\"truncated\""), 1);
        CHECK_EQ(kt_has(&t, "\"reply_status\":\"flow_ended\""), 1);
        CHECK_EQ(t.counters[TL_DC_TRUNCATED], 1);
        free(a);
        dtest_free(&t);
    }
    free(q);
}

/*
 * A gap anywhere in the reply: that exchange is written (cut or lost), the
 * reply direction resyncs and the next exchange on the connection pairs.
 */
static void test_tcp_gap_resync(void)
{
    size_t nq, np, nq2, np2;
    uint8_t *q = kt_req(&nq), *p = kt_err(&np);
    uint8_t *q2 = kt_unhex(two_records, &nq2), *p2 = kt_unhex(err_preauth_err, &np2);
    for (size_t k = 0; k <= np; k++) {
        struct dtest t;
        dtest_init(&t, &tl_kerberos_dissector);
        dtest_tcp(&t, 0, 1000000, q, nq);
        uint8_t *a = tl_test_dup(p, k);
        dtest_tcp(&t, 1, 1010000, a, k);
        free(a);
        if (k < np)
            dtest_gap(&t, 1, np - k);
        CHECK_EQ(t.records, 1);
        /* The next request, then its reply behind some bytes that are no record. */
        dtest_tcp(&t, 0, 2000000, q2, nq2);
        dtest_tcp(&t, 1, 2010000, "\x00\x00\x00\x07JUNK", 8); /* J: no Kerberos tag */
        dtest_tcp(&t, 1, 2010000, p2, np2);
        CHECK_EQ(t.records, 2);
        CHECK_EQ(kt_has(&t, "\"client\":\"testuser\""), 1); /* the KRB-ERROR pairs */
        dtest_end(&t);
        CHECK_EQ(t.records, 3); /* the second request of two_records: no reply */
        CHECK(!t.gave_up);
        CHECK_EQ(kt_has(&t, "\"reply_status\":\"flow_ended\""), 1);
        CHECK_EQ(kt_has(&t, "\"reply_status\":\"reply_unparseable\""), 0);
        dtest_free(&t);
    }
    free(q);
    free(p);
    free(q2);
    free(p2);
}

/* A reply direction that carries no record: the request is written as answered unreadably. */
static void test_unreadable_reply(void)
{
    static const char junk[] = "HTTP/1.1 400 Bad Request\r\n\r\n";
    struct dtest t;
    dtest_init(&t, &tl_kerberos_dissector);
    kt_udp(&t, 0, 1000000, arkime_asreq);
    dtest_udp(&t, 1, 1100000, junk, sizeof(junk) - 1, false);
    CHECK_EQ(t.records, 1);
    CHECK(!t.gave_up);
    CHECK_EQ(kt_has(&t, "\"reply_status\":\"reply_unparseable\""), 1);
    CHECK_EQ(t.counters[TL_DC_MALFORMED], 1);
    kt_udp(&t, 1, 1200000, lone_error); /* a late KRB-ERROR: its request is written */
    CHECK_EQ(kt_has(&t, "\"reply_status\":\"no_request\""), 1);
    dtest_free(&t);

    size_t nq;
    uint8_t *q = kt_req(&nq);
    dtest_init(&t, &tl_kerberos_dissector);
    dtest_tcp(&t, 0, 1000000, q, nq);
    dtest_tcp(&t, 1, 1100000, junk, sizeof(junk) - 1);
    CHECK(!t.gave_up);
    CHECK_EQ(t.records, 0);
    dtest_end(&t);
    CHECK_EQ(t.records, 1);
    CHECK_EQ(kt_has(&t, "\"reply_status\":\"reply_unparseable\""), 1);
    dtest_free(&t);
    free(q);
}

/* A gap in the request direction: the requests after it are read once it resyncs. */
static void test_tcp_request_gap(void)
{
    size_t nq, n2;
    uint8_t *q = kt_req(&nq), *two = kt_unhex(two_records, &n2);
    for (size_t k = 1; k < nq; k++) {
        struct dtest t;
        dtest_init(&t, &tl_kerberos_dissector);
        uint8_t *a = tl_test_dup(q, k);
        dtest_tcp(&t, 0, 1000000, a, k);
        dtest_gap(&t, 0, nq - k);
        dtest_tcp(&t, 0, 2000000, two, n2);
        dtest_end(&t);
        CHECK_EQ(t.records, k > 4 ? 3 : 2);
        CHECK_EQ(kt_has(&t, "\"client\":\"testuser\""), 2);
        CHECK(!t.gave_up);
        free(a);
        dtest_free(&t);
    }
    free(q);
    free(two);
}

const struct tl_test tl_tests_kerberos[] = {
    { "as_preauth_required", test_as_preauth_required },
    { "as_rep_preauth", test_as_rep_preauth },
    { "tgs", test_tgs },
    { "tcp_two_records", test_tcp_two_records },
    { "udp_truncated", test_udp_truncated },
    { "giveup", test_giveup },
    { "unanswered_flush", test_unanswered_flush },
    { "reply_alone", test_reply_alone },
    { "pending_cap", test_pending_cap },
    { "malformed", test_malformed },
    { "cipher_names", test_cipher_names },
    { "error_msg_etext", test_error_msg_etext },
    { "tcp_reply_cut", test_tcp_reply_cut },
    { "tcp_request_cut", test_tcp_request_cut },
    { "tcp_gap_resync", test_tcp_gap_resync },
    { "tcp_request_gap", test_tcp_request_gap },
    { "unreadable_reply", test_unreadable_reply },
    { 0 },
};
