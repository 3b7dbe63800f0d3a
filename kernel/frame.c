/* Physical frame allocator (see kernel/frame.h). */
#include <kernel/config.h>
#include <kernel/frame.h>
#include <kernel/printk.h>
#include <kernel/spinlock.h>
#include <kernel/string.h>

static struct spinlock frame_lock;
/* frame_lock protects all of these: */
static u64 *bitmap;   /* bit set = frame free */
static u64 nframes;   /* frames covered by the bitmap */
static u64 nfree;     /* set bits */
static u64 ntotal;    /* frames ever added free */
static u64 hint;      /* word index where the last search succeeded */
/* Not under frame_lock: the aux word of a frame belongs to whoever holds
 * the frame (see frame_aux_set in kernel/frame.h). */
static u32 *aux;      /* per frame: a frame number, 0 = none */
u32 *frame_aux_words; /* aux and nframes, for the inline frame_aux_get */
u64 frame_aux_frames;
struct frame_lend *frame_lend_records; /* lend, for the inline frame_lend */
static struct frame_lend *lend; /* per frame: kpager loan record (kmem.c) */

static u64 bitmap_bytes(u64 nf) { return ALIGN_UP(nf, 64) / 8; }

u64 frame_bitmap_bytes(u64 max_phys)
{
    u64 n = max_phys >> PAGE_SHIFT;
    return bitmap_bytes(n) + ALIGN_UP(n * sizeof *aux, 8) + n * sizeof *lend;
}

void frame_init(u64 max_phys, void *bm)
{
    bitmap = bm;
    nframes = max_phys >> PAGE_SHIFT;
    aux = (u32 *)((u8 *)bm + bitmap_bytes(nframes)); /* 8-aligned: whole words */
    lend = (struct frame_lend *)((u8 *)aux + ALIGN_UP(nframes * sizeof *aux, 8));
    frame_aux_words = aux;
    frame_aux_frames = nframes;
    frame_lend_records = lend;
    nfree = ntotal = hint = 0;
    memset(bitmap, 0, frame_bitmap_bytes(max_phys));
}

static bool is_free(u64 f) { return bitmap[f / 64] >> (f % 64) & 1; }

static void set_free(u64 f)
{
    bitmap[f / 64] |= 1ull << (f % 64);
    nfree++;
}

static void set_used(u64 f)
{
    bitmap[f / 64] &= ~(1ull << (f % 64));
    nfree--;
}

void frame_add_free(u64 base, u64 len)
{
    u64 f0 = ALIGN_UP(base, PAGE_SIZE) >> PAGE_SHIFT;
    u64 f1 = (base + len) >> PAGE_SHIFT;
    spin_lock(&frame_lock);
    for (u64 f = f0 ? f0 : 1; f < f1 && f < nframes; f++)
        if (!is_free(f)) {
            set_free(f);
            ntotal++;
        }
    spin_unlock(&frame_lock);
}

void frame_reserve(u64 base, u64 len)
{
    u64 f0 = base >> PAGE_SHIFT;
    u64 f1 = ALIGN_UP(base + len, PAGE_SIZE) >> PAGE_SHIFT;
    spin_lock(&frame_lock);
    for (u64 f = f0; f < f1 && f < nframes; f++)
        if (is_free(f)) {
            set_used(f);
            ntotal--;
        }
    spin_unlock(&frame_lock);
}

u64 frame_alloc(void)
{
    u64 words = ALIGN_UP(nframes, 64) / 64, phys = 0;
    spin_lock(&frame_lock);
    for (u64 i = 0; i < words && nfree; i++) {
        u64 w = (hint + i) % words;
        if (bitmap[w]) {
            u64 f = w * 64 + (u64)__builtin_ctzll(bitmap[w]);
            set_used(f);
            hint = w;
            phys = f << PAGE_SHIFT;
            break;
        }
    }
    spin_unlock(&frame_lock);
    return phys;
}

u64 frame_alloc_contig(u64 n)
{
    u64 run = 0, phys = 0;
    spin_lock(&frame_lock);
    for (u64 f = 1; f < nframes && n; f++) {
        run = is_free(f) ? run + 1 : 0;
        if (run == n) {
            u64 first = f + 1 - n;
            for (u64 g = first; g <= f; g++)
                set_used(g);
            phys = first << PAGE_SHIFT;
            break;
        }
    }
    spin_unlock(&frame_lock);
    return phys;
}

void frame_free(u64 phys) { frame_free_contig(phys, 1); }

void frame_free_contig(u64 phys, u64 n)
{
    u64 f0 = phys >> PAGE_SHIFT;
    spin_lock(&frame_lock);
    for (u64 f = f0; f < f0 + n; f++) {
        if (f == 0 || f >= nframes || is_free(f) || (phys & (PAGE_SIZE - 1))) {
            spin_unlock(&frame_lock);
            panic("frame_free: bad or free frame %lx", f << PAGE_SHIFT);
        }
        set_free(f);
    }
    spin_unlock(&frame_lock);
}

u64 frame_free_count(void)
{
    spin_lock(&frame_lock);
    u64 n = nfree;
    spin_unlock(&frame_lock);
    return n;
}

u64 frame_total_count(void) { return ntotal; }

static u64 checked_frame(u64 phys, const char *who)
{
    u64 f = phys >> PAGE_SHIFT;
    if (f == 0 || f >= nframes || (phys & (PAGE_SIZE - 1)))
        panic("%s: bad frame %lx", who, phys);
    return f;
}

void frame_aux_set(u64 phys, u64 aux_phys)
{
    u64 f = checked_frame(phys, "frame_aux_set");
    if (aux_phys & (PAGE_SIZE - 1) || aux_phys >> PAGE_SHIFT > 0xffffffffull)
        panic("frame_aux_set: bad value %lx", aux_phys);
    aux[f] = (u32)(aux_phys >> PAGE_SHIFT);
}

void frame_bad(u64 phys, const char *who) { panic("%s: bad frame %lx", who, phys); }

