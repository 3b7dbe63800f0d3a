/* Physical frame allocator: a bitmap, one bit per 4 KiB frame (1 = free),
 * protected by frame_lock (every allocator function takes it).  Beside it
 * an aux word per frame, which links a frame to another one: a leaf page
 * table to its node table (arch mmu); and a loan record (kmem.c).  20 + 1/8
 * bytes per 4 KiB frame. */
#ifndef KERNEL_FRAME_H
#define KERNEL_FRAME_H

#include <kernel/config.h>
#include <kernel/types.h>

/* Bytes of allocator state (bitmap and aux words) for frames below max_phys. */
u64 frame_bitmap_bytes(u64 max_phys);
/* Starts with every frame below max_phys reserved and every aux word 0;
 * bitmap must hold frame_bitmap_bytes(max_phys) bytes, 8-aligned. */
void frame_init(u64 max_phys, void *bitmap);
/* Marks whole frames inside [base, base+len) free. */
void frame_add_free(u64 base, u64 len);
/* Marks every frame touching [base, base+len) reserved. */
void frame_reserve(u64 base, u64 len);
/* Returns a free frame's physical address, or 0 when none is left
 * (frame 0 is never handed out). */
u64 frame_alloc(void);
/* Returns n physically contiguous frames, or 0. */
u64 frame_alloc_contig(u64 n);
/* Returns a frame from frame_alloc; freeing a free frame panics. */
void frame_free(u64 phys);
void frame_free_contig(u64 phys, u64 n);
u64 frame_free_count(void);
u64 frame_total_count(void);

/* The aux word of frame phys: the address of another frame (below 16 TiB),
 * or 0.  Not locked: the word belongs to whoever holds the frame, who
 * clears it before freeing the frame.  A bad frame address panics. */
void frame_aux_set(u64 phys, u64 aux_phys);
/* Inline: every page-table walk reads its leaf table's word (frame.c sets
 * these two once, at frame_init). */
extern u32 *frame_aux_words;
extern u64 frame_aux_frames;
void frame_bad(u64 phys, const char *who) __attribute__((noreturn, cold));
static inline u64 frame_aux_get(u64 phys)
{
    u64 f = phys >> PAGE_SHIFT;
    if (__builtin_expect(f == 0 || f >= frame_aux_frames || (phys & (PAGE_SIZE - 1)), 0))
        frame_bad(phys, "frame_aux_get");
    return (u64)frame_aux_words[f] << PAGE_SHIFT;
}

/* A frame a kpager lent to the kernel: who lent it (the lender's page and
 * task) and what the kernel keeps in it (the owner task's kspace address
 * and type).  All zero when the frame is not lent.  Protected by the
 * kernel lock (only kmem.c and the mapping database, mapdb*.c, use it).
 * OFFSET SIZE FIELD   MEANING
 *      0    8 lender  lender's user page address | lender task number (< 4096)
 *      8    8 kobj    kspace address | owner task number (< 4096), 0 = spare */
struct frame_lend {
    u64 lender;
    u64 kobj;
};
/* Inline, as frame_aux_get (frame.c sets this at frame_init). */
extern struct frame_lend *frame_lend_records;
static inline struct frame_lend *frame_lend(u64 phys)
{
    u64 f = phys >> PAGE_SHIFT;
    if (__builtin_expect(f == 0 || f >= frame_aux_frames || (phys & (PAGE_SIZE - 1)), 0))
        frame_bad(phys, "frame_lend");
    return &frame_lend_records[f];
}

#endif
