/*
 * ac.c - Aho-Corasick automaton (Aho and Corasick, CACM 18(6), 1975) (see ac.h).
 *
 * Built as a trie with failure links; each state points to the nearest
 * state on its failure chain that ends a pattern, so reporting costs only
 * the patterns found. Then, when states x byte classes stays under
 * AC_MAX_DFA, the complete transition table (a DFA: one load per byte) over
 * byte classes (each byte some pattern holds is a class, case folded in;
 * every other byte leads to the root). Past that size, the scan walks the
 * trie: edges sorted by byte, a full table at the root, failure links.
 */
#include <stdlib.h>
#include <string.h>

#include "ac.h"

enum { AC_MAX_DFA = 1 << 22 }; /* transitions of a DFA (16 MiB); bigger automata walk the trie */

struct ac_edge {
    uint8_t byte;
    uint32_t to;
};

struct ac_out {
    uint32_t id;
    uint32_t len;
    uint8_t anchor;
    uint32_t next; /* next output of the same state, or UINT32_MAX */
};

struct ac_state {
    uint32_t edges, nedges; /* into ac->edges, sorted by byte once finished */
    uint32_t fail;
    uint32_t out;  /* first own output, or UINT32_MAX */
    uint32_t dict; /* nearest state down the failure chain with outputs, or UINT32_MAX */
};

struct ac {
    uint8_t fold;
    uint8_t cls[256]; /* byte -> class (DFA) */
    uint32_t nclass;
    uint32_t *dfa; /* [state * nclass + class]: next state * nclass * 2, +1 if it reports */
    struct ac_state *st;
    size_t nst, capst;
    struct ac_edge *edges;
    size_t nedges, capedges;
    struct ac_out *outs;
    size_t nouts, capouts;
    uint32_t root[256];
};

/* While building, edges live in per-state linked lists. */
struct ac_bedge {
    uint8_t byte;
    uint32_t to, next;
};

struct ac_build {
    struct ac *a;
    uint32_t *first; /* per state: first build edge, UINT32_MAX when none */
    size_t capfirst;
    struct ac_bedge *be;
    size_t nbe, capbe;
};

#define AC_NONE UINT32_MAX

static int ac_grow(void **p, size_t *cap, size_t need, size_t size)
{
    if (need <= *cap)
        return 0;
    size_t c = *cap ? *cap * 2 : 64;
    while (c < need)
        c *= 2;
    void *q = realloc(*p, c * size);
    if (!q)
        return -1;
    *p = q;
    *cap = c;
    return 0;
}

static uint32_t ac_new_state(struct ac_build *b)
{
    struct ac *a = b->a;
    if (ac_grow((void **)&a->st, &a->capst, a->nst + 1, sizeof(*a->st)) ||
        ac_grow((void **)&b->first, &b->capfirst, a->nst + 1, sizeof(*b->first)))
        return AC_NONE;
    memset(&a->st[a->nst], 0, sizeof(a->st[0]));
    a->st[a->nst].out = AC_NONE;
    a->st[a->nst].dict = AC_NONE;
    b->first[a->nst] = AC_NONE;
    return (uint32_t)a->nst++;
}

struct ac_build *ac_build_new(int fold)
{
    struct ac_build *b = calloc(1, sizeof(*b));
    if (!b || !(b->a = calloc(1, sizeof(*b->a))) || ac_new_state(b) == AC_NONE) {
        if (b)
            ac_free(b->a);
        free(b);
        return NULL;
    }
    b->a->fold = fold != 0;
    return b;
}

static uint32_t ac_build_child(const struct ac_build *b, uint32_t s, uint8_t c)
{
    for (uint32_t e = b->first[s]; e != AC_NONE; e = b->be[e].next)
        if (b->be[e].byte == c)
            return b->be[e].to;
    return AC_NONE;
}

