/* Helpers shared by the host tests. */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <abi/trace.h>
#include "crc32.h"
#include "dump_frame.h"
#include "testutil.h"

void membuf_sink(void *ctx, const void *buf, unsigned long len)
{
    struct membuf *b = ctx;
    if (b->len + len > b->cap) {
        b->cap = (b->len + len) * 2 + 4096;
        b->p = realloc(b->p, b->cap);
        if (!b->p)
            abort();
    }
    memcpy(b->p + b->len, buf, len);
    b->len += len;
}

void membuf_free(struct membuf *b)
{
    free(b->p);
    memset(b, 0, sizeof *b);
}

void synth_mem(struct membuf *b, const struct synth_opts *o)
{
    memset(b, 0, sizeof *b);
    if (synth_write(o, membuf_sink, b) != 0)
        abort();
}

size_t frames_of(const unsigned char *p, size_t len, struct frame_pos *out, size_t max)
{
    size_t n = 0, off = 0;
    while (off + sizeof(struct km_frame_hdr) <= len && n < max) {
        struct km_frame_hdr h;
        memcpy(&h, p + off, sizeof h);
        out[n].off = off;
        out[n].type = h.type;
        out[n].len = h.len;
        n++;
        off += sizeof h + h.len;
    }
    return n;
}

void fix_header_crc(unsigned char *p, size_t off)
{
    km_u32 crc = crc32_update(0, p + off, __builtin_offsetof(struct km_frame_hdr, header_crc));
    memcpy(p + off + __builtin_offsetof(struct km_frame_hdr, header_crc), &crc, 4);
}

void fix_payload_crc(unsigned char *p, size_t off)
{
    struct km_frame_hdr h;
    memcpy(&h, p + off, sizeof h);
    h.payload_crc = crc32_update(0, p + off + sizeof h, h.len);
    memcpy(p + off, &h, sizeof h);
    fix_header_crc(p, off);
}

void repair_crcs(unsigned char *p, size_t len)
{
    size_t off = 0;
    while (len - off >= sizeof(struct km_frame_hdr)) {
        struct km_frame_hdr h;
        memcpy(&h, p + off, sizeof h);
        if (h.len > len - off - sizeof h)
            break;
        fix_payload_crc(p, off);
        off += sizeof h + h.len;
    }
}

static struct tframe *tframe_new(unsigned type, const void *payload, unsigned len)
{
    struct tframe *f = malloc(sizeof *f);
    if (!f)
        abort();
    memset(f, 0, sizeof *f);
    f->type = type;
    f->len = len;
    memcpy(f->payload, payload, len);
    return f;
}

void tdump_mini(struct tdump *t)
{
    struct km_dump_run run;
    memset(t, 0, sizeof *t);
    memset(&run, 0, sizeof run);
    run.tsc_hz = 1000000000;
    run.ncpus = 2;
    run.rec_size = sizeof(struct km_trace_rec);
    run.trace_mask = ~0ull;
    run.ring_records = 16;
    run.boot_tsc = 1000;
    run.flags = KM_RUN_F_TRACE_COMPILED;
    memcpy(run.cpu_vendor, "AuthenticAMD", 12);
    memcpy(run.cpu_brand, "Test CPU", 8);
    memcpy(run.kmem_mode, "kpager", 6);
    memcpy(run.kernel_rev, "test", 4);
    memcpy(run.cmdline, "trace.mode=stop", 15);
    run.timer_hz = 100;
    t->f[t->n++] = tframe_new(KM_FRAME_RUN, &run, sizeof run);
    for (unsigned c = 0; c < 2; c++) {
        struct km_dump_cpu cpu = { .cpu = c, .apic_id = c * 2, .tsc_offset = c ? 50 : 0,
                                   .written = 3, .lost = 0, .first_seq = 0, .count = 3 };
        t->f[t->n++] = tframe_new(KM_FRAME_CPU, &cpu, sizeof cpu);
    }
    for (unsigned c = 0; c < 2; c++) {
        unsigned char buf[16 + 3 * 32];
        struct km_dump_events e = { .cpu = c, .count = 3, .first_seq = 0 };
        struct km_trace_rec r[3];
        memset(r, 0, sizeof r);
        for (int i = 0; i < 3; i++) {
            r[i].tsc = 2000 + 100 * (unsigned)i + 50 * c;
            r[i].event = (km_u16)(KM_EV_MARKER + i);
            r[i].cpu = (km_u16)c;
            r[i].thread = 1;
            r[i].a0 = (unsigned)i;
            r[i].a1 = 0xffffffff80000000ull;
        }
        memcpy(buf, &e, 16);
        memcpy(buf + 16, r, sizeof r);
        t->f[t->n++] = tframe_new(KM_FRAME_EVENTS, buf, sizeof buf);
    }
    {
        unsigned char buf[128 + 5 * 8];
        struct km_dump_samples s;
        long long v[5] = { 10, 20, 30, 40, 50 };
        memset(&s, 0, sizeof s);
        strcpy(s.benchmark, "bench");
        strcpy(s.variant, "default");
        strcpy(s.metric, "latency");
        strcpy(s.unit, "cycles");
        s.overhead = 5;
        s.cpu = 1;
        s.count = 5;
        s.first_index = 0;
        s.total = 5;
        memcpy(buf, &s, sizeof s);
        memcpy(buf + 128, v, sizeof v);
        t->f[t->n++] = tframe_new(KM_FRAME_SAMPLES, buf, sizeof buf);
    }
    struct km_dump_end end = { 0 };
    t->f[t->n++] = tframe_new(KM_FRAME_END, &end, sizeof end);
    tdump_fix_end(t);
}

