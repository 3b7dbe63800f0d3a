/* Kernel memory for task metadata (see kernel/kmem.h): pages from the
 * kernel's frame allocator, zeroed, counted per task and type. */
#include <arch/layout.h>
#include <kernel/frame.h>
#include <kernel/kmem.h>
#include <kernel/string.h>
#include <kernel/task.h>

struct kmem_account kmem_kernel_account;

static struct kmem_account *account_of(struct task *t)
{
    return t ? &t->kmem : &kmem_kernel_account;
}

static void charge(struct task *t, enum kmem_type type, i64 n)
{
    struct kmem_account *a = account_of(t);
    a->pages[type] = (u64)((i64)a->pages[type] + n);
    if (a->pages[type] > a->peak[type])
        a->peak[type] = a->pages[type];
}

u64 kmem_pages_alloc(struct task *t, enum kmem_type type, u32 n)
{
    if (type >= KMEM_NTYPES || n == 0 || n > 8)
        return 0;
    u64 p = n == 1 ? frame_alloc() : frame_alloc_contig(n);
    if (!p)
        return 0;
    memset(phys_to_virt(p), 0, n * PAGE_SIZE);
    charge(t, type, n);
    return p;
}

u64 kmem_page_alloc(struct task *t, enum kmem_type type) { return kmem_pages_alloc(t, type, 1); }

void kmem_pages_free(struct task *t, enum kmem_type type, u64 phys, u32 n)
{
    frame_free_contig(phys, n);
    charge(t, type, -(i64)n);
}

void kmem_page_free(struct task *t, enum kmem_type type, u64 phys) { kmem_pages_free(t, type, phys, 1); }
