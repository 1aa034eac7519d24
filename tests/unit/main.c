/*
 * main.c - the table of unit test suites. `run [suite]` runs all or one.
 */
#include <stdio.h>
#include <string.h>

#include "check.h"

extern const struct tl_test tl_tests_cursor[], tl_tests_json[], tl_tests_config[],
    tl_tests_community[], tl_tests_defrag[], tl_tests_decode[], tl_tests_flows[], tl_tests_dns[],
    tl_tests_ldap[], tl_tests_reasm[], tl_tests_ber[], tl_tests_output[], tl_tests_kerberos[],
    tl_tests_http[], tl_tests_identity[], tl_tests_sigma[];

static const struct tl_suite suites[] = {
    { "cursor", tl_tests_cursor },     { "json", tl_tests_json },
    { "config", tl_tests_config },     { "community", tl_tests_community },
    { "defrag", tl_tests_defrag },     { "decode", tl_tests_decode },
    { "flows", tl_tests_flows },       { "output", tl_tests_output },
    { "dns", tl_tests_dns },           { "ldap", tl_tests_ldap },
    { "reasm", tl_tests_reasm },       { "ber", tl_tests_ber },
    { "kerberos", tl_tests_kerberos }, { "http", tl_tests_http },
    { "identity", tl_tests_identity }, { "sigma", tl_tests_sigma },
};

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
