/* Physical frame allocator: a bitmap, one bit per 4 KiB frame (1 = free),
 * protected by frame_lock (every allocator function takes it).  Beside it
 * an aux word per frame, which links a frame to another one: a leaf page
 * table to its node table (arch mmu).  4 + 1/8 bytes per 4 KiB frame. */
#ifndef KERNEL_FRAME_H
#define KERNEL_FRAME_H

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
u64 frame_aux_get(u64 phys);

#endif
