/* CTF 1.8 writer: turns a verified dump into a trace directory that
 * babeltrace2 and Trace Compass read.
 *
 * Layout of the directory:
 *   metadata     TSDL text (see ctf_write_metadata)
 *   stream_<N>   one binary data stream per CPU N, split into packets
 *
 * Time: one clock, "tsc", with freq = RUN.tsc_hz and offset 0, counting BSP
 * TSC ticks.  Each record's timestamp is its CPU's TSC converted to BSP time,
 *   timestamp = rec.tsc - cpu.tsc_offset   (dump.h: BSP time = tsc - tsc_offset)
 * so events of all CPUs sort on one time axis.  Under QEMU icount a tick is
 * a guest instruction and "seconds" are tsc_hz ticks.
 *
 * Lost records: each packet's events_discarded is the per-CPU count of
 * records lost before the end of that packet.  Overwrite mode loses the
 * oldest records: the writer puts an empty packet at boot time (count 0)
 * before the first real packet (count first_seq).  Stop mode loses the
 * newest: a final empty packet at the last record's time carries them.
 * babeltrace2 then reports the loss ("Tracer discarded N events between
 * ...") instead of hiding it; a dump without loss reads without warnings.
 */
#ifndef KM_TRACE_CTF_WRITE_H
#define KM_TRACE_CTF_WRITE_H

#include <stdio.h>
#include "dump_read.h"

/* CTF packet header magic. */
#define CTF_MAGIC 0xC1FC1FC1u

/* Records per packet (a packet is then about 60 KiB). */
#define CTF_PACKET_EVENTS 2048

/* Writes the TSDL metadata for d to f: integer aliases, the trace block
 * (packet header: magic, uuid, stream_id), env (run facts), the tsc clock,
 * one stream class (packet context: timestamp_begin, timestamp_end,
 * content_size, packet_size, events_discarded, cpu_id; event header: id,
 * 64-bit timestamp) and one event class per entry of KM_TRACE_EVENTS with
 * fields thread, <a0 name>, <a1 name>.  uuid is the trace UUID (16 bytes).
 * Returns 0, or -1 if writing to f failed. */
int ctf_write_metadata(const struct dump *d, const unsigned char uuid[16], FILE *f);

/* Derives the trace UUID from the dump's contents (same dump, same UUID, so
 * converting twice gives identical directories). */
void ctf_trace_uuid(const struct dump *d, unsigned char uuid[16]);

/* Writes the trace directory dir (created if missing; existing metadata and
 * stream_* files are replaced).  Returns 0, or -1 with a one-line reason in
 * err: a file could not be written, or a CPU's timestamps are unusable
 * (earlier than its tsc_offset, or going backwards: CTF requires time to
 * advance within a stream). */
int ctf_write(const struct dump *d, const char *dir, char *err, size_t errlen);

#endif
