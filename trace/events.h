/* Trace event table for host tools, generated from the X-macro list in
 * <abi/trace_events.h> (the single source of truth). */
#ifndef KM_TRACE_EVENTS_TABLE_H
#define KM_TRACE_EVENTS_TABLE_H

struct km_event_info {
    unsigned id;      /* 0..63 */
    const char *name; /* "timer" */
    const char *a0;   /* name of argument a0 ("tick") */
    const char *a1;   /* name of argument a1 ("rip") */
    int a0_type;      /* KM_ARG_U, KM_ARG_S or KM_ARG_X */
    int a1_type;
    const char *doc;  /* one line: what the event records */
};

/* Every event of the list, in list order; km_nevents entries. */
extern const struct km_event_info km_events[];
extern const unsigned km_nevents;

/* The entry for id, or NULL when id is not in the list (ids are sparse in
 * principle: retired ids are never reused). */
const struct km_event_info *km_event_lookup(unsigned id);

#endif
