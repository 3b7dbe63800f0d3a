/* roottask: starts the boot programs the kernel hands over (kernel option
 * roottask; abi/l4.h), one after another, each in a task of its own, and is
 * their pager: it loads their ELF images into memory it gets from sigma0,
 * gives them stacks, hands the pages over with the answers to their first
 * page faults, and learns of their end (exit or exception) by messages the
 * kernel sends it as their pager. */
#include <user/l4.h>
#include <user/sigma0.h>
#include <user/stdio.h>
#include <user/string.h>

#define PAGE 4096ul
#define POOL 0x0000500000000000ull     /* our window for program pages */
#define STACK_TOP 0x00007ffeffff0000ull /* as the kernel gives boot programs */
#define STACK_PAGES 16
#define MAX_SEGS 8

struct seg {
    km_u64 vaddr, memsz, filesz, offset;
    unsigned rights;
};

struct elf64_ehdr {
    unsigned char ident[16];
    unsigned short type, machine;
    unsigned version;
    km_u64 entry, phoff, shoff;
    unsigned flags;
    unsigned short ehsize, phentsize, phnum, shentsize, shnum, shstrndx;
};
struct elf64_phdr {
    unsigned type, flags;
    km_u64 offset, vaddr, paddr, filesz, memsz, align;
};

struct program {
    unsigned index;
    char name[48];
    const unsigned char *image;
    km_u64 size, entry;
    struct seg seg[MAX_SEGS];
    unsigned nsegs;
    km_taskid task;
    km_tid main;
    km_u64 img_base, img_end, img_pool, stack_pool; /* image block, its copy here */
    unsigned img_log2;
    int sent;           /* the whole program was handed over */
};

static struct program prog;
static km_u64 pool_next = POOL; /* next free address in our window (blocks
                                   from sigma0 are not given back: each
                                   program gets fresh ones) */

static void set_name(struct program *p, const char *path)
{
    const char *b = path;
    for (const char *s = path; *s && *s != ' '; s++)
        if (*s == '/')
            b = s + 1;
    unsigned n = 0;
    while (b[n] && b[n] != ' ' && n < sizeof p->name - 1)
        n++;
    memcpy(p->name, b, n);
    p->name[n] = 0;
}

/* Checks the ELF image and notes its loadable segments; NULL or why not. */
static const char *parse(struct program *p)
{
    const struct elf64_ehdr *eh = (const void *)p->image;
    if (p->size < sizeof *eh || memcmp(eh->ident, "\x7f" "ELF", 4) || eh->ident[4] != 2 ||
        eh->machine != 62 || eh->type != 2)
        return "not an x86-64 ELF executable";
    if (eh->phentsize != sizeof(struct elf64_phdr) || eh->phoff > p->size ||
        (km_u64)eh->phnum * sizeof(struct elf64_phdr) > p->size - eh->phoff)
        return "program headers out of bounds";
    p->nsegs = 0;
    for (unsigned i = 0; i < eh->phnum; i++) {
        struct elf64_phdr ph;
        memcpy(&ph, p->image + eh->phoff + i * sizeof ph, sizeof ph);
        if (ph.type != 1)
            continue;
        if (p->nsegs == MAX_SEGS || ph.offset > p->size || ph.filesz > p->size - ph.offset ||
            ph.filesz > ph.memsz || ph.vaddr + ph.memsz < ph.vaddr ||
            ph.vaddr + ph.memsz > STACK_TOP - STACK_PAGES * PAGE)
            return "a loadable segment is out of bounds";
        p->seg[p->nsegs++] = (struct seg){ph.vaddr, ph.memsz, ph.filesz, ph.offset,
                                          KM_R | ((ph.flags & 2) ? KM_W : 0) |
                                              ((ph.flags & 1) ? KM_X : 0)};
    }
    p->entry = eh->entry;
    return p->nsegs ? 0 : "no loadable segment";
}

/* The rights the program has at page (0: no memory there). */
static unsigned page_rights(const struct program *p, km_u64 page)
{
    unsigned rights = 0;
    for (unsigned i = 0; i < p->nsegs; i++)
        if (page < p->seg[i].vaddr + p->seg[i].memsz && page + PAGE > p->seg[i].vaddr)
            rights |= p->seg[i].rights;
    if (page >= STACK_TOP - STACK_PAGES * PAGE && page < STACK_TOP)
        rights |= KM_R | KM_W;
    return rights;
}

