/* Helpers shared by the host tests: in-memory dumps, frame surgery, temp
 * files. */
#ifndef KM_TESTS_HOST_TESTUTIL_H
#define KM_TESTS_HOST_TESTUTIL_H

#include <stddef.h>

#include <abi/dump.h>
#include "synth.h"

/* A growable byte buffer that is also a dump_sink_fn target. */
struct membuf {
    unsigned char *p;
    size_t len, cap;
};
void membuf_sink(void *ctx, const void *buf, unsigned long len);
void membuf_free(struct membuf *b);

/* A synthetic dump in memory. */
void synth_mem(struct membuf *b, const struct synth_opts *o);

/* Where each frame of a well-formed dump starts; returns the frame count. */
struct frame_pos {
    size_t off;    /* header offset */
    unsigned type; /* enum km_frame_type */
    unsigned len;  /* payload bytes */
};
size_t frames_of(const unsigned char *p, size_t len, struct frame_pos *out, size_t max);

/* Recomputes the header CRC / payload CRC of the frame at off (after a
 * test changed a field on purpose, so the change reaches the checks after
 * the CRC). */
void fix_header_crc(unsigned char *p, size_t off);
void fix_payload_crc(unsigned char *p, size_t off);

/* Walks the frames of buf as far as their len fields allow and recomputes
 * every CRC, so a mutated dump reaches the checks behind the CRCs (used
 * by the mutation tests and the fuzzer). */
void repair_crcs(unsigned char *p, size_t len);

/* A dump as an editable list of frames, written with the kernel's frame
 * writer (so CRCs and seq are right whatever a test changes). */
struct tframe {
    unsigned char payload[KM_DUMP_MAX_PAYLOAD + 64]; /* first: malloc-aligned */
    unsigned type;
    unsigned len;
};
struct tdump {
    int n;
    struct tframe *f[32];
};
/* Builds a small complete dump: RUN (2 CPUs), CPU 0, CPU 1, EVENTS cpu 0
 * (3 records), EVENTS cpu 1 (3 records), SAMPLES (5 samples), END. */
void tdump_mini(struct tdump *t);
/* Index of the first frame of type, or -1. */
int tdump_find(const struct tdump *t, unsigned type, int nth);
/* Inserts a copy of frame src before position at. */
void tdump_insert_copy(struct tdump *t, int at, int src);
void tdump_remove(struct tdump *t, int at);
/* Rewrites END so its totals match the other frames (after an edit that
 * should be caught elsewhere). */
void tdump_fix_end(struct tdump *t);
void tdump_write(const struct tdump *t, struct membuf *b);
void tdump_free(struct tdump *t);

/* Temporary directory (mkdtemp); remove_tree deletes it and its files. */
char *make_tempdir(void);
void remove_tree(const char *dir);
int write_file(const char *path, const void *p, size_t n);
/* Reads a whole file (malloc'd, *n bytes); NULL if it does not exist. */
unsigned char *read_whole(const char *path, size_t *n);
/* FNV-1a 64 of a file's bytes, mixed with its size; 0 if it is missing. */
unsigned long long file_hash(const char *path);

#endif
