/* Dump reader tests: good dumps round-trip; every class of bad input is
 * rejected with the right reason, frame number and byte offset. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <abi/trace.h>
#include "dump_frame.h"
#include "dump_read.h"
#include "testutil.h"

/* Re-encodes a decoded dump the way synth_write lays it out (EVENTS
 * round-robin in 1024-record frames, SAMPLES in 4096-sample frames), so a
 * lossless decode gives back the original bytes. */
static void encode_like_synth(const struct dump *d, struct membuf *b)
{
    struct dump_writer w;
    unsigned long long next[KM_DUMP_MAX_CPUS] = { 0 };
    memset(b, 0, sizeof *b);
    dump_writer_init(&w, membuf_sink, b);
    dump_write_frame(&w, KM_FRAME_RUN, &d->run, sizeof d->run, NULL, 0);
    for (unsigned c = 0; c < d->ncpus; c++)
        dump_write_frame(&w, KM_FRAME_CPU, &d->cpu[c].info, sizeof d->cpu[c].info, NULL, 0);
    for (int more = 1; more;) {
        more = 0;
        for (unsigned c = 0; c < d->ncpus; c++) {
            unsigned long long left = d->cpu[c].info.count - next[c];
            if (!left)
                continue;
            struct km_dump_events e = {
                .cpu = c,
                .count = left < KM_DUMP_EVENTS_PER_FRAME ? (km_u32)left : KM_DUMP_EVENTS_PER_FRAME,
                .first_seq = d->cpu[c].info.first_seq + next[c],
            };
            dump_write_frame(&w, KM_FRAME_EVENTS, &e, sizeof e, d->cpu[c].recs + next[c],
                             e.count * 32u);
            next[c] += e.count;
            more |= next[c] != d->cpu[c].info.count;
        }
    }
    for (size_t i = 0; i < d->nseries; i++) {
        const struct dump_series *s = &d->series[i];
        struct km_dump_samples h;
        memset(&h, 0, sizeof h);
        memcpy(h.benchmark, s->benchmark, strnlen(s->benchmark, sizeof h.benchmark));
        memcpy(h.variant, s->variant, strnlen(s->variant, sizeof h.variant));
        memcpy(h.metric, s->metric, strnlen(s->metric, sizeof h.metric));
        memcpy(h.unit, s->unit, strnlen(s->unit, sizeof h.unit));
        h.overhead = s->overhead;
        h.cpu = s->cpu;
        h.total = s->n;
        for (unsigned long long k = 0; k < s->n; k += h.count) {
            unsigned long long left = s->n - k;
            h.count = left < KM_DUMP_SAMPLES_PER_FRAME ? (km_u32)left : KM_DUMP_SAMPLES_PER_FRAME;
            h.first_index = k;
            dump_write_frame(&w, KM_FRAME_SAMPLES, &h, sizeof h, s->samples + k, h.count * 8u);
        }
    }
    struct km_dump_end end = { .frames = w.seq, .ncpus = d->ncpus, .events = d->events,
                               .lost = d->lost, .samples = d->samples };
    dump_write_frame(&w, KM_FRAME_END, &end, sizeof end, NULL, 0);
}

static void check_roundtrip(const struct synth_opts *o)
{
    struct membuf in, out;
    struct dump d;
    struct dump_error err;
    synth_mem(&in, o);
    assert_int_equal(dump_decode(in.p, in.len, &d, &err), 0);
    assert_int_equal(err.code, DUMP_OK);
    assert_int_equal(d.ncpus, o->ncpus);
    assert_int_equal(d.events, o->events);
    assert_int_equal(d.lost, o->lost * o->ncpus);
    assert_int_equal(d.samples, o->samples ? o->samples * SYNTH_NSERIES : 0);
    assert_int_equal(d.bytes, in.len);
    unsigned long long sum = 0;
    for (unsigned c = 0; c < d.ncpus; c++) {
        const struct dump_cpu_trace *t = &d.cpu[c];
        sum += t->info.count;
        assert_int_equal(t->info.first_seq, o->overwrite ? o->lost : 0);
        assert_int_equal(t->info.count + t->info.lost, t->info.written);
        for (unsigned long long i = 0; i < t->info.count; i++) {
            assert_int_equal(t->recs[i].cpu, c);
            if (i)
                assert_true(t->recs[i].tsc > t->recs[i - 1].tsc);
        }
    }
    assert_int_equal(sum, o->events);
    encode_like_synth(&d, &out);
    assert_int_equal(out.len, in.len);
    assert_memory_equal(out.p, in.p, in.len);
    dump_free(&d);
    dump_free(&d); /* harmless twice */
    membuf_free(&in);
    membuf_free(&out);
}