/* Loads the whole program before it starts, into one naturally aligned
 * block from sigma0 laid out like the program's own addresses (so that a
 * few large map items can hand all of it over), and gives it a stack
 * block.  0, or -KM_E* (sigma0 out of memory). */
static long load(struct program *p)
{
    km_u64 lo = ~0ull, hi = 0;
    for (unsigned i = 0; i < p->nsegs; i++) {
        if ((p->seg[i].vaddr & ~(PAGE - 1)) < lo)
            lo = p->seg[i].vaddr & ~(PAGE - 1);
        if (p->seg[i].vaddr + p->seg[i].memsz > hi)
            hi = p->seg[i].vaddr + p->seg[i].memsz;
    }
    unsigned log2 = 12;
    while (log2 < 30 && (lo >> log2) != ((hi - 1) >> log2))
        log2++;
    p->img_base = lo & ~((1ull << log2) - 1);
    p->img_end = (hi + PAGE - 1) & ~(PAGE - 1);
    p->img_log2 = log2;
    p->img_pool = (pool_next + (1ull << log2) - 1) & ~((1ull << log2) - 1);
    long r = sigma0_get(log2, KM_RWX, 0, p->img_pool);
    if (r < 0)
        return r;
    pool_next = p->img_pool + (1ull << log2);
    p->stack_pool = (pool_next + STACK_PAGES * PAGE - 1) & ~(STACK_PAGES * PAGE - 1);
    if ((r = sigma0_get(16, KM_R | KM_W, 0, p->stack_pool)) < 0) /* 16 pages: 2^16 */
        return r;
    pool_next = p->stack_pool + STACK_PAGES * PAGE;
    memset((void *)p->stack_pool, 0, STACK_PAGES * PAGE);
    unsigned char *img = (unsigned char *)p->img_pool;
    memset(img + (lo - p->img_base), 0, p->img_end - lo);
    for (unsigned i = 0; i < p->nsegs; i++)
        memcpy(img + (p->seg[i].vaddr - p->img_base), p->image + p->seg[i].offset,
               p->seg[i].filesz);
    return 0;
}

/* Map items for [va, end) of the image: naturally aligned chunks, each as
 * large as its alignment and uniform rights allow. */
static unsigned put_image(const struct program *p, unsigned mr, km_u64 va, km_u64 end)
{
    while (va < end && mr + 2 <= KM_MR_COUNT) {
        unsigned rights = page_rights(p, va), j = 12;
        while (j < p->img_log2 && !(va & ((1ull << (j + 1)) - 1)) && va + (1ull << (j + 1)) <= end) {
            int same = 1;
            for (km_u64 q = va; same && q < va + (1ull << (j + 1)); q += PAGE)
                same = page_rights(p, q) == rights;
            if (!same)
                break;
            j++;
        }
        if (rights)
            mr = l4_put_map_item(mr, va, KM_FPAGE(p->img_pool + (va - p->img_base), j, rights));
        va += 1ull << j;
    }
    return mr;
}

/* The reply to a fault at addr: on the first fault the whole program (image
 * and stack), so that it is all there, as if the kernel had loaded it;
 * later the page at addr again; 0 when there is no memory at addr. */
static km_u64 serve_fault(struct program *p, km_u64 addr)
{
    km_u64 page = addr & ~(PAGE - 1);
    unsigned rights = page_rights(p, page), mr = 0;
    if (!rights)
        return 0;
    if (!p->sent) {
        mr = put_image(p, 0, p->img_base, p->img_end);
        mr = l4_put_map_item(mr, STACK_TOP - STACK_PAGES * PAGE,
                             KM_FPAGE(p->stack_pool, 16, KM_R | KM_W));
        p->sent = 1;
    } else if (page >= STACK_TOP - STACK_PAGES * PAGE) {
        mr = l4_put_map_item(0, page, KM_FPAGE(p->stack_pool + (page - (STACK_TOP -
                                                   STACK_PAGES * PAGE)), 12, rights));
    } else {
        mr = put_image(p, 0, page, page + PAGE);
    }
    return mr ? KM_TAG(0, 0, mr) : 0;
}

static km_u64 kernel_pages(km_taskid t)
{
    struct km_kmem_info k;
    if (sys_kmem_info(t, &k) < 0)
        return 0;
    km_u64 n = k.free_frames;
    for (int i = 0; i < KM_KMEM_NTYPES; i++)
        n += k.pages[i];
    return n;
}

