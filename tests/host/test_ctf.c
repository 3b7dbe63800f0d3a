/* CTF writer: metadata text generated from the event list, and stream
 * files whose packets hold exactly the dump's records in BSP time.
 * (babeltrace2 itself reads the output in tests/sh/ctf_babeltrace.sh.) */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "ctf_write.h"
#include "dump_read.h"
#include "events.h"
#include "testutil.h"

static void decode_synth(const struct synth_opts *o, struct dump *d)
{
    struct membuf b;
    struct dump_error err;
    synth_mem(&b, o);
    assert_int_equal(dump_decode(b.p, b.len, d, &err), 0);
    membuf_free(&b);
}

static char *metadata_of(const struct dump *d)
{
    char *text = NULL;
    size_t len = 0;
    unsigned char uuid[16];
    FILE *f = open_memstream(&text, &len);
    assert_non_null(f);
    ctf_trace_uuid(d, uuid);
    assert_int_equal(ctf_write_metadata(d, uuid, f), 0);
    fclose(f);
    return text;
}

static void test_metadata(void **state)
{
    (void)state;
    struct synth_opts o;
    struct dump d;
    char want[256];
    synth_defaults(&o);
    decode_synth(&o, &d);
    char *m = metadata_of(&d);

    assert_memory_equal(m, "/* CTF 1.8 */", 13); /* the signature readers look for */
    assert_non_null(strstr(m, "major = 1;"));
    assert_non_null(strstr(m, "minor = 8;"));
    assert_non_null(strstr(m, "byte_order = le;"));
    assert_non_null(strstr(m, "uint32_t magic;"));
    assert_non_null(strstr(m, "uint8_t uuid[16];"));
    assert_non_null(strstr(m, "uint32_t stream_id;"));
    snprintf(want, sizeof want, "freq = %llu;", (unsigned long long)d.run.tsc_hz);
    assert_non_null(strstr(m, want));
    assert_non_null(strstr(m, "map = clock.tsc.value;"));
    /* signed and hex arguments get their own integer types */
    assert_non_null(strstr(m, "signed = true; } := arg_s64;"));
    assert_non_null(strstr(m, "base = 16; } := arg_x64;"));
    static const char *const ctx[] = { "tsc_t timestamp_begin;", "tsc_t timestamp_end;",
                                       "uint64_t content_size;", "uint64_t packet_size;",
                                       "uint64_t events_discarded;", "uint32_t cpu_id;",
                                       "uint16_t id;", "tsc_t timestamp;" };
    for (size_t i = 0; i < sizeof ctx / sizeof ctx[0]; i++)
        assert_non_null(strstr(m, ctx[i]));
    /* one event class per X-macro entry, with its argument names */
    for (unsigned i = 0; i < km_nevents; i++) {
        const struct km_event_info *e = &km_events[i];
        static const char *const type[] = { [KM_ARG_U] = "uint64_t", [KM_ARG_S] = "arg_s64",
                                             [KM_ARG_X] = "arg_x64" };
        snprintf(want, sizeof want,
                 "event {\n    name = \"%s\";\n    id = %u;\n    stream_id = 0;\n"
                 "    fields := struct {\n        uint32_t thread;\n        %s %s;\n"
                 "        %s %s;\n",
                 e->name, e->id, type[e->a0_type], e->a0, type[e->a1_type], e->a1);
        if (!strstr(m, want))
            fail_msg("no event class for %s", e->name);
    }
    int depth = 0, events = 0;
    for (const char *p = m; *p; p++) {
        depth += (*p == '{') - (*p == '}');
        assert_true(depth >= 0);
    }
    for (const char *p = m; (p = strstr(p, "event {")) != NULL; p++)
        events++;
    assert_int_equal(depth, 0);
    assert_int_equal(events, km_nevents);
    free(m);
    dump_free(&d);
}

static void test_metadata_escapes(void **state)
{
    (void)state;
    struct synth_opts o;
    struct dump d;
    synth_defaults(&o);
    decode_synth(&o, &d);
    strcpy(d.cmdline, "say=\"hi\" path=C:\\x\x01");
    char *m = metadata_of(&d);
    assert_non_null(strstr(m, "cmdline = \"say=\\\"hi\\\" path=C:\\\\x\";"));
    free(m);
    dump_free(&d);
}

static void test_uuid_stable(void **state)
{
    (void)state;
    struct synth_opts o;
    struct dump a, b;
    unsigned char ua[16], ub[16];
    synth_defaults(&o);
    decode_synth(&o, &a);
    decode_synth(&o, &b);
    ctf_trace_uuid(&a, ua);
    ctf_trace_uuid(&b, ub);
    assert_memory_equal(ua, ub, 16);
    assert_int_equal(ua[6] >> 4, 4);
    assert_int_equal(ua[8] >> 6, 2);
    b.run.boot_tsc++;
    ctf_trace_uuid(&b, ub);
    assert_memory_not_equal(ua, ub, 16);
    dump_free(&a);
    dump_free(&b);
}

