/* Dump reader: parse and verify a whole trace dump held in memory.
 *
 * The format is in kernel/abi/include/abi/dump.h.  dump_decode() checks every
 * frame before it believes anything in it (magic, header CRC, version,
 * length, payload CRC, sequence, frame order, payload sizes, per-CPU
 * sequence numbers and totals) and either returns a complete decoded dump or
 * one error naming the problem, the frame number and its byte offset.  A
 * dump that is accepted is complete: it ends with an END frame whose totals
 * match what came before.
 */
#ifndef KM_TRACE_DUMP_READ_H
#define KM_TRACE_DUMP_READ_H

#include <stddef.h>
#include <abi/dump.h>
#include <abi/trace.h>

/* Why a dump was rejected (one code per class of bad input). */
enum dump_err {
    DUMP_OK = 0,
    DUMP_E_EMPTY,        /* zero bytes */
    DUMP_E_BAD_MAGIC,    /* a frame does not start with KM_DUMP_MAGIC */
    DUMP_E_HEADER_CRC,   /* frame header bytes 0..19 do not match header_crc */
    DUMP_E_VERSION,      /* version != KM_DUMP_VERSION */
    DUMP_E_TOO_LONG,     /* len > KM_DUMP_MAX_PAYLOAD */
    DUMP_E_TRUNCATED,    /* the file ends inside a frame header or payload */
    DUMP_E_PAYLOAD_CRC,  /* payload bytes do not match payload_crc */
    DUMP_E_SEQ,          /* seq is not the frame's position */
    DUMP_E_ORDER,        /* frame type out of order or unknown */
    DUMP_E_SIZE,         /* payload size wrong for the frame type */
    DUMP_E_BAD_FIELD,    /* a payload field is out of range */
    DUMP_E_COUNTS,       /* counts disagree (CPU, EVENTS, END totals) */
    DUMP_E_NO_END,       /* file ends at a frame boundary before END */
    DUMP_E_AFTER_END,    /* bytes after the END frame */
    DUMP_E_NOMEM,        /* out of memory */
    DUMP_E_IO,           /* file could not be read (dump_read_file only) */
    DUMP_E_LOG,          /* a serial log's dump lines are wrong (lost line,
                            bad base64, byte count or CRC, no or two dumps) */
};

/* Where and why decoding stopped.  frame is the frame number (-1 when the
 * problem is not in a frame, e.g. an empty file); offset is the byte offset
 * of that frame's header in the file (for DUMP_E_NO_END and DUMP_E_AFTER_END:
 * the offset just past the last frame).  msg is one line, no newline, and
 * already names the frame and offset. */
struct dump_error {
    enum dump_err code;
    long frame;
    unsigned long long offset;
    char msg[320];
};

/* One CPU's trace: its CPU frame and its records, in sequence order
 * (recs[i] has sequence number info.first_seq + i). */
struct dump_cpu_trace {
    struct km_dump_cpu info;
    struct km_trace_rec *recs; /* info.count records (NULL when 0) */
};

/* One benchmark series assembled from its SAMPLES chunks. Names are
 * NUL-terminated copies of the (possibly unterminated) payload fields. */
struct dump_series {
    char benchmark[33];
    char variant[25];
    char metric[25];
    char unit[17];
    long long overhead;
    unsigned cpu;
    unsigned long long n;  /* samples (= total) */
    long long *samples;    /* n samples in index order (NULL when 0) */
};

/* A verified dump.  The RUN strings are also copied into cpu_vendor,
 * cpu_brand, kmem_mode, kernel_rev and cmdline with a terminating NUL, so
 * callers never bound them again. */
struct dump {
    struct km_dump_run run;
    char cpu_vendor[17], cpu_brand[49], kmem_mode[17], kernel_rev[49];
    char cmdline[257];
    unsigned ncpus;
    struct dump_cpu_trace cpu[KM_DUMP_MAX_CPUS];
    size_t nseries;
    struct dump_series *series;
    unsigned long long events;  /* END.events */
    unsigned long long lost;    /* END.lost */
    unsigned long long samples; /* END.samples */
    unsigned frames;            /* frames including END */
    unsigned long long bytes;   /* size of the dump */
    /* Read from a serial log (dump=com1): the log lines of its KMDUMP-BEGIN
     * and KMDUMP-END; 0 for a binary dump. */
    unsigned long log_begin, log_end;
};

/* Decodes and verifies len bytes at buf.  On success fills *d (which the
 * caller releases with dump_free) and returns 0.  On any problem returns -1,
 * leaves *d empty (nothing to free, though dump_free is harmless) and fills
 * *err.  Never reads outside buf[0..len). */
int dump_decode(const void *buf, size_t len, struct dump *d, struct dump_error *err);

/* Decodes the dump held as text lines in a serial log (kernel option
 * dump=com1; format at the end of abi/dump.h): console text around and
 * between the lines is skipped, '\r' and text before a marker ignored.
 * The log must hold exactly one complete dump.  A lost, repeated or
 * corrupt line, a wrong byte count or CRC gives DUMP_E_LOG, a log that
 * ends inside the dump DUMP_E_TRUNCATED, each naming the log line; then
 * the bytes are checked as dump_decode does (its messages say that byte
 * offsets are in the decoded dump).  Returns 0 or -1 like dump_decode. */
int dump_decode_log(const void *buf, size_t len, struct dump *d, struct dump_error *err);

/* 1 if buf looks like a serial log with a text dump rather than a binary
 * dump (it does not start with the frame magic and has a dump marker). */
int dump_is_log(const void *buf, size_t len);

/* Reads the file at path into memory and decodes it with dump_decode, or
 * dump_decode_log when it is a serial log (dump_is_log).  An unreadable
 * file gives DUMP_E_IO with errno's text in err->msg. */
int dump_read_file(const char *path, struct dump *d, struct dump_error *err);

/* Releases what dump_decode allocated and empties *d.  Safe on an empty or
 * already-freed dump. */
void dump_free(struct dump *d);

/* Short constant name of an error code ("payload CRC mismatch", ...). */
const char *dump_err_name(enum dump_err code);

#endif
