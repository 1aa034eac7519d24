/*
 * schemadoc.h - what the field tables say about the events, for people and
 * programs: --list-fields (text), --list-fields --json (a JSON Schema, one
 * definition per event type) and --data-sheet (markdown for a data protection
 * officer: every field, what it is for, whether it can identify a person and
 * how to pseudonymise or drop it). All three read the tables that write the
 * JSON, so none of them can drift from the output.
 */
#ifndef TL_SCHEMADOC_H
#define TL_SCHEMADOC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "schema.h"

/*
 * The event types to document: all of types[0..n), or the one named `only`
 * (NULL: all). -1 when `only` names no type; errbuf then lists the known ones.
 */
int tl_schemadoc_text(FILE *out, const struct tl_event_type *const *types, size_t n,
                      const char *only, char *errbuf, size_t en);
int tl_schemadoc_json(FILE *out, const struct tl_event_type *const *types, size_t n,
                      const char *only, char *errbuf, size_t en);

/* The data sheet; `pseudonymise` is privacy.pseudonymise (the fields pseudonymised when a key
 * is set), so a sheet made with a site's configuration says what that site exports. */
void tl_schemadoc_sheet(FILE *out, const struct tl_event_type *const *types, size_t n,
                        const char *pseudonymise);

/* Whether privacy.pseudonymise can rewrite field f of event type t (a text field of an event
 * whose record passes through the pseudonymiser). */
bool tl_schemadoc_pseudonymisable(const struct tl_event_type *t, const struct tl_field *f);

/* The fixed set of values of a field (NULL-terminated), or NULL when its values are open. */
const char *const *tl_schemadoc_enum(const char *type, const char *field);
/* How many fields have a fixed set (each must name a field: a unit test counts them). */
size_t tl_schemadoc_enum_count(void);

#endif