static void test_roundtrip(void **state)
{
    (void)state;
    struct synth_opts o;
    synth_defaults(&o);
    o.ncpus = 3;
    o.events = 5000;
    o.samples = 5000; /* 2 SAMPLES frames per series */
    o.seed = 7;
    check_roundtrip(&o);
}

static void test_roundtrip_lost(void **state)
{
    (void)state;
    struct synth_opts o;
    synth_defaults(&o);
    o.ncpus = 4;
    o.events = 3001;
    o.lost = 100;
    o.overwrite = 1;
    check_roundtrip(&o);
    o.overwrite = 0;
    o.samples = 0;
    o.ncpus = 1;
    check_roundtrip(&o);
}

static void test_synth_deterministic(void **state)
{
    (void)state;
    struct synth_opts o;
    struct membuf a, b, c;
    synth_defaults(&o);
    synth_mem(&a, &o);
    synth_mem(&b, &o);
    o.seed = 2;
    synth_mem(&c, &o);
    assert_int_equal(a.len, b.len);
    assert_memory_equal(a.p, b.p, a.len);
    assert_true(a.len != c.len || memcmp(a.p, c.p, a.len) != 0);
    membuf_free(&a);
    membuf_free(&b);
    membuf_free(&c);
}

/* A small synthetic dump for the exhaustive corruption tests. */
static struct membuf small;
static struct frame_pos fpos[64];
static size_t nframes;

static int setup_small(void **state)
{
    (void)state;
    struct synth_opts o;
    synth_defaults(&o);
    o.ncpus = 2;
    o.events = 200;
    o.samples = 50;
    synth_mem(&small, &o);
    nframes = frames_of(small.p, small.len, fpos, 64);
    return 0;
}

static int teardown_small(void **state)
{
    (void)state;
    membuf_free(&small);
    return 0;
}

/* Decodes buf and checks it is rejected with code at frame/offset. */
static void expect_reject(const unsigned char *buf, size_t len, enum dump_err code, long frame,
                          unsigned long long offset)
{
    struct dump d;
    struct dump_error err;
    int rc = dump_decode(buf, len, &d, &err);
    if (rc == 0 || err.code != code || err.frame != frame || err.offset != offset)
        fail_msg("expected %s at frame %ld byte %llu, got rc %d: %s", dump_err_name(code), frame,
                 offset, rc, rc ? err.msg : "(accepted)");
    /* the message names the reason, the frame and the offset */
    char where[64];
    snprintf(where, sizeof where, "at byte %llu", offset);
    assert_non_null(strstr(err.msg, where));
    assert_non_null(strstr(err.msg, dump_err_name(code)));
    for (int i = 0; i < KM_DUMP_MAX_CPUS; i++)
        assert_null(d.cpu[i].recs);
    assert_null(d.series);
}

static void test_small_is_valid(void **state)
{
    (void)state;
    struct dump d;
    struct dump_error err;
    assert_int_equal(nframes, 9); /* RUN, 2 CPU, 2 EVENTS, 3 SAMPLES, END */
    assert_int_equal(dump_decode(small.p, small.len, &d, &err), 0);
    assert_int_equal(d.frames, 9);
    dump_free(&d);
}

static void test_empty(void **state)
{
    (void)state;
    struct dump d;
    struct dump_error err;
    assert_int_equal(dump_decode("", 0, &d, &err), -1);
    assert_int_equal(err.code, DUMP_E_EMPTY);
    assert_int_equal(err.offset, 0);
    assert_int_equal(err.frame, -1);
}

/* Cut the dump at every offset: inside a frame = truncated (at that frame's
 * start), at a frame boundary = no END. */
