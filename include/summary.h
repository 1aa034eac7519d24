/*
 * summary.h - the end of an offline run, for a person: per event type counts,
 * top talkers, the most common and the rarest registered domains with their
 * hosts, alerts by rule and level, Kerberos and LDAP principals, and the decode
 * and dissector problems of the final stats event.
 *
 * A summary is a sink beside the file and Kafka (export/output.c hands it
 * every JSON line written, whatever the sinks' type filters), so it says
 * exactly what the run output. Each line is read with a strict JSON reader and
 * trusted for nothing. Memory is bounded: every table holds at most
 * summary.max_entries rows, and what did not fit is counted and said.
 * tl_summary_text writes plain columns for an 80-column terminal,
 * tl_summary_html one self-contained HTML file with inline SVG charts.
 */
#ifndef TL_SUMMARY_H
#define TL_SUMMARY_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

struct tl_summary;
struct tl_output;

/* NULL when out of memory. */
struct tl_summary *tl_summary_new(uint64_t max_entries);
void tl_summary_free(struct tl_summary *s);

/* One line (its newline optional). Lines that are not one JSON object are counted. */
void tl_summary_line(struct tl_summary *s, const char *p, size_t n);

void tl_summary_text(const struct tl_summary *s, FILE *out);
/* `title` (what was read) is shown escaped, like everything from the events. -1 on a
 * write error. */
int tl_summary_html(const struct tl_summary *s, FILE *out, const char *title);

/* The output gives every line it writes to s too (s NULL: to none). Call it before the
 * first line; s must outlive the output's last write. */
void tl_output_summary(struct tl_output *o, struct tl_summary *s);

#endif