/* Runs program p to its end; returns its status. */
static int run(struct program *p)
{
    const char *err = parse(p);
    long r = 0;
    if (!err && load(p) < 0)
        err = "no memory for its pages (sigma0 is out)";
    if (!err && (r = sys_task_create()) < 0)
        err = "no task";
    p->task = (km_taskid)r;
    if (!err && (r = sys_thread_create(p->task, sys_myself())) < 0)
        err = "no thread";
    p->main = (km_tid)r;
    if (!err && sys_exregs(p->main, KM_EXREGS_START, p->entry, STACK_TOP) < 0)
        err = "cannot start";
    if (err) {
        printf("kmemlab: program %u (%s): not loaded: %s\n", p->index, p->name, err);
        if (p->task)
            sys_task_delete(p->task);
        return 127;
    }
    printf("kmemlab: program %u (%s) starts\n", p->index, p->name);
    int status = -1;
    r = l4_receive_any();
    while (status < 0) {
        if (r < 0) {
            r = l4_receive_any();
            continue;
        }
        km_u64 label = l4_label();
        km_tid from = l4_sender();
        if (label == KM_LABEL_EXIT) {
            status = (int)l4_mr(0);
            printf("kmemlab: program %u (%s) exited with status %d\n", p->index, p->name, status);
        } else if (label == KM_LABEL_EXCEPTION) {
            status = 128 + (int)l4_mr(0);
            printf("kmemlab: program %u (%s) killed: exception %lu, error 0x%lx, rip 0x%lx, "
                   "address 0x%lx\n",
                   p->index, p->name, (unsigned long)l4_mr(0), (unsigned long)l4_mr(1),
                   (unsigned long)l4_mr(2), (unsigned long)l4_mr(3));
        } else if (l4_is_pagefault()) {
            km_u64 tag = serve_fault(p, l4_mr(0));
            if (tag || (l4_mr(2) & KM_FAULT_SYSCALL)) {
                /* no map item for a bad system-call pointer: -KM_EFAULT, no kill */
                r = l4_reply_and_wait(from, tag);
                continue;
            }
            status = 128 + 14;
            printf("kmemlab: program %u (%s) killed: page fault at 0x%lx, ip 0x%lx, access %lu: "
                   "no memory there\n",
                   p->index, p->name, (unsigned long)l4_mr(0), (unsigned long)l4_mr(1),
                   (unsigned long)l4_mr(2));
        }
        if (status < 0)
            r = l4_receive_any(); /* anything else: not for us */
    }
    /* Teardown check: every kernel page the task held comes back (its own
     * tasks free more; others, sigma0 among them, are quiet meanwhile). */
    struct km_kmem_info k;
    km_u64 child_pages = 0;
    if (sys_kmem_info(p->task, &k) == 0)
        for (int i = 0; i < KM_KMEM_NTYPES; i++)
            child_pages += k.pages[i];
    km_u64 before = kernel_pages(0);
    sys_task_delete(p->task);
    while (sys_kmem_info(p->task, &k) != -KM_ESRCH) /* its threads may still be on a CPU */
        sys_yield();
    km_u64 after = kernel_pages(0);
    if (after < before + child_pages)
        printf("kmemlab: program %u (%s): %lu kernel pages held, %lu freed (leak)\n", p->index,
               p->name, (unsigned long)child_pages, (unsigned long)(after - before));
    return status;
}

int main(void)
{
    const struct km_bootinfo *bi = (const void *)KM_BOOTINFO;
    if (sigma0_tid() == KM_NILTHREAD) {
        printf("roottask: needs sigma0 (kernel options sigma0 roottask, sigma0.elf first)\n");
        return 1;
    }
    struct km_kmem_info probe;
    if (sys_kmem_info(0, &probe) < 0 || bi->nmodules > KM_BOOTINFO_MAX) {
        printf("roottask: no boot info (kernel option roottask missing?)\n");
        return 1;
    }
    printf("roottask: %u programs to run\n", bi->nmodules);
    int worst = 0;
    for (unsigned i = 0; i < bi->nmodules; i++) {
        memset(&prog, 0, sizeof prog);
        prog.index = bi->first_index + i;
        set_name(&prog, bi->mod[i].name);
        prog.image = (const unsigned char *)bi->mod[i].va;
        prog.size = bi->mod[i].size;
        if (run(&prog) != 0)
            worst = 1;
    }
    return worst;
}