int tdump_find(const struct tdump *t, unsigned type, int nth)
{
    for (int i = 0; i < t->n; i++)
        if (t->f[i]->type == type && nth-- == 0)
            return i;
    return -1;
}

void tdump_insert_copy(struct tdump *t, int at, int src)
{
    struct tframe *f = tframe_new(t->f[src]->type, t->f[src]->payload, t->f[src]->len);
    memmove(&t->f[at + 1], &t->f[at], (size_t)(t->n - at) * sizeof t->f[0]);
    t->f[at] = f;
    t->n++;
}

void tdump_remove(struct tdump *t, int at)
{
    free(t->f[at]);
    memmove(&t->f[at], &t->f[at + 1], (size_t)(t->n - at - 1) * sizeof t->f[0]);
    t->n--;
}

void tdump_fix_end(struct tdump *t)
{
    struct km_dump_end end = { 0 };
    int e = tdump_find(t, KM_FRAME_END, 0);
    for (int i = 0; i < t->n; i++) {
        const struct tframe *f = t->f[i];
        if (f->type == KM_FRAME_EVENTS)
            end.events += ((const struct km_dump_events *)f->payload)->count;
        else if (f->type == KM_FRAME_CPU)
            end.lost += ((const struct km_dump_cpu *)f->payload)->lost;
        else if (f->type == KM_FRAME_SAMPLES)
            end.samples += ((const struct km_dump_samples *)f->payload)->count;
        else if (f->type == KM_FRAME_RUN)
            end.ncpus = ((const struct km_dump_run *)f->payload)->ncpus;
    }
    end.frames = (km_u32)e;
    if (e >= 0)
        memcpy(t->f[e]->payload, &end, sizeof end);
}

void tdump_write(const struct tdump *t, struct membuf *b)
{
    struct dump_writer w;
    memset(b, 0, sizeof *b);
    dump_writer_init(&w, membuf_sink, b);
    for (int i = 0; i < t->n; i++)
        if (dump_write_frame(&w, (km_u16)t->f[i]->type, t->f[i]->payload, t->f[i]->len, NULL, 0))
            abort();
}

void tdump_free(struct tdump *t)
{
    for (int i = 0; i < t->n; i++)
        free(t->f[i]);
    t->n = 0;
}

char *make_tempdir(void)
{
    const char *base = getenv("TMPDIR");
    char tmpl[4096];
    snprintf(tmpl, sizeof tmpl, "%s/kmemlab-test-XXXXXX", base && *base ? base : "/tmp");
    char *d = mkdtemp(tmpl);
    return d ? strdup(d) : NULL;
}

void remove_tree(const char *dir)
{
    DIR *d = opendir(dir);
    struct dirent *e;
    char path[8192];
    if (!d)
        return;
    while ((e = readdir(d)) != NULL) {
        if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
            continue;
        snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
        if (unlink(path) != 0)
            remove_tree(path);
    }
    closedir(d);
    rmdir(dir);
}

int write_file(const char *path, const void *p, size_t n)
{
    FILE *f = fopen(path, "wb");
    if (!f)
        return -1;
    size_t w = fwrite(p, 1, n, f);
    return (fclose(f) == 0 && w == n) ? 0 : -1;
}

unsigned char *read_whole(const char *path, size_t *n)
{
    FILE *f = fopen(path, "rb");
    unsigned char *p = NULL;
    size_t cap = 0, len = 0, r;
    if (!f)
        return NULL;
    do {
        if (len == cap) {
            cap = cap ? cap * 2 : 65536;
            p = realloc(p, cap);
            if (!p)
                abort();
        }
        r = fread(p + len, 1, cap - len, f);
        len += r;
    } while (r > 0);
    fclose(f);
    *n = len;
    return p;
}

unsigned long long file_hash(const char *path)
{
    size_t n;
    unsigned char *p = read_whole(path, &n);
    unsigned long long h = 0xcbf29ce484222325ull;
    if (!p)
        return 0;
    for (size_t i = 0; i < n; i++)
        h = (h ^ p[i]) * 0x100000001b3ull;
    free(p);
    return h ^ (n * 0x9e3779b97f4a7c15ull);
}
