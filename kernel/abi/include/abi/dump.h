/* Trace dump format: what the kernel sends over the dump channel at the end
 * of a run (QEMU debugcon, or a serial port on bare metal) and what the host
 * decoder (trace/) verifies.  All integers little endian.
 *
 * A dump is a sequence of frames.  Each frame is a 24-byte header and a
 * payload.  Both carry a CRC-32 (IEEE 802.3, reflected, poly 0xEDB88320,
 * init and final xor 0xFFFFFFFF: the zlib crc32()), so a reader can tell a
 * complete dump from a truncated or corrupted one and name the byte offset
 * of the first bad frame.  The magic lets a reader find frames in a byte
 * stream that also carries text (a serial log).
 *
 * Frame header, 24 bytes:
 * OFFSET SIZE FIELD       MEANING
 *      0    4 magic       KM_DUMP_MAGIC ("KMTF" in file order)
 *      4    2 version     KM_DUMP_VERSION
 *      6    2 type        enum km_frame_type
 *      8    4 seq         frame number, 0 for the first frame, +1 each
 *     12    4 len         payload bytes that follow (<= KM_DUMP_MAX_PAYLOAD)
 *     16    4 payload_crc CRC-32 of the payload
 *     20    4 header_crc  CRC-32 of header bytes 0..19
 *
 * Order of frames in a complete dump:
 *   RUN (exactly one, seq 0), CPU x ncpus (cpu 0..ncpus-1 in order),
 *   EVENTS* (any number, each for one CPU, records in seq order per CPU),
 *   SAMPLES* (any number), END (exactly one, last).
 */
#ifndef ABI_DUMP_H
#define ABI_DUMP_H

#include <abi/types.h>

#define KM_DUMP_MAGIC 0x46544d4bu /* bytes 'K' 'M' 'T' 'F' */
#define KM_DUMP_VERSION 1
#define KM_DUMP_MAX_PAYLOAD 65536u
#define KM_DUMP_MAX_CPUS 64
#define KM_DUMP_EVENTS_PER_FRAME 1024 /* 32 KiB of records per EVENTS frame */
#define KM_DUMP_SAMPLES_PER_FRAME 4096

enum km_frame_type {
    KM_FRAME_RUN = 1,
    KM_FRAME_CPU = 2,
    KM_FRAME_EVENTS = 3,
    KM_FRAME_SAMPLES = 4,
    KM_FRAME_END = 5,
};

struct km_frame_hdr {
    km_u32 magic;
    km_u16 version;
    km_u16 type;
    km_u32 seq;
    km_u32 len;
    km_u32 payload_crc;
    km_u32 header_crc;
};
KM_STATIC_ASSERT(sizeof(struct km_frame_hdr) == 24, "frame header is 24 bytes");

/* RUN payload, 512 bytes: what the kernel knows about the run.  Strings are
 * NUL-padded; a string that fills its field has no NUL (readers must bound).
 * OFFSET SIZE FIELD          MEANING
 *      0    8 tsc_hz         TSC ticks per second, calibrated against the PIT
 *      8    4 ncpus          CPUs that came up (= number of CPU frames)
 *     12    4 rec_size       sizeof(struct km_trace_rec) (32)
 *     16    8 trace_mask     runtime enable mask at the end of the run
 *     24    4 trace_mode     enum km_trace_mode
 *     28    4 ring_records   capacity of each per-CPU ring, in records
 *     32    8 boot_tsc       BSP TSC at kernel entry
 *     40    4 cpuid_sig      CPUID.1:EAX (family/model/stepping)
 *     44    4 flags          KM_RUN_F_*
 *     48   16 cpu_vendor     CPUID.0 vendor string (12 chars)
 *     64   48 cpu_brand      CPUID.80000002-4 brand string
 *    112   16 kmem_mode      "pool" or "kpager"
 *    128   48 kernel_rev     git revision the kernel was built from
 *    176  256 cmdline        kernel command line as given by the loader
 *    432    4 timer_hz       LAPIC timer frequency (interrupts per second)
 *    436    4 exit_status    0 when every program exited 0
 *    440    1 pmu_version    CPUID.0xA:EAX[7:0] on the BSP: architectural PMU
 *                            version, 0 = no PMU (QEMU TCG, AMD)
 *    441    1 pmu_counters   general-purpose counters per CPU (CPUID.0xA)
 *    442    1 pmu_width      their width in bits
 *    443    1 pmu_requested  encodings given with pmu= (0..4)
 *    444    1 pmu_programmed counters the kernel programmed on every CPU:
 *                            pmu_requested, or 0 (no PMU, too few counters)
 *    445    3 pmu_pad        zero
 *    448   32 pmu_evtsel     the pmu= encodings, in counter order (u64 each;
 *                            the kernel sets EN and clears INT when it
 *                            programs them)
 *    480   32 reserved       zero
 * Dumps from kernels before the pmu fields have zeros there: read as no
 * PMU information (KM_RUN_F_PMU alone says whether CPUID showed one).
 */
