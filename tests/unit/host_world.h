/* A host world for unit tests of the mapping database and kernel memory:
 * an arena standing in for physical memory, the frame allocator over it,
 * and a table of tasks (kernel/task.c is not linked into unit tests; the
 * table is what task_by_number and task_lookup find). */
#ifndef HOST_WORLD_H
#define HOST_WORLD_H

#include <kernel/task.h>

#define HOST_NTASKS 8
extern struct task host_tasks[HOST_NTASKS];
extern u64 host_free_at_start; /* free frames once the world is made */

/* An arena of `arena` bytes with frames [free_lo, free_hi) free; no task. */
void host_world_init(u64 arena, u64 free_lo, u64 free_hi);
/* Checks every task, destroys them (highest number first, so that a
 * kpager's clients give their lent pages back to it while it is there),
 * and fails the test unless every frame is free again and the kernel's
 * pool is empty; then frees the arena. */
void host_world_end(void);

/* A new empty task with a space and a mapping database. */
struct task *host_new_task(void);
/* Destroys t like kernel/task.c: mappings, then tables; its kernel pages
 * must all be back, every other task must still pass mapdb_check. */
void host_destroy(struct task *t);
/* mapdb_check of every task; the test fails on the first problem. */
void host_check_all(void);

#endif
