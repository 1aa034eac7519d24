/*
 * main.c - the table of unit test suites. `run [suite]` runs all or one.
 */
#include <stdio.h>
#include <string.h>

#include "check.h"

/* One line per suite, so suites added side by side merge cleanly. */
/* clang-format off */
extern const struct tl_test tl_tests_cursor[];
extern const struct tl_test tl_tests_json[];
extern const struct tl_test tl_tests_config[];
extern const struct tl_test tl_tests_community[];
extern const struct tl_test tl_tests_defrag[];
extern const struct tl_test tl_tests_decode[];
extern const struct tl_test tl_tests_flows[];
extern const struct tl_test tl_tests_output[];
extern const struct tl_test tl_tests_dns[];
extern const struct tl_test tl_tests_ldap[];
extern const struct tl_test tl_tests_reasm[];
extern const struct tl_test tl_tests_ber[];
extern const struct tl_test tl_tests_kerberos[];
extern const struct tl_test tl_tests_http[];
extern const struct tl_test tl_tests_identity[];
extern const struct tl_test tl_tests_coord[];
extern const struct tl_test tl_tests_redis[];
extern const struct tl_test tl_tests_domain[];
extern const struct tl_test tl_tests_sketch[];
extern const struct tl_test tl_tests_domstats[];
extern const struct tl_test tl_tests_privacy[];
extern const struct tl_test tl_tests_tls[];
extern const struct tl_test tl_tests_sigma[];
extern const struct tl_test tl_tests_jsonread[];
extern const struct tl_test tl_tests_schemadoc[];
extern const struct tl_test tl_tests_summary[];
extern const struct tl_test tl_tests_socks[];
extern const struct tl_test tl_tests_afpacket[];
extern const struct tl_test tl_tests_pcapfile[];

static const struct tl_suite suites[] = {
    { "cursor", tl_tests_cursor },
    { "json", tl_tests_json },
    { "config", tl_tests_config },
    { "community", tl_tests_community },
    { "defrag", tl_tests_defrag },
    { "decode", tl_tests_decode },
    { "flows", tl_tests_flows },
    { "output", tl_tests_output },
    { "dns", tl_tests_dns },
    { "ldap", tl_tests_ldap },
    { "socks", tl_tests_socks },
    { "reasm", tl_tests_reasm },
    { "ber", tl_tests_ber },
    { "kerberos", tl_tests_kerberos },
    { "http", tl_tests_http },
    { "identity", tl_tests_identity },
    { "coord", tl_tests_coord },
    { "redis", tl_tests_redis },
    { "domain", tl_tests_domain },
    { "sketch", tl_tests_sketch },
    { "domstats", tl_tests_domstats },
    { "privacy", tl_tests_privacy },
    { "tls", tl_tests_tls },
    { "sigma", tl_tests_sigma },
    { "jsonread", tl_tests_jsonread },
    { "schemadoc", tl_tests_schemadoc },
    { "summary", tl_tests_summary },
    { "afpacket", tl_tests_afpacket },
    { "pcapfile", tl_tests_pcapfile },
};
/* clang-format on */

int main(int argc, char **argv)
{
    const char *only = argc > 1 && argv[1][0] ? argv[1] : NULL;
    int passed = 0, failed = 0;

    for (size_t s = 0; s < sizeof(suites) / sizeof(suites[0]); s++) {
        if (only && strcmp(only, suites[s].name) != 0)
            continue;
        for (const struct tl_test *t = suites[s].tests; t->name; t++) {
            tl_check_failed = 0;
            t->fn();
            if (tl_check_failed) {
                failed++;
                fprintf(stderr, "FAIL %s.%s\n", suites[s].name, t->name);
            } else {
                passed++;
            }
        }
    }
    printf("unit: %d passed, %d failed\n", passed, failed);
    return failed ? 1 : 0;
}
