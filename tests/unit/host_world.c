/* Host world for unit tests (see host_world.h). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "host_support.h"
#include "host_world.h"
#include <arch/mmu.h>
#include <kernel/frame.h>
#include <kernel/kmem.h>
#include <kernel/mapdb.h>

struct task host_tasks[HOST_NTASKS];
u64 host_free_at_start;
static void *bitmap;

void host_world_init(u64 arena, u64 free_lo, u64 free_hi)
{
    host_phys_base = aligned_alloc(PAGE_SIZE, arena); /* frames are page aligned */
    memset(host_phys_base, 0, arena);
    bitmap = calloc(1, frame_bitmap_bytes(arena));
    frame_init(arena, bitmap);
    frame_add_free(free_lo, free_hi - free_lo);
    memset(host_tasks, 0, sizeof host_tasks);
    kmem_op = NULL;
    kmem_lent_frames = 0;
    host_free_at_start = frame_free_count();
}

void host_check_all(void)
{
    for (int i = 0; i < HOST_NTASKS; i++) {
        if (!host_tasks[i].number)
            continue;
        const char *err = mapdb_check(&host_tasks[i]);
        if (err)
            fail_msg("task %u: %s", host_tasks[i].number, err);
    }
}

void host_destroy(struct task *t)
{
    mapdb_task_destroy(t);
    aspace_destroy(t);
    for (int k = 0; k < KMEM_NTYPES; k++)
        assert_int_equal(t->kmem.pages[k], 0);
    t->number = 0;
    host_check_all();
}

void host_world_end(void)
{
    kmem_op = NULL;
    host_check_all();
    for (int i = HOST_NTASKS; i-- > 0;)
        if (host_tasks[i].number)
            host_destroy(&host_tasks[i]);
    assert_int_equal(frame_free_count(), host_free_at_start);
    assert_int_equal(kmem_pool_used(), 0);
    assert_int_equal(kmem_lent_frames, 0); /* every loan ended once */
    free(bitmap);
    free(host_phys_base);
}

struct task *task_by_number(u32 n)
{
    return n >= 1 && n <= HOST_NTASKS && host_tasks[n - 1].number ? &host_tasks[n - 1] : NULL;
}

struct task *task_lookup(km_taskid id)
{
    struct task *t = task_by_number(KM_ID_NUMBER(id));
    return t && t->version == KM_ID_VERSION(id) && !(t->flags & TASK_F_DYING) ? t : NULL;
}

struct task *host_new_task(void)
{
    for (int i = 0; i < HOST_NTASKS; i++) {
        struct task *t = &host_tasks[i];
        if (t->number)
            continue;
        memset(t, 0, sizeof *t);
        t->number = (u32)i + 1;
        t->version = 1;
        assert_true(aspace_create(t));
        assert_true(aspace_top(t)); /* from the pool, as tests count on */
        assert_int_equal(mapdb_task_init(t), 0);
        return t;
    }
    fail_msg("out of test tasks");
    return NULL;
}
