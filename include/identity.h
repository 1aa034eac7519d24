/*
 * identity.h - which user and which host principal work from which address.
 *
 * Dissectors that see an identity in the clear (a successful Kerberos AS or
 * TGS exchange, a successful LDAP simple bind) turn their record into an
 * observation; workers pass observations to the coordinator over a ring; the
 * coordinator keeps one bounded, time-aware table (detect/identity.c) and
 * writes an `identity` event whenever an address's user or host changes. Time
 * is packet time: an entry not confirmed for identity.timeout is forgotten.
 */
#ifndef TL_IDENTITY_H
#define TL_IDENTITY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "packet.h"
#include "schema.h"

enum { TL_ID_NAME = 128, TL_ID_REALM = 64 };

enum tl_id_source { TL_ID_KERBEROS = 1, TL_ID_LDAP = 2 };

/* One sighting: user and/or host (a computer account NAME$ or a host/ principal). */
struct tl_identity_obs {
    uint64_t ts_us;
    struct tl_ip addr;
    char user[TL_ID_NAME];
    char host[TL_ID_NAME];
    char realm[TL_ID_REALM];
    uint8_t source; /* enum tl_id_source */
};

/* What the table knows about one address. */
struct tl_identity {
    struct tl_ip addr;
    char user[TL_ID_NAME];
    char host[TL_ID_NAME];
    char realm[TL_ID_REALM];
    const char *source;
    uint64_t first_seen, last_seen; /* packet time */
};

struct tl_identity_table;

struct tl_identity_table *tl_identity_new(size_t max_entries, uint64_t timeout_us);
void tl_identity_free(struct tl_identity_table *t);

/*
 * Records an observation. Returns true when it changed what the table says of
 * the address (a new address, or another user or host); *out then holds the
 * entry as it now stands. Past max_entries the least recently seen address is
 * forgotten (counted in *capped).
 */
bool tl_identity_update(struct tl_identity_table *t, const struct tl_identity_obs *o,
                        struct tl_identity *out, uint64_t *capped);

/* The entry for an address at packet time now_us, or NULL (unknown or expired). */
const struct tl_identity *tl_identity_lookup(struct tl_identity_table *t, const uint8_t addr[16],
                                             uint64_t now_us);

size_t tl_identity_count(const struct tl_identity_table *t);

/* The `identity` event: one record per change, fields of struct tl_identity. */
extern const struct tl_event_type tl_identity_event;

#endif
