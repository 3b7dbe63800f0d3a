/* Mapping nodes and node pages: the mapping database's records (shared by
 * kernel/mapdb*.c, which keep them, and kernel/nodetable.c, which pages
 * node tables out and in).  Layout and invariants: kernel/mapdb.c.
 *
 * A mapping is recorded in two parts, as the paper's §3.2 splits a mapping
 * node, each in a node page of the task it belongs to:
 *  - the receiver-derived part, struct mnode ("node"): the mapping itself
 *    (its page, rights, flags), in the pages of the task that holds it;
 *  - the sender-derived part, struct medge ("edge"): that the mapping was
 *    derived from a given mapping of the sender's, in the pages of the task
 *    holding that parent mapping (after a grant, the new holder's).
 * So each task's pages describe only what it did itself: its kpager pays
 * for, and pages, the mappings it holds and those it gave on.
 *
 * Both are 32-byte slots, of node pages and of edge pages respectively (a
 * page holds one kind, so that either part can be paged without the
 * other).  A slot in use tells its kind by its first word too: a node's
 * is a user page address with KM_R (bit 63 clear), an edge's a kernel
 * pointer (bit 63 set); a free slot's is 0.
 *
 * NODE PAGE (KMEM_MAPNODE, kspace KM_KS_MN_OF(n); edge page: KM_KS_ME_OF(n)):
 *   OFFSET  SIZE  FIELD
 *        0    48  struct mnode_page (below)
 *   48+32k    32  slot k (k < 126): struct mnode, struct medge or free
 *
 * Locking: the kernel lock, for every field.
 */
#ifndef KERNEL_MNODE_H
#define KERNEL_MNODE_H

#include <arch/layout.h>
#include <kernel/types.h>

struct task;
struct medge;

#define MN_RIGHTS 0x7ull
#define MN_KERNEL_OWNED 0x8ull /* root: the frame is freed with it */
#define MN_LENT 0x10ull        /* lent to the kernel: PTE not present, frame kept */
#define MN_KIDS_OUT 0x20ull    /* may have children detached (their edges out: mapdb_out.c) */
#define MN_VA 0x00007ffffffff000ull
#define MN_EDGE (1ull << 63) /* first word of an edge (a kernel pointer) */

/*   OFFSET  SIZE  FIELD
 *        0     8  word   page address | MN_* | rights (never 0, bit 63 clear)
 *        8     8  up     the edge it was derived through; NULL: a root; its
 *                        parent's name (MN_OUT_NAME) while that edge is out
 *                        ("detached")
 *       16     8  child  its first edge: mappings derived from it
 *       24     8  named  while detached: the next node detached from a
 *                        parent of the same chain (mapdb_out.c's names) */
struct mnode {
    u64 word;
    struct medge *up;
    struct medge *child;
    struct mnode *named;
};

/*   OFFSET  SIZE  FIELD
 *        0     8  child   the derived mapping (a kernel pointer: bit 63 set),
 *                         or its name while its node is out (MN_OUT_NAME)
 *        8     8  parent  the mapping it was derived from, or its name
 *       16     8  next    parent's next edge, or NULL; while the parent is
 *                         out, the next edge of the same parent's name in
 *                         mapdb_out.c's table of names
 *       24     8  named   while the child is out: the next edge in that
 *                         table naming a child there */
struct medge {
    struct mnode *child;
    struct mnode *parent;
    struct medge *next;
    struct medge *named;
};

/* NODES PAGED OUT (kmem=kpager; kernel/mapdb_out.c says how).  A node that is
 * out is named (its task, its page) where a pointer to it was: bit 0 set
 * (slots are 32-byte aligned), bit 63 set (an edge's first word stays an
 * edge's); its node-table slot holds MN_SLOT_OUT. */
#define MN_OUT_TAG 1ull
#define MN_OUT_NAME(task, va) (MN_EDGE | ((u64)(task) << 47) | (va) | MN_OUT_TAG)
#define MN_SLOT_OUT ((void *)MN_OUT_TAG)
static inline bool mn_is_out(const void *p) { return (uptr)p & MN_OUT_TAG; }
static inline u32 mn_name_task(u64 name) { return (u32)(name >> 47) & 0xfff; }
static inline u64 mn_name_va(u64 name) { return name & 0x00007ffffffff000ull; }

/* A free slot: first word 0, next free slot of its page at offset 8. */
struct mslot {
    u64 zero;
    struct mslot *next;
    u64 pad[2];
};

/* The header of a node page; its slots follow it. */
struct mnode_page {
    struct mnode_page *next, *prev; /* the task's node pages, circular */
    struct mslot *free;             /* free slots of this page */
    struct task *task;              /* whose nodes and edges these are */
    u64 ks;                         /* its kspace address (KM_KS_MN_OF) */
    u32 used;                       /* slots in use */
    bool detached;                  /* being reclaimed: off the list, not freed */
    bool edges;                     /* an edge page (KM_KS_ME_OF), not a node page */
};

#define NODES_PER_PAGE ((PAGE_SIZE - sizeof(struct mnode_page)) / sizeof(struct mnode))
_Static_assert(sizeof(struct mnode) == 32 && sizeof(struct medge) == 32 && sizeof(struct mslot) == 32,
               "node page slots stay small");
_Static_assert(sizeof(struct mnode_page) == 48, "node page header");
_Static_assert(NODES_PER_PAGE == 126, "node page layout");

/* The node page being reclaimed (mapdb_reclaim_node_page): off its task's
 * list while its nodes go, but they are still the task's until then, so
 * a pass over the task's nodes looks at it too.  NULL: none. */
extern struct mnode_page *mapdb_reclaiming;

static inline struct mnode_page *page_of(const void *slot)
{
    return (struct mnode_page *)ALIGN_DOWN((uptr)slot, PAGE_SIZE);
}
static inline struct mnode *page_nodes(struct mnode_page *pg) { return (struct mnode *)(pg + 1); }
/* Whether slot s (of a node page) holds a node (not an edge, not free). */
static inline bool slot_is_node(const struct mnode *s) { return s->word && !(s->word & MN_EDGE); }
static inline struct task *node_task(const struct mnode *n) { return page_of(n)->task; }
static inline u64 node_va(const struct mnode *n) { return n->word & MN_VA; }
static inline u32 node_rights(const struct mnode *n) { return (u32)(n->word & MN_RIGHTS); }
static inline bool node_lent(const struct mnode *n) { return n->word & MN_LENT; }
/* The mapping n was derived from, or NULL for a root. */
static inline struct mnode *node_parent(const struct mnode *n) { return n->up ? n->up->parent : NULL; }

#endif