int ac_add(struct ac_build *b, const uint8_t *pat, size_t len, uint32_t id, enum ac_anchor anchor)
{
    struct ac *a = b->a;
    uint32_t s = 0;
    for (size_t i = 0; i < len; i++) {
        uint32_t t = ac_build_child(b, s, pat[i]);
        if (t == AC_NONE) {
            if ((t = ac_new_state(b)) == AC_NONE ||
                ac_grow((void **)&b->be, &b->capbe, b->nbe + 1, sizeof(*b->be)))
                return -1;
            b->be[b->nbe] = (struct ac_bedge){ pat[i], t, b->first[s] };
            b->first[s] = (uint32_t)b->nbe++;
        }
        s = t;
    }
    if (ac_grow((void **)&a->outs, &a->capouts, a->nouts + 1, sizeof(*a->outs)))
        return -1;
    a->outs[a->nouts] = (struct ac_out){ id, (uint32_t)len, (uint8_t)anchor, a->st[s].out };
    a->st[s].out = (uint32_t)a->nouts++;
    return 0;
}

static int ac_edge_cmp(const void *x, const void *y)
{
    const struct ac_edge *a = x, *b = y;
    return (int)a->byte - (int)b->byte;
}

/* Moves the build edges into one sorted array per state. */
static int ac_pack_edges(struct ac_build *b)
{
    struct ac *a = b->a;
    if (ac_grow((void **)&a->edges, &a->capedges, b->nbe + 1, sizeof(*a->edges)))
        return -1;
    for (size_t s = 0; s < a->nst; s++) {
        a->st[s].edges = (uint32_t)a->nedges;
        for (uint32_t e = b->first[s]; e != AC_NONE; e = b->be[e].next)
            a->edges[a->nedges++] = (struct ac_edge){ b->be[e].byte, b->be[e].to };
        a->st[s].nedges = (uint32_t)a->nedges - a->st[s].edges;
        qsort(a->edges + a->st[s].edges, a->st[s].nedges, sizeof(*a->edges), ac_edge_cmp);
    }
    return 0;
}

static uint32_t ac_child(const struct ac *a, uint32_t s, uint8_t c)
{
    if (s == 0)
        return a->root[c];
    const struct ac_edge *e = a->edges + a->st[s].edges;
    size_t lo = 0, hi = a->st[s].nedges;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (e[mid].byte == c)
            return e[mid].to;
        if (e[mid].byte < c)
            lo = mid + 1;
        else
            hi = mid;
    }
    return AC_NONE;
}

/* Failure and dictionary links, breadth first; the states in that order into queue. */
static int ac_links(struct ac *a, uint32_t *queue)
{
    size_t head = 0, tail = 0;
    for (int c = 0; c < 256; c++)
        a->root[c] = 0;
    const struct ac_edge *re = a->edges + a->st[0].edges;
    for (uint32_t i = 0; i < a->st[0].nedges; i++) {
        a->root[re[i].byte] = re[i].to;
        a->st[re[i].to].fail = 0;
        queue[tail++] = re[i].to;
    }
    while (head < tail) {
        uint32_t s = queue[head++];
        const struct ac_edge *e = a->edges + a->st[s].edges;
        for (uint32_t i = 0; i < a->st[s].nedges; i++) {
            uint32_t t = e[i].to, f = a->st[s].fail, g;
            while ((g = ac_child(a, f, e[i].byte)) == AC_NONE)
                f = a->st[f].fail;
            a->st[t].fail = g == t ? 0 : g;
            uint32_t ft = a->st[t].fail;
            a->st[t].dict = a->st[ft].out != AC_NONE ? ft : a->st[ft].dict;
            queue[tail++] = t;
        }
    }
    return 0;
}

static uint8_t ac_lower(uint8_t c)
{
    return c >= 'A' && c <= 'Z' ? (uint8_t)(c | 0x20) : c;
}

/* The DFA over byte classes, filled in breadth-first order: a state's
 * transitions are its edges, else those of its failure state (done before it). */