static void test_truncated_everywhere(void **state)
{
    (void)state;
    for (size_t cut = 1; cut < small.len; cut++) {
        size_t i = 0;
        while (i + 1 < nframes && fpos[i + 1].off <= cut)
            i++;
        if (fpos[i].off == cut)
            expect_reject(small.p, cut, DUMP_E_NO_END, (long)i, cut);
        else
            expect_reject(small.p, cut, DUMP_E_TRUNCATED, (long)i, fpos[i].off);
    }
}

static void test_missing_end(void **state)
{
    (void)state;
    size_t end = fpos[nframes - 1].off;
    struct dump d;
    struct dump_error err;
    expect_reject(small.p, end, DUMP_E_NO_END, (long)nframes - 1, end);
    dump_decode(small.p, end, &d, &err);
    assert_non_null(strstr(err.msg, "truncated dump"));
}

/* Every bit of every frame header: bytes 0..3 are the magic, the rest is
 * covered by the header CRC (a flip in header_crc itself included). */
static void test_header_bitflips(void **state)
{
    (void)state;
    unsigned char *buf = malloc(small.len);
    for (size_t f = 0; f < nframes; f++)
        for (size_t byte = 0; byte < sizeof(struct km_frame_hdr); byte++)
            for (int bit = 0; bit < 8; bit++) {
                memcpy(buf, small.p, small.len);
                buf[fpos[f].off + byte] ^= (unsigned char)(1u << bit);
                expect_reject(buf, small.len, byte < 4 ? DUMP_E_BAD_MAGIC : DUMP_E_HEADER_CRC,
                              (long)f, fpos[f].off);
            }
    free(buf);
}

/* One bit of every payload byte of every frame (bit = byte index mod 8). */
static void test_payload_bitflips(void **state)
{
    (void)state;
    unsigned char *buf = malloc(small.len);
    memcpy(buf, small.p, small.len);
    for (size_t f = 0; f < nframes; f++)
        for (size_t k = 0; k < fpos[f].len; k++) {
            size_t at = fpos[f].off + sizeof(struct km_frame_hdr) + k;
            buf[at] ^= (unsigned char)(1u << (k % 8));
            expect_reject(buf, small.len, DUMP_E_PAYLOAD_CRC, (long)f, fpos[f].off);
            buf[at] ^= (unsigned char)(1u << (k % 8));
        }
    free(buf);
}

static void test_bad_magic(void **state)
{
    (void)state;
    unsigned char *buf = malloc(small.len);
    memcpy(buf, small.p, small.len);
    memcpy(buf, "KMTG", 4);
    expect_reject(buf, small.len, DUMP_E_BAD_MAGIC, 0, 0);
    memcpy(buf, small.p, small.len);
    memcpy(buf + fpos[4].off, "\0\0\0\0", 4);
    expect_reject(buf, small.len, DUMP_E_BAD_MAGIC, 4, fpos[4].off);
    /* not a dump at all: a text file */
    const char *text = "this is a serial console log, not a dump\n";
    expect_reject((const unsigned char *)text, strlen(text), DUMP_E_BAD_MAGIC, 0, 0);
    /* shorter than a header: bad magic if it does not start like a frame */
    expect_reject((const unsigned char *)"hi\n", 3, DUMP_E_BAD_MAGIC, 0, 0);
    expect_reject(small.p, 2, DUMP_E_TRUNCATED, 0, 0);
    free(buf);
}

