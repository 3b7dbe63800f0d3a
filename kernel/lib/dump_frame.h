/* Dump frame writer, shared by the kernel (which writes the real dump) and
 * the host's synthetic-dump generator (which writes test dumps). */
#ifndef KM_LIB_DUMP_FRAME_H
#define KM_LIB_DUMP_FRAME_H

#include <abi/dump.h>

/* Byte sink: writes len bytes to the channel. */
typedef void (*dump_sink_fn)(void *ctx, const void *buf, unsigned long len);

struct dump_writer {
    dump_sink_fn sink;
    void *ctx;
    km_u32 seq; /* next frame number */
};

void dump_writer_init(struct dump_writer *w, dump_sink_fn sink, void *ctx);

/* Writes one frame whose payload is part1 followed by part2 (either may be
 * empty).  len1 + len2 must not exceed KM_DUMP_MAX_PAYLOAD (returns -1 and
 * writes nothing if it does; 0 on success). */
int dump_write_frame(struct dump_writer *w, km_u16 type, const void *part1,
                     km_u32 len1, const void *part2, km_u32 len2);

#endif
