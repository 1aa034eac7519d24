/*
 * fuzz_summary.c - libFuzzer target for the run summary (export/tally.c,
 * summary.c, report.c over export/jsonread.c): the input, split at newlines
 * into exact-size heap copies, is a file of events read back (--events); then
 * the summary is written as text and as the HTML report. Small tables, so the
 * caps bite.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "summary.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct tl_summary *s = tl_summary_new(16);
    FILE *null = fopen("/dev/null", "w");

    if (!s || !null)
        abort();
    for (size_t at = 0; at <= size;) {
        const uint8_t *nl = memchr(data + at, '\n', size - at);
        size_t len = nl ? (size_t)(nl - (data + at)) : size - at;
        char *line = malloc(len ? len : 1);
        if (!line)
            abort();
        memcpy(line, data + at, len);
        tl_summary_line(s, line, len);
        free(line);
        at += len + 1;
    }
    tl_summary_text(s, null);
    tl_summary_html(s, null, "fuzz");
    fclose(null);
    tl_summary_free(s);
    return 0;
}