/* Header fields changed on purpose, CRC recomputed: the field checks. */
static void test_header_fields(void **state)
{
    (void)state;
    unsigned char *buf = malloc(small.len);
    struct km_frame_hdr h;

    memcpy(buf, small.p, small.len); /* version 2 */
    memcpy(&h, buf + fpos[3].off, sizeof h);
    h.version = KM_DUMP_VERSION + 1;
    memcpy(buf + fpos[3].off, &h, sizeof h);
    fix_header_crc(buf, fpos[3].off);
    expect_reject(buf, small.len, DUMP_E_VERSION, 3, fpos[3].off);

    memcpy(buf, small.p, small.len); /* len beyond the limit */
    memcpy(&h, buf + fpos[2].off, sizeof h);
    h.len = KM_DUMP_MAX_PAYLOAD + 1;
    memcpy(buf + fpos[2].off, &h, sizeof h);
    fix_header_crc(buf, fpos[2].off);
    expect_reject(buf, small.len, DUMP_E_TOO_LONG, 2, fpos[2].off);

    memcpy(buf, small.p, small.len); /* len beyond the end of the file */
    memcpy(&h, buf + fpos[8].off, sizeof h);
    h.len = 4096;
    memcpy(buf + fpos[8].off, &h, sizeof h);
    fix_header_crc(buf, fpos[8].off);
    expect_reject(buf, small.len, DUMP_E_TRUNCATED, 8, fpos[8].off);

    memcpy(buf, small.p, small.len); /* seq skips */
    memcpy(&h, buf + fpos[5].off, sizeof h);
    h.seq = 6;
    memcpy(buf + fpos[5].off, &h, sizeof h);
    fix_header_crc(buf, fpos[5].off);
    expect_reject(buf, small.len, DUMP_E_SEQ, 5, fpos[5].off);

    memcpy(buf, small.p, small.len); /* unknown type */
    memcpy(&h, buf + fpos[5].off, sizeof h);
    h.type = 9;
    memcpy(buf + fpos[5].off, &h, sizeof h);
    fix_header_crc(buf, fpos[5].off);
    expect_reject(buf, small.len, DUMP_E_ORDER, 5, fpos[5].off);
    free(buf);
}

static void test_after_end(void **state)
{
    (void)state;
    size_t end = fpos[nframes - 1].off, endlen = small.len - end;
    unsigned char *buf = malloc(small.len + endlen);
    memcpy(buf, small.p, small.len);
    memcpy(buf + small.len, "junk", 4);
    expect_reject(buf, small.len + 4, DUMP_E_AFTER_END, (long)nframes, small.len);
    memset(buf + small.len, 0, 1);
    expect_reject(buf, small.len + 1, DUMP_E_AFTER_END, (long)nframes, small.len);
    memcpy(buf + small.len, small.p + end, endlen); /* a second END */
    expect_reject(buf, small.len + endlen, DUMP_E_AFTER_END, (long)nframes, small.len);
    free(buf);
}

/* ---- payload semantics, on the hand-built mini dump (CRCs correct) ---- */

static void expect_mini(struct tdump *t, enum dump_err code, int frame, const char *words)
{
    struct membuf b;
    struct frame_pos pos[32];
    struct dump d;
    struct dump_error err;
    tdump_write(t, &b);
    size_t n = frames_of(b.p, b.len, pos, 32);
    assert_true((size_t)frame <= n);
    unsigned long long off = (size_t)frame < n ? pos[frame].off : b.len;
    int rc = dump_decode(b.p, b.len, &d, &err);
    if (rc == 0 || err.code != code || err.frame != frame || err.offset != off ||
        (words && !strstr(err.msg, words)))
        fail_msg("expected %s at frame %d byte %llu (\"%s\"), got rc %d: %s", dump_err_name(code),
                 frame, off, words ? words : "", rc, rc ? err.msg : "(accepted)");
    membuf_free(&b);
    tdump_free(t);
}

#define PL(t, i, type) ((type *)(t).f[i]->payload)

static void test_mini_valid(void **state)
{
    (void)state;
    struct tdump t;
    struct membuf b;
    struct dump d;
    struct dump_error err;
    tdump_mini(&t);
    tdump_write(&t, &b);
    assert_int_equal(dump_decode(b.p, b.len, &d, &err), 0);
    assert_int_equal(d.ncpus, 2);
    assert_int_equal(d.events, 6);
    assert_int_equal(d.nseries, 1);
    assert_string_equal(d.series[0].benchmark, "bench");
    assert_int_equal(d.series[0].samples[4], 50);
    assert_int_equal(d.cpu[1].recs[2].a1, 0xffffffff80000000ull);
    assert_string_equal(d.kmem_mode, "kpager");
    dump_free(&d);
    membuf_free(&b);
    tdump_free(&t);
}

