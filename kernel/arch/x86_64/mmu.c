/* The hardware side of address spaces (see arch/mmu.h): the direct map
 * above 4 GiB, the kernel half of every space, CR3 switches and TLB
 * shootdowns.  The page tables themselves are built in pgtable.c. */
#include <arch/cpu.h>
#include <arch/lapic.h>
#include <arch/layout.h>
#include <arch/mmu.h>
#include <arch/percpu.h>
#include <kernel/frame.h>
#include <kernel/printk.h>
#include <kernel/string.h>

#define PTE_P 0x1ull
#define PTE_W 0x2ull
#define PTE_PS 0x80ull
#define PTE_NX (1ull << 63)
#define PTE_ADDR 0x000ffffffffff000ull
#define INVLPG_MAX 32 /* past this many pages a CR3 reload is cheaper */

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
    mmu_pte_nx = nx_ok ? PTE_NX : 0;
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

void mmu_kernel_half(u64 *pml4)
{
    for (int i = 256; i < 512; i++)
        pml4[i] = kernel_pml4()[i];
}

/* ---- CR3 and TLB shootdowns ------------------------------------------
 * loaded[c]: the PML4 in CPU c's CR3.  Written by CPU c when it switches
 * (kernel lock held), read by shootdowns (kernel lock held).
 * asked[c]: shootdowns that asked CPU c to reload CR3 (incremented under
 * the kernel lock); done[c]: the value of asked[c] that CPU c read before
 * its last reload (written by CPU c only).  CPU c owes a reload while
 * done[c] < asked[c]; reading asked before reloading means a request that
 * comes during the reload stays owed, never lost. */
static u64 loaded[MAX_CPUS];
static u64 asked[MAX_CPUS], done[MAX_CPUS];

static void load(u64 pml4)
{
    if (read_cr3() == pml4)
        return; /* loaded[] and the flag say so already */
    loaded[cpu_id()] = pml4;
    this_cpu()->kernel_tables = pml4 == kernel_cr3;
    write_cr3(pml4);
}

static u64 leave[MAX_CPUS]; /* a space CPU c must leave at its reload (aspace_evict) */

static void reload_cr3(void)
{
    u32 me = cpu_id();
    u64 g = __atomic_load_n(&asked[me], __ATOMIC_ACQUIRE);
    u64 gone = __atomic_load_n(&leave[me], __ATOMIC_ACQUIRE);
    if (gone && read_cr3() == gone)
        load(kernel_cr3); /* its thread faults on its next user access */
    else
        write_cr3(read_cr3());
    __atomic_store_n(&done[me], g, __ATOMIC_RELEASE);
}

void aspace_activate(struct aspace *as) { load(as->pml4 ? as->pml4 : kernel_cr3); }
void aspace_activate_kernel(void) { load(kernel_cr3); }

void arch_tlb_ipi(void) { reload_cr3(); }

/* CPU c has reloaded since request g, or halted for good (end of run). */
static bool reloaded(u32 c, u64 g)
{
    return __atomic_load_n(&done[c], __ATOMIC_ACQUIRE) >= g ||
           __atomic_load_n(&percpu_area[c].halt_ack, __ATOMIC_ACQUIRE);
}

/* The other CPUs' part of a shootdown of as: each that has it loaded
 * reloads CR3 before this returns. */
/* Per asking CPU, the request each other CPU must reach (0 = none): off
 * the kernel stack (512 bytes there), a row per CPU so that no lock is
 * assumed. */
static u64 want_of[MAX_CPUS][MAX_CPUS];

static __attribute__((noinline)) void shootdown_others(struct aspace *as)
{
    u32 me = cpu_id();
    u64 *want = want_of[me];
    bool sent = false;
    for (u32 c = 0; c < ncpus_online; c++) {
        want[c] = 0;
        if (c == me || loaded[c] != as->pml4)
            continue;
        /* The request is visible before the IPI arrives. */
        want[c] = __atomic_add_fetch(&asked[c], 1, __ATOMIC_SEQ_CST);
        lapic_send_ipi(percpu_area[c].apic_id, VEC_TLB);
        sent = true;
    }
    for (u32 c = 0; sent && c < ncpus_online; c++) /* (mostly none was asked: no wait) */
        while (want[c] && !reloaded(c, want[c]))
            cpu_relax();
}

/* Whether a CPU other than this one has pml4 loaded: mostly none (a
 * space's threads run on one CPU), so one look at each other one (those
 * below this one, then those above).  A CPU switches spaces only with the
 * kernel lock, which this one holds. */
static inline __attribute__((always_inline)) bool others_loaded(u64 pml4)
{
    u32 me = cpu_id(), n = ncpus_online;
    for (u32 c = 0; c < me; c++)
        if (__builtin_expect(loaded[c] == pml4, 0))
            return true;
    for (u32 c = me + 1; c < n; c++)
        if (__builtin_expect(loaded[c] == pml4, 0))
            return true;
    return false;
}

/* arch_tlb_shootdown of more than one page (or none). */
static __attribute__((noinline)) void shootdown_pages(struct aspace *as, u64 va, u64 npages)
{
    if (read_cr3() == as->pml4) {
        if (npages > INVLPG_MAX)
            reload_cr3();
        else
            for (u64 i = 0; i < npages; i++)
                invlpg(va + i * PAGE_SIZE);
    }
    if (others_loaded(as->pml4))
        shootdown_others(as);
}

/* Mostly one page (one PTE changed), the case in line: no call but by a
 * jump, so no frame. */
void arch_tlb_shootdown(struct aspace *as, u64 va, u64 npages)
{
    if (__builtin_expect(npages != 1, 0))
        return shootdown_pages(as, va, npages);
    u64 pml4 = as->pml4;
    if (read_cr3() == pml4)
        invlpg(va);
    if (others_loaded(pml4))
        shootdown_others(as);
}

void aspace_evict(struct aspace *as)
{
    u32 me = cpu_id();
    u64 *want = want_of[me];
    if (read_cr3() == as->pml4)
        aspace_activate_kernel();
    for (u32 c = 0; c < ncpus_online; c++) {
        want[c] = 0;
        if (c == me || loaded[c] != as->pml4)
            continue;
        __atomic_store_n(&leave[c], as->pml4, __ATOMIC_RELEASE);
        want[c] = __atomic_add_fetch(&asked[c], 1, __ATOMIC_SEQ_CST);
        lapic_send_ipi(percpu_area[c].apic_id, VEC_TLB);
    }
    for (u32 c = 0; c < ncpus_online; c++) {
        while (want[c] && !reloaded(c, want[c]))
            cpu_relax();
        if (want[c])
            __atomic_store_n(&leave[c], 0, __ATOMIC_RELEASE);
    }
}

void mmu_release(struct aspace *as)
{
    if (read_cr3() == as->pml4)
        aspace_activate_kernel();
    for (u32 c = 0; c < ncpus_online; c++)
        if (loaded[c] == as->pml4)
            panic("mmu_release: cpu %u still runs on the tables being freed", c);
}
