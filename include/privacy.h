/*
 * privacy.h - user names written as keyed pseudonyms (privacy.hmac_key_file).
 *
 * With a key, the fields named in privacy.pseudonymise ("type.field", e.g.
 * kerberos.client) are rewritten before an event is written or matched: each
 * value becomes the hex HMAC-SHA-256 of the name under the key, cut to
 * privacy.pseudonym_hex_len digits. The same name gives the same pseudonym on
 * every sensor holding the same key; without the key nothing is rewritten.
 */
#ifndef TL_PRIVACY_H
#define TL_PRIVACY_H

#include <stdbool.h>
#include <stddef.h>

#include "arena.h"
#include "schema.h"

struct tl_config;
struct tl_privacy;

enum { TL_PSEUDONYM_MAX = 65 }; /* 64 hex digits and a NUL */

/*
 * Reads the key and resolves privacy.pseudonymise against the event types.
 * 0 with *out NULL when no key is configured; -1 with a reason in errbuf when
 * the key file cannot be read or a listed field does not exist.
 */
int tl_privacy_open(const struct tl_config *cfg, const struct tl_event_type *const *types,
                    size_t ntypes, struct tl_privacy **out, char *errbuf, size_t n);
void tl_privacy_free(struct tl_privacy *pv);

/* Whether field `field` of event type `type` is pseudonymised (pv NULL: never). */
bool tl_privacy_field(const struct tl_privacy *pv, const char *type, const char *field);

/* The pseudonym of n bytes of name into out; returns its length. */
size_t tl_privacy_pseudonym(const struct tl_privacy *pv, const char *name, size_t n,
                            char out[TL_PSEUDONYM_MAX]);

/*
 * Rewrites the pseudonymised fields of rec, an event of type t, in place:
 * STR, CSTR and STRLIST values point to pseudonyms in the arena, CHARS are
 * overwritten (so such an array must hold TL_PSEUDONYM_MAX bytes). Empty
 * values stay empty; a value the full arena cannot take becomes empty, never
 * stays clear. pv NULL: nothing.
 */
void tl_privacy_apply(const struct tl_privacy *pv, const struct tl_event_type *t, void *rec,
                      struct tl_arena *a);

#endif