static void test_order(void **state)
{
    (void)state;
    struct tdump t;

    tdump_mini(&t); /* RUN twice */
    tdump_insert_copy(&t, 1, 0);
    tdump_fix_end(&t);
    expect_mini(&t, DUMP_E_ORDER, 1, "RUN frame where CPU frame 0 of 2");

    tdump_mini(&t); /* starts with a CPU frame */
    tdump_remove(&t, 0);
    expect_mini(&t, DUMP_E_ORDER, 0, "CPU frame where RUN was expected");

    tdump_mini(&t); /* EVENTS before all CPU frames */
    tdump_remove(&t, 2);
    expect_mini(&t, DUMP_E_ORDER, 2, "EVENTS frame where CPU frame 1 of 2");

    tdump_mini(&t); /* a third CPU frame */
    tdump_insert_copy(&t, 3, 2);
    expect_mini(&t, DUMP_E_ORDER, 3, "CPU frame where EVENTS, SAMPLES or END");

    tdump_mini(&t); /* EVENTS after SAMPLES */
    tdump_insert_copy(&t, 6, 4);
    tdump_remove(&t, 4);
    expect_mini(&t, DUMP_E_ORDER, 5, "EVENTS frame where SAMPLES or END");

    tdump_mini(&t); /* END right after RUN */
    tdump_insert_copy(&t, 1, 6);
    expect_mini(&t, DUMP_E_ORDER, 1, "END frame where CPU");
}

static void test_sizes(void **state)
{
    (void)state;
    struct tdump t;

    tdump_mini(&t);
    t.f[0]->len = 500;
    expect_mini(&t, DUMP_E_SIZE, 0, "RUN payload is 500 bytes");

    tdump_mini(&t);
    t.f[1]->len = 40;
    expect_mini(&t, DUMP_E_SIZE, 1, "CPU payload");

    tdump_mini(&t); /* record count says 3, payload holds 2 */
    t.f[3]->len -= 32;
    expect_mini(&t, DUMP_E_SIZE, 3, "EVENTS payload");

    tdump_mini(&t);
    t.f[5]->len = 100;
    expect_mini(&t, DUMP_E_SIZE, 5, "SAMPLES payload is 100 bytes");

    tdump_mini(&t);
    t.f[6]->len = 24;
    expect_mini(&t, DUMP_E_SIZE, 6, "END payload");
}

static void test_fields(void **state)
{
    (void)state;
    struct tdump t;

    tdump_mini(&t);
    PL(t, 0, struct km_dump_run)->rec_size = 24;
    expect_mini(&t, DUMP_E_BAD_FIELD, 0, "rec_size");

    tdump_mini(&t);
    PL(t, 0, struct km_dump_run)->ncpus = 0;
    expect_mini(&t, DUMP_E_BAD_FIELD, 0, "ncpus is 0");

    tdump_mini(&t);
    PL(t, 0, struct km_dump_run)->ncpus = KM_DUMP_MAX_CPUS + 1;
    expect_mini(&t, DUMP_E_BAD_FIELD, 0, "ncpus is 65");

    tdump_mini(&t);
    PL(t, 0, struct km_dump_run)->tsc_hz = 0;
    expect_mini(&t, DUMP_E_BAD_FIELD, 0, "tsc_hz");

    tdump_mini(&t);
    PL(t, 2, struct km_dump_cpu)->cpu = 0; /* second CPU frame says cpu 0 */
    expect_mini(&t, DUMP_E_BAD_FIELD, 2, "CPU frame 1 says cpu 0");

    tdump_mini(&t); /* EVENTS for a CPU that does not exist */
    PL(t, 4, struct km_dump_events)->cpu = 2;
    expect_mini(&t, DUMP_E_BAD_FIELD, 4, "EVENTS for cpu 2, but ncpus is 2");

    tdump_mini(&t); /* a record claiming another CPU */
    ((struct km_trace_rec *)(t.f[3]->payload + 16))[1].cpu = 1;
    expect_mini(&t, DUMP_E_BAD_FIELD, 3, "has cpu 1 in a cpu 0 frame");

    tdump_mini(&t); /* event id out of range */
    ((struct km_trace_rec *)(t.f[4]->payload + 16))[2].event = 64;
    expect_mini(&t, DUMP_E_BAD_FIELD, 4, "event id 64");

    tdump_mini(&t); /* EVENTS frame with zero records */
    PL(t, 3, struct km_dump_events)->count = 0;
    t.f[3]->len = 16;
    expect_mini(&t, DUMP_E_BAD_FIELD, 3, "count is 0");

    tdump_mini(&t); /* unterminated, unprintable series name */
    PL(t, 5, struct km_dump_samples)->variant[0] = '\t';
    expect_mini(&t, DUMP_E_BAD_FIELD, 5, "printable");

    tdump_mini(&t); /* samples from a CPU that does not exist */
    PL(t, 5, struct km_dump_samples)->cpu = 7;
    expect_mini(&t, DUMP_E_BAD_FIELD, 5, "on cpu 7");
}