#define KM_RUN_F_HYPERVISOR 0x1u /* CPUID.1:ECX[31] */
#define KM_RUN_F_PMU 0x2u        /* CPUID.0xA reports counters */
#define KM_RUN_F_INVARIANT_TSC 0x4u
#define KM_RUN_F_TRACE_COMPILED 0x8u /* trace points compiled in */

struct km_dump_run {
    km_u64 tsc_hz;
    km_u32 ncpus;
    km_u32 rec_size;
    km_u64 trace_mask;
    km_u32 trace_mode;
    km_u32 ring_records;
    km_u64 boot_tsc;
    km_u32 cpuid_sig;
    km_u32 flags;
    char cpu_vendor[16];
    char cpu_brand[48];
    char kmem_mode[16];
    char kernel_rev[48];
    char cmdline[256];
    km_u32 timer_hz;
    km_i32 exit_status;
    km_u8 pmu_version;
    km_u8 pmu_counters;
    km_u8 pmu_width;
    km_u8 pmu_requested;
    km_u8 pmu_programmed;
    km_u8 pmu_pad[3];
    km_u64 pmu_evtsel[4];
    km_u8 reserved[32];
};
KM_STATIC_ASSERT(sizeof(struct km_dump_run) == 512, "RUN payload is 512 bytes");
KM_STATIC_ASSERT(__builtin_offsetof(struct km_dump_run, cmdline) == 176, "cmdline at 176");
KM_STATIC_ASSERT(__builtin_offsetof(struct km_dump_run, pmu_evtsel) == 448, "pmu_evtsel at 448");

/* CPU payload, 48 bytes: one per CPU, in CPU order.
 * OFFSET SIZE FIELD       MEANING
 *      0    4 cpu         logical CPU number
 *      4    4 apic_id     local APIC id
 *      8    8 tsc_offset  this CPU's TSC minus the BSP's (signed), measured
 *                         at boot; BSP time = tsc - tsc_offset
 *     16    8 written     records this CPU tried to write since boot
 *     24    8 lost        records lost (stop mode: dropped when full;
 *                         overwrite mode: overwritten before the dump)
 *     32    8 first_seq   sequence number of the first record dumped
 *                         (records are numbered 0.. per CPU as written)
 *     40    8 count       records in this CPU's EVENTS frames
 * Invariant: count + lost == written.
 */
struct km_dump_cpu {
    km_u32 cpu;
    km_u32 apic_id;
    km_i64 tsc_offset;
    km_u64 written;
    km_u64 lost;
    km_u64 first_seq;
    km_u64 count;
};
KM_STATIC_ASSERT(sizeof(struct km_dump_cpu) == 48, "CPU payload is 48 bytes");

