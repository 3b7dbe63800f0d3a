/* Trace event table for host tools, generated from the X-macro list. */
#include <stddef.h>
#include <abi/types.h>
#include <abi/trace_events.h>
#include "events.h"

#define KM_EV_CHECK(id, NAME, name, a0, t0, a1, t1, doc) \
    KM_STATIC_ASSERT((id) >= 0 && (id) < KM_EV_LIMIT, "event id " #id " out of range");
KM_TRACE_EVENTS(KM_EV_CHECK)
#undef KM_EV_CHECK

const struct km_event_info km_events[] = {
#define KM_EV_INFO(id, NAME, name, a0, t0, a1, t1, doc) \
    { id, name, a0, a1, KM_ARG_##t0, KM_ARG_##t1, doc },
    KM_TRACE_EVENTS(KM_EV_INFO)
#undef KM_EV_INFO
};
const unsigned km_nevents = sizeof km_events / sizeof km_events[0];

/* The same table indexed by id (a duplicate id is a -Woverride-init warning). */
static const struct km_event_info by_id[KM_EV_LIMIT] = {
#define KM_EV_SLOT(id, NAME, name, a0, t0, a1, t1, doc) \
    [id] = { id, name, a0, a1, KM_ARG_##t0, KM_ARG_##t1, doc },
    KM_TRACE_EVENTS(KM_EV_SLOT)
#undef KM_EV_SLOT
};

const struct km_event_info *km_event_lookup(unsigned id)
{
    if (id >= KM_EV_LIMIT || by_id[id].name == NULL)
        return NULL;
    return &by_id[id];
}