static void test_counts(void **state)
{
    (void)state;
    struct tdump t;

    tdump_mini(&t); /* count + lost != written */
    PL(t, 1, struct km_dump_cpu)->written = 5;
    expect_mini(&t, DUMP_E_COUNTS, 1, "count 3 + lost 0 != written 5");

    tdump_mini(&t); /* first_seq beyond what was written */
    PL(t, 1, struct km_dump_cpu)->first_seq = 1;
    expect_mini(&t, DUMP_E_COUNTS, 1, "first_seq");

    tdump_mini(&t); /* EVENTS do not start at the CPU's first_seq */
    PL(t, 3, struct km_dump_events)->first_seq = 1;
    expect_mini(&t, DUMP_E_COUNTS, 3, "start at seq 1, expected 0");

    tdump_mini(&t); /* a CPU frame promises more records than arrive */
    PL(t, 2, struct km_dump_cpu)->count = 4;
    PL(t, 2, struct km_dump_cpu)->written = 4;
    expect_mini(&t, DUMP_E_COUNTS, 6, "cpu 1: EVENTS frames hold 3 records, CPU frame says 4");

    tdump_mini(&t); /* more records than promised */
    PL(t, 2, struct km_dump_cpu)->count = 2;
    PL(t, 2, struct km_dump_cpu)->written = 2;
    expect_mini(&t, DUMP_E_COUNTS, 4, "more records than");

    tdump_mini(&t);
    PL(t, 6, struct km_dump_end)->events = 7;
    expect_mini(&t, DUMP_E_COUNTS, 6, "END.events is 7");

    tdump_mini(&t);
    PL(t, 6, struct km_dump_end)->lost = 1;
    expect_mini(&t, DUMP_E_COUNTS, 6, "END.lost is 1");

    tdump_mini(&t);
    PL(t, 6, struct km_dump_end)->samples = 4;
    expect_mini(&t, DUMP_E_COUNTS, 6, "END.samples is 4");

    tdump_mini(&t);
    PL(t, 6, struct km_dump_end)->frames = 5;
    expect_mini(&t, DUMP_E_COUNTS, 6, "END.frames is 5");

    tdump_mini(&t);
    PL(t, 6, struct km_dump_end)->ncpus = 1;
    expect_mini(&t, DUMP_E_COUNTS, 6, "END.ncpus");
}