static int ac_dfa(struct ac *a, const uint32_t *order)
{
    uint8_t rep[256]; /* a byte of each class */
    a->nclass = 1;
    for (size_t e = 0; e < a->nedges; e++) {
        uint8_t c = a->edges[e].byte;
        if (!a->cls[c]) {
            rep[a->nclass] = c;
            a->cls[c] = (uint8_t)a->nclass++;
        }
    }
    if (a->nclass > 255 || (uint64_t)a->nst * a->nclass > AC_MAX_DFA)
        return 0; /* walk the trie instead */
    for (int c = 0; c < 256; c++)
        if (a->fold && c != ac_lower((uint8_t)c))
            a->cls[c] = a->cls[ac_lower((uint8_t)c)];
    uint32_t k = a->nclass;
    if (!(a->dfa = calloc((size_t)a->nst * k, sizeof(*a->dfa))))
        return -1;
    for (size_t i = 0; i <= a->nst - 1; i++) {
        uint32_t s = i ? order[i - 1] : 0, f = a->st[s].fail;
        for (uint32_t x = 1; x < k; x++) {
            uint32_t t = ac_child(a, s, rep[x]);
            a->dfa[(size_t)s * k + x] =
                t != AC_NONE && (s || t)
                    ? t * k * 2 + (a->st[t].out != AC_NONE || a->st[t].dict != AC_NONE)
                : s ? a->dfa[(size_t)f * k + x]
                    : 0;
        }
    }
    return 0;
}

struct ac *ac_finish(struct ac_build *b)
{
    struct ac *a = b->a;
    uint32_t *order = malloc(a->nst * sizeof(*order));
    if (!order || ac_pack_edges(b) || ac_links(a, order) || ac_dfa(a, order)) {
        ac_free(a);
        a = NULL;
    }
    free(order);
    free(b->first);
    free(b->be);
    free(b);
    return a;
}

void ac_free(struct ac *a)
{
    if (!a)
        return;
    free(a->st);
    free(a->edges);
    free(a->outs);
    free(a->dfa);
    free(a);
}

static void ac_report(const struct ac *a, uint32_t o, size_t end, size_t len, ac_hit_fn hit,
                      void *arg)
{
    for (; o != AC_NONE; o = a->outs[o].next) {
        const struct ac_out *out = &a->outs[o];
        if ((out->anchor & AC_PREFIX) && end != out->len)
            continue;
        if ((out->anchor & AC_SUFFIX) && end != len)
            continue;
        hit(arg, out->id);
    }
}

/* Every pattern that ends at state s (its own, then down its dictionary links). */
static void ac_report_all(const struct ac *a, uint32_t s, size_t end, size_t len, ac_hit_fn hit,
                          void *arg)
{
    if (a->st[s].out != AC_NONE)
        ac_report(a, a->st[s].out, end, len, hit, arg);
    for (uint32_t d = a->st[s].dict; d != AC_NONE; d = a->st[d].dict)
        ac_report(a, a->st[d].out, end, len, hit, arg);
}

void ac_scan(const struct ac *a, const uint8_t *text, size_t len, ac_hit_fn hit, void *arg)
{
    if (a->dfa) {
        uint32_t e = 0, k = a->nclass;
        for (size_t i = 0; i < len; i++) {
            e = a->dfa[(e >> 1) + a->cls[text[i]]];
            if (e & 1)
                ac_report_all(a, (e >> 1) / k, i + 1, len, hit, arg);
        }
        return;
    }
    uint32_t s = 0;
    for (size_t i = 0; i < len; i++) {
        uint32_t t = 0;
        uint8_t c = a->fold ? ac_lower(text[i]) : text[i];
        while (s && (t = ac_child(a, s, c)) == AC_NONE)
            s = a->st[s].fail;
        s = s ? t : a->root[c];
        ac_report_all(a, s, i + 1, len, hit, arg);
    }
}