/* EVENTS payload: 16-byte header, then count records of 32 bytes.
 * OFFSET SIZE FIELD      MEANING
 *      0    4 cpu        CPU whose ring these records come from
 *      4    4 count      records in this frame (1..KM_DUMP_EVENTS_PER_FRAME)
 *      8    8 first_seq  sequence number of the first record in the frame
 *     16 32*n records    struct km_trace_rec[count]
 * Sequence numbers of one CPU's frames are contiguous.
 */
struct km_dump_events {
    km_u32 cpu;
    km_u32 count;
    km_u64 first_seq;
};
KM_STATIC_ASSERT(sizeof(struct km_dump_events) == 16, "EVENTS header is 16 bytes");

/* SAMPLES payload: 128-byte header, then count signed 64-bit samples.  A
 * series longer than KM_DUMP_SAMPLES_PER_FRAME spans several consecutive
 * frames with the same names; first_index says where each chunk starts.
 * Samples are raw per-iteration measurements with the empty-operation
 * overhead already subtracted (the overhead is recorded alongside).
 * OFFSET SIZE FIELD        MEANING
 *      0   32 benchmark    e.g. "null_syscall"
 *     32   24 variant      e.g. "enabled", "masked", "default"
 *     56   24 metric       e.g. "roundtrip"
 *     80   16 unit         "cycles" (TSC ticks; icount: guest instructions)
 *     96    8 overhead     empty-measurement cost subtracted from each sample
 *    104    4 cpu          CPU the samples were taken on
 *    108    4 count        samples in this frame
 *    112    8 first_index  index of the first sample of this frame in series
 *    120    8 total        samples in the whole series
 *    128  8*n samples      km_i64[count]
 */
struct km_dump_samples {
    char benchmark[32];
    char variant[24];
    char metric[24];
    char unit[16];
    km_i64 overhead;
    km_u32 cpu;
    km_u32 count;
    km_u64 first_index;
    km_u64 total;
};
KM_STATIC_ASSERT(sizeof(struct km_dump_samples) == 128, "SAMPLES header is 128 bytes");

/* END payload, 32 bytes: proves the dump is complete.
 * OFFSET SIZE FIELD        MEANING
 *      0    4 frames       number of frames before this one
 *      4    4 ncpus        same as RUN.ncpus
 *      8    8 events       total records in all EVENTS frames
 *     16    8 lost         total lost records over all CPUs
 *     24    8 samples      total samples in all SAMPLES frames
 */
struct km_dump_end {
    km_u32 frames;
    km_u32 ncpus;
    km_u64 events;
    km_u64 lost;
    km_u64 samples;
};
KM_STATIC_ASSERT(sizeof(struct km_dump_end) == 32, "END payload is 32 bytes");

/* The dump as text (kernel option dump=com1, for bare metal): the same
 * bytes, base64-encoded in lines on the console's serial port, so that they
 * survive a terminal capture and can sit between console lines:
 *
 *   KMDUMP-BEGIN v1
 *   KMD 00000000 <base64 of dump bytes 0..47>
 *   KMD 00000030 <base64 of bytes 48..95>
 *   ...                                   (the last line may carry fewer)
 *   KMDUMP-END bytes=<N> crc32=<8 hex digits>
 *
 * Each data line carries KM_DUMP_TEXT_LINE bytes (standard base64 with '='
 * padding only on the last line) after the hex offset of its first byte,
 * so a reader can name a lost or repeated line.  The END line gives the
 * total and the CRC-32 of all N bytes.  Lines end in '\n'; a reader ignores
 * '\r' and any text before a marker (timestamps a capture tool adds) and
 * every line without one.  The frames inside carry their own CRCs as in a
 * binary dump. */
#define KM_DUMP_TEXT_BEGIN "KMDUMP-BEGIN v1"
#define KM_DUMP_TEXT_DATA "KMD "
#define KM_DUMP_TEXT_END "KMDUMP-END "
#define KM_DUMP_TEXT_LINE 48

#endif
