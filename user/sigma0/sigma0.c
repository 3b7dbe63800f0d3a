/* sigma0: the root pager.  The kernel gives it a block of physical memory,
 * mapped at the same virtual addresses (idempotently); it hands out
 * naturally aligned blocks of it on request (protocol in abi/l4.h) and
 * never gives the same block twice. */
#include <user/stdio.h>
#include <user/sys.h>

#define MAX_PAGES (1u << 20) /* 4 GiB of 4 KiB pages */

static unsigned char given[MAX_PAGES / 8]; /* bit per page: handed out */
static unsigned long mem_base, mem_pages;

static int is_given(unsigned long p) { return given[p / 8] >> (p % 8) & 1; }
static void set_given(unsigned long p) { given[p / 8] |= (unsigned char)(1u << (p % 8)); }

/* The first page index of a free block of 2^order pages, naturally aligned
 * in physical memory, at or after start_page; -1 when there is none. */
static long find_block(unsigned long order, unsigned long start_page)
{
    unsigned long n = 1ul << order, base_pfn = mem_base >> 12;
    /* first index >= start_page whose physical frame number is aligned */
    unsigned long p = ((base_pfn + start_page + n - 1) & ~(n - 1)) - base_pfn;
    for (; p + n <= mem_pages; p += n) {
        unsigned long k = 0;
        while (k < n && !is_given(p + k))
            k++;
        if (k == n)
            return (long)p;
    }
    return -1;
}

static unsigned long next_hint;

/* Serves one request; returns the reply tag (MRs set). */
static km_u64 serve(struct km_utcb *u)
{
    km_u64 want = u->mr[0];
    unsigned long log2 = KM_FPAGE_LOG2(want), rights = KM_FPAGE_RIGHTS(want);
    unsigned long base = KM_FPAGE_BASE(want);
    if (KM_TAG_U(u->tag) != 1 || log2 < 12 || log2 > 30 || (base & ((1ul << log2) - 1))) {
        u->mr[0] = (km_u64)-KM_EINVAL;
        return KM_TAG(0, 1, 0);
    }
    unsigned long order = log2 - 12;
    long p;
    if (base == 0) {
        p = find_block(order, next_hint);
        if (p < 0)
            p = find_block(order, 0);
    } else if (base >= mem_base && base + (1ul << log2) <= mem_base + mem_pages * 4096) {
        p = (long)((base - mem_base) >> 12);
        for (unsigned long k = 0; k < (1ul << order); k++)
            if (is_given((unsigned long)p + k))
                p = -1;
    } else {
        p = -1;
    }
    if (p < 0) {
        u->mr[0] = (km_u64)-KM_ENOMEM;
        return KM_TAG(0, 1, 0);
    }
    for (unsigned long k = 0; k < (1ul << order); k++)
        set_given((unsigned long)p + k);
    if (order == 0)
        next_hint = (unsigned long)p + 1;
    unsigned long phys = mem_base + ((unsigned long)p << 12);
    u->mr[0] = KM_MAPITEM(phys, 0);
    u->mr[1] = KM_FPAGE(phys, log2, rights ? rights : KM_RWX);
    return KM_TAG(0, 0, 2);
}

int main(void)
{
    struct km_sysinfo si;
    if (sys_sysinfo(&si) < 0 || si.sigma0 != sys_myself()) {
        printf("sigma0: not started as sigma0 (kernel option sigma0 missing?)\n");
        return 1;
    }
    struct km_utcb *u = utcb();
    mem_base = si.sigma0_base;
    mem_pages = si.sigma0_mem >> 12;
    if (mem_pages > MAX_PAGES)
        mem_pages = MAX_PAGES;
    printf("sigma0: serving %lu pages at 0x%lx\n", mem_pages, mem_base);
    long r = sys_ipc(KM_NILTHREAD, KM_ANYTHREAD, 0, 0);
    for (;;) {
        km_u64 tag = 0;
        if (r == 0 && KM_TAG_LABEL(u->tag) == KM_LABEL_SIGMA0) {
            tag = serve(u);
        } else if (r == 0) {
            u->mr[0] = (km_u64)-KM_EINVAL; /* not a sigma0 request */
            tag = KM_TAG(0, 1, 0);
        }
        if (r == 0)
            r = sys_ipc(u->sender, KM_ANYTHREAD, KM_IPC_SEND_NOWAIT, tag);
        else
            r = sys_ipc(KM_NILTHREAD, KM_ANYTHREAD, 0, 0);
        /* a client that stopped waiting for its reply is not our problem */
        if (r < 0 && (u->error & KM_IPCERR_SEND))
            r = sys_ipc(KM_NILTHREAD, KM_ANYTHREAD, 0, 0);
    }
}