static void test_series(void **state)
{
    (void)state;
    struct tdump t;

    tdump_mini(&t); /* series announced with 8 samples, only 5 arrive */
    PL(t, 5, struct km_dump_samples)->total = 8;
    expect_mini(&t, DUMP_E_COUNTS, 6, "has only 5 of 8 samples");

    tdump_mini(&t); /* first chunk not at index 0 */
    PL(t, 5, struct km_dump_samples)->first_index = 3;
    PL(t, 5, struct km_dump_samples)->total = 8;
    expect_mini(&t, DUMP_E_COUNTS, 5, "chunk starts at index 3, expected 0");

    tdump_mini(&t); /* chunk larger than the series */
    PL(t, 5, struct km_dump_samples)->total = 4;
    expect_mini(&t, DUMP_E_COUNTS, 5, "overruns total 4");

    tdump_mini(&t); /* the same series twice */
    tdump_insert_copy(&t, 6, 5);
    tdump_fix_end(&t);
    expect_mini(&t, DUMP_E_BAD_FIELD, 6, "appears twice");

    tdump_mini(&t); /* a series in two chunks, the second with another name */
    tdump_insert_copy(&t, 6, 5);
    PL(t, 5, struct km_dump_samples)->total = 10;
    PL(t, 6, struct km_dump_samples)->total = 10;
    PL(t, 6, struct km_dump_samples)->first_index = 5;
    strcpy(PL(t, 6, struct km_dump_samples)->metric, "other");
    tdump_fix_end(&t);
    expect_mini(&t, DUMP_E_COUNTS, 6, "but the next SAMPLES frame is bench/default/other");

    /* and the same two chunks done right are accepted */
    struct membuf b;
    struct dump d;
    struct dump_error err;
    tdump_mini(&t);
    tdump_insert_copy(&t, 6, 5);
    PL(t, 5, struct km_dump_samples)->total = 10;
    PL(t, 6, struct km_dump_samples)->total = 10;
    PL(t, 6, struct km_dump_samples)->first_index = 5;
    tdump_fix_end(&t);
    tdump_write(&t, &b);
    assert_int_equal(dump_decode(b.p, b.len, &d, &err), 0);
    assert_int_equal(d.series[0].n, 10);
    assert_int_equal(d.series[0].samples[9], 50);
    dump_free(&d);
    membuf_free(&b);
    tdump_free(&t);
}

/* Deterministic mutation run: random byte changes with the CRCs repaired,
 * so the checks behind the CRCs see them.  Every result must be a clean
 * accept or a reject with a reason (ASan/UBSan watch the rest). */
static void test_mutations(void **state)
{
    (void)state;
    unsigned long long rng = 12345;
    unsigned char *buf = malloc(small.len);
    int accepted = 0, rejected = 0;
    for (int iter = 0; iter < 20000; iter++) {
        memcpy(buf, small.p, small.len);
        int edits = 1 + (int)((rng >> 33) % 4);
        for (int e = 0; e < edits; e++) {
            rng = rng * 6364136223846793005ull + 1442695040888963407ull;
            size_t at = (size_t)((rng >> 16) % small.len);
            buf[at] = (unsigned char)(rng >> 56);
        }
        repair_crcs(buf, small.len);
        struct dump d;
        struct dump_error err;
        if (dump_decode(buf, small.len, &d, &err) == 0) {
            accepted++;
            assert_int_equal(d.bytes, small.len);
            dump_free(&d);
        } else {
            rejected++;
            assert_true(err.code != DUMP_OK && err.msg[0] && err.offset <= small.len);
        }
    }
    assert_true(rejected > 0 && accepted > 0); /* some edits hit only argument bytes */
    free(buf);
}

static void test_read_file_errors(void **state)
{
    (void)state;
    struct dump d;
    struct dump_error err;
    assert_int_equal(dump_read_file("/nonexistent/kmemlab.dump", &d, &err), -1);
    assert_int_equal(err.code, DUMP_E_IO);
    assert_non_null(strstr(err.msg, "No such file"));
    assert_int_equal(dump_read_file("/", &d, &err), -1);
    assert_int_equal(err.code, DUMP_E_IO);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_roundtrip),
        cmocka_unit_test(test_roundtrip_lost),
        cmocka_unit_test(test_synth_deterministic),
        cmocka_unit_test(test_small_is_valid),
        cmocka_unit_test(test_empty),
        cmocka_unit_test(test_truncated_everywhere),
        cmocka_unit_test(test_missing_end),
        cmocka_unit_test(test_header_bitflips),
        cmocka_unit_test(test_payload_bitflips),
        cmocka_unit_test(test_bad_magic),
        cmocka_unit_test(test_header_fields),
        cmocka_unit_test(test_after_end),
        cmocka_unit_test(test_mini_valid),
        cmocka_unit_test(test_order),
        cmocka_unit_test(test_sizes),
        cmocka_unit_test(test_fields),
        cmocka_unit_test(test_counts),
        cmocka_unit_test(test_series),
        cmocka_unit_test(test_mutations),
        cmocka_unit_test(test_read_file_errors),
    };
    return cmocka_run_group_tests(tests, setup_small, teardown_small);
}
