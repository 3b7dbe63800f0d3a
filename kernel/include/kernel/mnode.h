/* Mapping nodes and node pages: the mapping database's records (shared by
 * kernel/mapdb.c, which keeps them, and kernel/nodetable.c, which pages
 * node tables out and in).  Layout and invariants: kernel/mapdb.c.
 *
 * Locking: the kernel lock, for every field.
 */
#ifndef KERNEL_MNODE_H
#define KERNEL_MNODE_H

#include <arch/layout.h>
#include <kernel/types.h>

struct task;

#define MN_RIGHTS 0x7ull
#define MN_KERNEL_OWNED 0x8ull /* root: the frame is freed with it */
#define MN_LENT 0x10ull        /* lent to the kernel: PTE not present, frame kept */
#define MN_VA 0x00007ffffffff000ull

struct mnode {
    u64 word; /* va | MN_* | rights; 0: free */
    struct mnode *parent;
    struct mnode *child;
    struct mnode *next; /* also the free-list link of a free node */
};

/* The header of a node page; its nodes follow it. */
struct mnode_page {
    struct mnode_page *next, *prev; /* the task's node pages, circular */
    struct mnode *free;             /* free nodes of this page */
    struct task *task;              /* whose mappings these nodes are */
    u64 ks;                         /* its kspace address (KM_KS_MN_OF) */
    u32 used;                       /* nodes in use */
    bool detached;                  /* being reclaimed: off the list, not freed */
};

#define NODES_PER_PAGE ((PAGE_SIZE - sizeof(struct mnode_page)) / sizeof(struct mnode))
_Static_assert(sizeof(struct mnode) == 32, "mapping nodes stay small");
_Static_assert(sizeof(struct mnode_page) == 48, "node page header");
_Static_assert(NODES_PER_PAGE == 126, "node page layout");

/* The node page being reclaimed (mapdb_reclaim_node_page): off its task's
 * list while its nodes go, but they are still the task's until then, so
 * a pass over the task's nodes looks at it too.  NULL: none. */
extern struct mnode_page *mapdb_reclaiming;

static inline struct mnode_page *page_of(const struct mnode *n)
{
    return (struct mnode_page *)ALIGN_DOWN((uptr)n, PAGE_SIZE);
}
static inline struct mnode *page_nodes(struct mnode_page *pg) { return (struct mnode *)(pg + 1); }
static inline struct task *node_task(const struct mnode *n) { return page_of(n)->task; }
static inline u64 node_va(const struct mnode *n) { return n->word & MN_VA; }
static inline u32 node_rights(const struct mnode *n) { return (u32)(n->word & MN_RIGHTS); }
static inline bool node_lent(const struct mnode *n) { return n->word & MN_LENT; }

#endif
