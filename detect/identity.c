/*
 * identity.c - the coordinator's address -> (user, host, realm) table.
 *
 * A chained hash table over a fixed array of entries, with an LRU list by last
 * sighting: lookups and updates are O(1), memory is max_entries entries
 * allocated once. Entries older than the timeout are treated as absent and
 * reused first. Only the coordinator thread touches it.
 */
#include <stdlib.h>
#include <string.h>

#include "identity.h"

struct id_entry {
    struct tl_identity id;
    struct id_entry *hnext;       /* hash chain */
    struct id_entry *prev, *next; /* LRU: head is the least recently seen */
    bool used;
};

struct tl_identity_table {
    struct id_entry *entries;
    struct id_entry **bucket;
    size_t nbuckets, max, count, fresh; /* entries[fresh..] were never used */
    struct id_entry *head, *tail;
    struct id_entry *free_list; /* forgotten entries, through hnext */
    uint64_t timeout;
};

static const char *const id_sources[] = { [TL_ID_KERBEROS] = "kerberos", [TL_ID_LDAP] = "ldap" };

static const struct tl_field id_fields[] = {
    TL_FIELD(struct tl_identity, last_seen, TS, "ts",
             "packet time of the sighting that changed it"),
    TL_FIELD_P(struct tl_identity, addr, IP, "addr", "the address"),
    TL_FIELD_OPT_P(struct tl_identity, user, CHARS, "user",
                   "user principal or bind name seen there"),
    TL_FIELD_OPT_P(struct tl_identity, host, CHARS, "host",
                   "host principal seen there (computer account NAME$ or host/...)"),
    TL_FIELD_OPT(struct tl_identity, realm, CHARS, "realm", "Kerberos realm"),
    TL_FIELD(struct tl_identity, source, CSTR, "source", "kerberos or ldap"),
    TL_FIELD(struct tl_identity, first_seen, TS, "first_seen",
             "first sighting of this address in the table"),
};

const struct tl_event_type tl_identity_event = {
    .name = "identity",
    .doc = "an address's user or host changed (successful Kerberos exchanges, LDAP simple binds)",
    .fields = id_fields,
    .nfields = TL_ARRAY_LEN(id_fields),
};

struct tl_identity_table *tl_identity_new(size_t max_entries, uint64_t timeout_us)
{
    struct tl_identity_table *t = calloc(1, sizeof(*t));
    if (!t)
        return NULL;
    t->max = max_entries ? max_entries : 1;
    t->nbuckets = 64;
    while (t->nbuckets < t->max)
        t->nbuckets <<= 1;
    t->entries = calloc(t->max, sizeof(*t->entries));
    t->bucket = calloc(t->nbuckets, sizeof(*t->bucket));
    t->timeout = timeout_us;
    if (!t->entries || !t->bucket) {
        tl_identity_free(t);
        return NULL;
    }
    return t;
}

void tl_identity_free(struct tl_identity_table *t)
{
    if (!t)
        return;
    free(t->entries);
    free(t->bucket);
    free(t);
}

static size_t id_hash(const struct tl_identity_table *t, const uint8_t a[16])
{
    uint64_t h = 1469598103934665603ULL;
    for (int i = 0; i < 16; i++)
        h = (h ^ a[i]) * 1099511628211ULL;
    return (size_t)(h ^ (h >> 29)) & (t->nbuckets - 1);
}

static void id_unlink(struct tl_identity_table *t, struct id_entry *e)
{
    if (e->prev)
        e->prev->next = e->next;
    else
        t->head = e->next;
    if (e->next)
        e->next->prev = e->prev;
    else
        t->tail = e->prev;
    e->prev = e->next = NULL;
}

static void id_append(struct tl_identity_table *t, struct id_entry *e)
{
    e->prev = t->tail;
    e->next = NULL;
    if (t->tail)
        t->tail->next = e;
    else
        t->head = e;
    t->tail = e;
}

static struct id_entry *id_find(struct tl_identity_table *t, const uint8_t a[16])
{
    for (struct id_entry *e = t->bucket[id_hash(t, a)]; e; e = e->hnext)
        if (memcmp(e->id.addr.b, a, 16) == 0)
            return e;
    return NULL;
}

static void id_forget(struct tl_identity_table *t, struct id_entry *e)
{
    struct id_entry **pp = &t->bucket[id_hash(t, e->id.addr.b)];
    while (*pp != e)
        pp = &(*pp)->hnext;
    *pp = e->hnext;
    id_unlink(t, e);
    e->used = false;
    e->hnext = t->free_list;
    t->free_list = e;
    t->count--;
}

static bool id_expired(const struct tl_identity_table *t, const struct id_entry *e, uint64_t now)
{
    return t->timeout && now > e->id.last_seen && now - e->id.last_seen > t->timeout;
}

/* A free entry: a forgotten or never used one, else the least recently seen (evicted,
 * and counted unless it had expired anyway). */
static struct id_entry *id_take(struct tl_identity_table *t, uint64_t now, uint64_t *capped)
{
    if (!t->free_list && t->fresh < t->max)
        return &t->entries[t->fresh++];
    if (!t->free_list) {
        if (!id_expired(t, t->head, now) && capped)
            (*capped)++;
        id_forget(t, t->head);
    }
    struct id_entry *e = t->free_list;
    t->free_list = e->hnext;
    return e;
}

/* Sets dst (cap bytes) to src, cut to fit; false when src is empty or already there. */
static bool id_set(char *dst, size_t cap, const char *src)
{
    size_t n = strnlen(src, cap - 1);
    if (n == 0 || (strnlen(dst, cap) == n && memcmp(dst, src, n) == 0))
        return false;
    memcpy(dst, src, n);
    dst[n] = '\0';
    return true;
}

bool tl_identity_update(struct tl_identity_table *t, const struct tl_identity_obs *o,
                        struct tl_identity *out, uint64_t *capped)
{
    struct id_entry *e = id_find(t, o->addr.b);
    bool changed = false;

    if (e && id_expired(t, e, o->ts_us)) {
        id_forget(t, e);
        e = NULL;
    }
    if (!e) {
        e = id_take(t, o->ts_us, capped);
        memset(&e->id, 0, sizeof(e->id));
        e->id.addr = o->addr;
        e->id.first_seen = o->ts_us;
        e->used = true;
        size_t b = id_hash(t, o->addr.b);
        e->hnext = t->bucket[b];
        t->bucket[b] = e;
        t->count++;
        changed = true;
    } else {
        id_unlink(t, e);
    }
    id_append(t, e);
    /* A sighting older than what the table holds confirms nothing newer. */
    if (o->ts_us >= e->id.last_seen) {
        e->id.last_seen = o->ts_us;
        changed |= id_set(e->id.user, sizeof(e->id.user), o->user);
        changed |= id_set(e->id.host, sizeof(e->id.host), o->host);
        id_set(e->id.realm, sizeof(e->id.realm), o->realm);
        if (o->source < TL_ARRAY_LEN(id_sources) && id_sources[o->source])
            e->id.source = id_sources[o->source];
    }
    if (changed && out)
        *out = e->id;
    return changed;
}

const struct tl_identity *tl_identity_lookup(struct tl_identity_table *t, const uint8_t addr[16],
                                             uint64_t now_us)
{
    struct id_entry *e = id_find(t, addr);
    return e && !id_expired(t, e, now_us) ? &e->id : NULL;
}

size_t tl_identity_count(const struct tl_identity_table *t)
{
    return t->count;
}
