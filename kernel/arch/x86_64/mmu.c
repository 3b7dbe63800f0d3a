/* Page tables for user address spaces, and the direct map above 4 GiB. */
#include <arch/cpu.h>
#include <arch/layout.h>
#include <arch/mmu.h>
#include <kernel/frame.h>
#include <kernel/printk.h>
#include <kernel/string.h>

#define PTE_P 0x1ull
#define PTE_W 0x2ull
#define PTE_U 0x4ull
#define PTE_PS 0x80ull
#define PTE_NX (1ull << 63)
#define PTE_ADDR 0x000ffffffffff000ull

extern u64 boot_pml4[512];
static u64 kernel_cr3;
static bool nx_ok;

static u64 *kernel_pml4(void) { return phys_to_virt((u64)boot_pml4); }

static u64 zeroed_frame(void)
{
    u64 p = frame_alloc();
    if (p)
        memset(phys_to_virt(p), 0, PAGE_SIZE);
    return p;
}

void mmu_init(u64 max_phys)
{
    extern u32 boot_efer;
    kernel_cr3 = read_cr3();
    nx_ok = boot_efer & (1u << 11);
    /* 2 MiB pages for [4 GiB, max_phys): PML4[256 + i/512 GiB] already
     * points at the boot PDPT for the first 512 GiB. */
    for (u64 a = BOOT_DMAP_LIMIT; a < max_phys; a += 0x200000) {
        u64 va = DMAP_BASE + a;
        u64 *pml4e = &kernel_pml4()[(va >> 39) & 511];
        if (!(*pml4e & PTE_P)) {
            u64 f = zeroed_frame();
            if (!f)
                panic("mmu_init: out of memory for the direct map");
            *pml4e = f | PTE_P | PTE_W;
        }
        u64 *pdpt = phys_to_virt(*pml4e & PTE_ADDR);
        u64 *pdpte = &pdpt[(va >> 30) & 511];
        if (!(*pdpte & PTE_P)) {
            u64 f = zeroed_frame();
            if (!f)
                panic("mmu_init: out of memory for the direct map");
            *pdpte = f | PTE_P | PTE_W;
        }
        u64 *pd = phys_to_virt(*pdpte & PTE_ADDR);
        pd[(va >> 21) & 511] = a | PTE_P | PTE_W | PTE_PS | (nx_ok ? PTE_NX : 0);
    }
    write_cr3(kernel_cr3);
}

bool aspace_create(struct aspace *as)
{
    u64 p = zeroed_frame();
    if (!p)
        return false;
    u64 *pml4 = phys_to_virt(p);
    for (int i = 256; i < 512; i++)
        pml4[i] = kernel_pml4()[i];
    as->pml4 = p;
    as->tables = 1;
    as->pages = 0;
    return true;
}

/* Walks to the leaf entry for va, creating tables when create is set. */
static u64 *walk(struct aspace *as, u64 va, bool create)
{
    u64 *t = phys_to_virt(as->pml4);
    for (int shift = 39; shift > 12; shift -= 9) {
        u64 *e = &t[(va >> shift) & 511];
        if (!(*e & PTE_P)) {
            if (!create)
                return NULL;
            u64 f = zeroed_frame();
            if (!f)
                return NULL;
            as->tables++;
            *e = f | PTE_P | PTE_W | PTE_U; /* leaf entries decide rights */
        }
        t = phys_to_virt(*e & PTE_ADDR);
    }
    return &t[(va >> 12) & 511];
}

int aspace_map(struct aspace *as, u64 va, u64 phys, u32 flags)
{
    if (va & (PAGE_SIZE - 1) || va >= USER_TOP)
        return -2;
    u64 *pte = walk(as, va, true);
    if (!pte)
        return -1;
    if (*pte & PTE_P)
        return -3;
    *pte = phys | PTE_P | PTE_U | ((flags & MAP_W) ? PTE_W : 0) |
           ((flags & MAP_X) || !nx_ok ? 0 : PTE_NX);
    as->pages++;
    return 0;
}

u64 aspace_lookup(struct aspace *as, u64 va)
{
    if (va >= USER_TOP)
        return 0;
    u64 *pte = walk(as, va, false);
    return pte && (*pte & PTE_P) ? *pte & PTE_ADDR : 0;
}

bool aspace_user_ok(struct aspace *as, u64 va, u64 len, bool write)
{
    if (len == 0)
        return true;
    if (va >= USER_TOP || len > USER_TOP - va)
        return false;
    for (u64 p = ALIGN_DOWN(va, PAGE_SIZE); p < va + len; p += PAGE_SIZE) {
        u64 *pte = walk(as, p, false);
        if (!pte || !(*pte & PTE_P) || !(*pte & PTE_U) || (write && !(*pte & PTE_W)))
            return false;
    }
    return true;
}

static void free_table(struct aspace *as, u64 phys, int level)
{
    u64 *t = phys_to_virt(phys);
    int n = level == 4 ? 256 : 512; /* the kernel half is shared */
    for (int i = 0; i < n; i++) {
        if (!(t[i] & PTE_P))
            continue;
        if (level == 1) {
            frame_free(t[i] & PTE_ADDR);
            as->pages--;
        } else {
            free_table(as, t[i] & PTE_ADDR, level - 1);
        }
    }
    frame_free(phys);
    as->tables--;
}

void aspace_destroy(struct aspace *as)
{
    if (read_cr3() == as->pml4)
        write_cr3(kernel_cr3);
    free_table(as, as->pml4, 4);
    as->pml4 = 0;
}

void aspace_activate(struct aspace *as) { write_cr3(as->pml4); }
void aspace_activate_kernel(void) { write_cr3(kernel_cr3); }