static unsigned long long get(const unsigned char *p, int n)
{
    unsigned long long v = 0;
    memcpy(&v, p, (size_t)n);
    return v;
}

/* Walks stream_<cpu>: checks packet framing and that its events are the
 * CPU's records in order with BSP timestamps.  Returns the events seen and
 * the last packet's events_discarded. */
static unsigned long long check_stream(const char *dir, const struct dump *d, unsigned cpu,
                                       unsigned long long *discarded)
{
    char path[4096];
    size_t n;
    unsigned char uuid[16];
    snprintf(path, sizeof path, "%s/stream_%u", dir, cpu);
    unsigned char *p = read_whole(path, &n);
    assert_non_null(p);
    ctf_trace_uuid(d, uuid);
    const struct dump_cpu_trace *t = &d->cpu[cpu];
    unsigned long long seen = 0, prev_end = 0;
    size_t off = 0;
    while (off < n) {
        assert_true(n - off >= 68);
        assert_int_equal(get(p + off, 4), CTF_MAGIC);
        assert_memory_equal(p + off + 4, uuid, 16);
        assert_int_equal(get(p + off + 20, 4), 0);
        unsigned long long begin = get(p + off + 24, 8), end = get(p + off + 32, 8);
        unsigned long long content = get(p + off + 40, 8), size = get(p + off + 48, 8);
        *discarded = get(p + off + 56, 8);
        assert_int_equal(get(p + off + 64, 4), cpu);
        assert_int_equal(content, size);
        assert_true(size % 8 == 0 && size / 8 <= n - off);
        assert_true(begin <= end && prev_end <= begin);
        size_t events = (size / 8 - 68) / 30;
        assert_int_equal(68 + events * 30, size / 8);
        for (size_t k = 0; k < events; k++) {
            const unsigned char *e = p + off + 68 + 30 * k;
            const struct km_trace_rec *r = &t->recs[seen];
            unsigned long long ts = get(e + 2, 8);
            assert_int_equal(get(e, 2), r->event);
            assert_int_equal(ts, r->tsc - (km_u64)t->info.tsc_offset);
            assert_true(ts >= begin && ts <= end);
            assert_int_equal(get(e + 10, 4), r->thread);
            assert_int_equal(get(e + 14, 8), r->a0);
            assert_int_equal(get(e + 22, 8), r->a1);
            seen++;
        }
        prev_end = end;
        off += size / 8;
    }
    free(p);
    return seen;
}

static void write_and_check(const struct synth_opts *o)
{
    struct dump d;
    char err[256];
    char *dir = make_tempdir();
    decode_synth(o, &d);
    assert_int_equal(ctf_write(&d, dir, err, sizeof err), 0);
    for (unsigned c = 0; c < d.ncpus; c++) {
        unsigned long long discarded = ~0ull;
        assert_int_equal(check_stream(dir, &d, c, &discarded), d.cpu[c].info.count);
        assert_int_equal(discarded, d.cpu[c].info.lost); /* the final snapshot: all lost */
    }
    char path[4096];
    snprintf(path, sizeof path, "%s/stream_%u", dir, d.ncpus);
    assert_int_equal(file_hash(path), 0); /* no stream beyond the CPUs */
    dump_free(&d);
    remove_tree(dir);
    free(dir);
}

static void test_streams(void **state)
{
    (void)state;
    struct synth_opts o;
    synth_defaults(&o);
    o.ncpus = 3;
    o.events = 3 * 5000 + 1; /* several packets per CPU, a partial last one */
    write_and_check(&o);
    o.lost = 17; /* stop mode: a trailing empty packet carries the loss */
    write_and_check(&o);
    o.overwrite = 1; /* overwrite mode: a leading empty packet at boot */
    write_and_check(&o);
}

static void test_time_backwards(void **state)
{
    (void)state;
    struct synth_opts o;
    struct dump d;
    char err[256];
    char *dir = make_tempdir();
    synth_defaults(&o);
    decode_synth(&o, &d);
    d.cpu[1].recs[10].tsc = d.cpu[1].recs[9].tsc - 1;
    assert_int_equal(ctf_write(&d, dir, err, sizeof err), -1);
    assert_non_null(strstr(err, "cpu 1 seq 10: time goes backwards"));
    dump_free(&d);
    remove_tree(dir);
    free(dir);
}

static void test_unwritable_dir(void **state)
{
    (void)state;
    struct synth_opts o;
    struct dump d;
    char err[256];
    synth_defaults(&o);
    decode_synth(&o, &d);
    assert_int_equal(ctf_write(&d, "/nonexistent/dir/ctf", err, sizeof err), -1);
    assert_non_null(strstr(err, "cannot create /nonexistent/dir/ctf"));
    dump_free(&d);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_metadata),
        cmocka_unit_test(test_metadata_escapes),
        cmocka_unit_test(test_uuid_stable),
        cmocka_unit_test(test_streams),
        cmocka_unit_test(test_time_backwards),
        cmocka_unit_test(test_unwritable_dir),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
