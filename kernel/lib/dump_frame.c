/* Dump frame writer: header + payload, each with its CRC-32. */
#include "dump_frame.h"
#include "crc32.h"

void dump_writer_init(struct dump_writer *w, dump_sink_fn sink, void *ctx)
{
    w->sink = sink;
    w->ctx = ctx;
    w->seq = 0;
}

int dump_write_frame(struct dump_writer *w, km_u16 type, const void *part1,
                     km_u32 len1, const void *part2, km_u32 len2)
{
    struct km_frame_hdr h;
    if (len1 > KM_DUMP_MAX_PAYLOAD || len2 > KM_DUMP_MAX_PAYLOAD - len1)
        return -1;
    h.magic = KM_DUMP_MAGIC;
    h.version = KM_DUMP_VERSION;
    h.type = type;
    h.seq = w->seq++;
    h.len = len1 + len2;
    h.payload_crc = crc32_update(crc32_update(0, part1, len1), part2, len2);
    h.header_crc = crc32_update(0, &h, __builtin_offsetof(struct km_frame_hdr, header_crc));
    w->sink(w->ctx, &h, sizeof h);
    if (len1)
        w->sink(w->ctx, part1, len1);
    if (len2)
        w->sink(w->ctx, part2, len2);
    return 0;
}
