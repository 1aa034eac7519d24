/*
 * record.h - turning a flow into a `flow` event.
 */
#ifndef TL_FLOWS_RECORD_H
#define TL_FLOWS_RECORD_H

#include <stdbool.h>
#include <stdint.h>

#include "event.h"
#include "flow.h"
#include "table.h"

enum { TL_MAX_RISKS = 16 };

/* Names the caller (which owns the nDPI module) looks up for the record. */
struct tl_flow_names {
    const char *app_proto;
    const char *app_category;
    const char *risks[TL_MAX_RISKS];
    uint32_t nrisks;
};

struct tl_netlist;

/* Identifies the flow's endpoints and uid as every event about it does. */
void tl_flow_ids_fill(struct tl_flow_ids *ids, const struct tl_flow *f, uint16_t cid_seed);

/* Receives a record of type t (size bytes) to write; it may be changed, and is borrowed. */
typedef void (*tl_record_fn)(void *arg, const struct tl_event_type *t, void *rec, size_t size);

/* Makes the `flow` record of f (deltas since its last record), hands it to fn, marks it reported.
 */
void tl_flow_emit(tl_record_fn fn, void *arg, struct tl_flow *f, enum tl_end_reason why,
                  bool interim, const struct tl_flow_names *names, const struct tl_netlist *home,
                  uint16_t cid_seed);

/* Zeek's conn_state of a flow (S0, S1, SF, REJ, ...). */
const char *tl_flow_conn_state(const struct tl_flow *f);

#endif
