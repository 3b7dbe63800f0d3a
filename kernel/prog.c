/* Boot programs: each boot module becomes a task with one main thread; the
 * runner (a kernel thread) starts them one after another and waits until
 * the program has ended and its tasks are gone. */
#include <abi/l4.h>
#include <arch/layout.h>
#include <kernel/frame.h>
#include <kernel/klock.h>
#include <kernel/mapdb.h>
#include <kernel/printk.h>
#include <kernel/prog.h>
#include <kernel/sched.h>
#include <kernel/string.h>
#include <kernel/task.h>
#include <kernel/thread.h>
#include <kernel/trace.h>

static struct prog progs[BOOT_MAX_MODULES + 1];
static struct prog *running; /* the program being run, or NULL */
static struct task *servers[4]; /* programs left running (sigma0) */

/* Kernel pages held by the servers: they grow while serving a program
 * (sigma0's page tables fill in lazily), which is not the program's leak. */
static u64 server_pages(void)
{
    u64 n = 0;
    for (u32 i = 0; i < ARRAY_SIZE(servers); i++)
        if (servers[i] && task_alive(servers[i]))
            for (int k = 0; k < KMEM_NTYPES; k++)
                n += servers[i]->kmem.pages[k];
    return n;
}

static void set_name(struct prog *p, const char *path)
{
    const char *base = path;
    for (const char *s = path; *s && *s != ' '; s++)
        if (*s == '/')
            base = s + 1;
    usize n = 0;
    while (base[n] && base[n] != ' ' && n < sizeof p->name - 1)
        n++;
    memcpy(p->name, base, n);
    p->name[n] = 0;
}

/* The stack: kernel-owned root mappings, so the program may map its own
 * stack pages on to tasks it creates, like any other page of its. */
static bool map_stack(struct task *t)
{
    for (u64 i = 1; i <= PROG_STACK_PAGES; i++) {
        u64 f = frame_alloc();
        if (!f)
            return false;
        memset(phys_to_virt(f), 0, PAGE_SIZE);
        if (mapdb_map_root(t, PROG_STACK_TOP - i * PAGE_SIZE, f, KM_R | KM_W, true)) {
            frame_free(f);
            return false;
        }
    }
    return true;
}

/* Root task hand-over: the other boot modules' images, read-only at
 * KM_BOOTMOD_AREA, and the page at KM_BOOTINFO that lists them.  The
 * images stay the loader's frames (not kernel-owned: never freed). */
static const char *hand_over(struct task *t, const struct boot_module *mods, u32 n,
                             u32 first_index)
{
    u64 bp = frame_alloc();
    if (!bp)
        return "out of memory for the boot info page";
    struct km_bootinfo *bi = phys_to_virt(bp);
    memset(bi, 0, PAGE_SIZE);
    if (mapdb_map_root(t, KM_BOOTINFO, bp, KM_R, true)) {
        frame_free(bp);
        return "out of memory for the boot info page";
    }
    u64 va = KM_BOOTMOD_AREA;
    for (u32 i = 0; i < n && i < KM_BOOTINFO_MAX; i++) {
        u64 first = ALIGN_DOWN(mods[i].phys, PAGE_SIZE);
        u64 end = ALIGN_UP(mods[i].phys + mods[i].size, PAGE_SIZE);
        for (u64 p = first; p < end; p += PAGE_SIZE)
            if (mapdb_map_root(t, va + (p - first), p, KM_R, false))
                return "out of memory for the boot modules";
        strlcpy(bi->mod[i].name, mods[i].name, sizeof bi->mod[i].name);
        bi->mod[i].va = va + (mods[i].phys - first);
        bi->mod[i].size = mods[i].size;
        bi->nmodules = i + 1;
        va += end - first + PAGE_SIZE; /* a guard page between images */
    }
    bi->first_index = first_index;
    return NULL;
}

/* Blocks the runner until `what` wakes it (program end, task gone). */
static void runner_sleep(u64 what)
{
    struct thread *self = sched_current();
    self->ext->waiting_for = what;
    self->state = TS_WAITING;
    schedule();
    self->ext->waiting_for = 0;
}

static struct thread *start(struct prog *p, const struct boot_module *m, u32 task_flags,
                            const struct boot_module *handover, u32 nhandover)
{
    p->task = task_create(NULL);
    if (!p->task) {
        printk("kmemlab: program %u (%s): no memory for a task\n", p->index, p->name);
        return NULL;
    }
    p->task->flags |= TASK_F_PROGRAM | task_flags;
    u64 entry;
    const char *err = elf_load(phys_to_virt(m->phys), m->size, p->task, &entry);
    if (!err && !map_stack(p->task))
        err = "out of memory for the stack";
    if (!err && handover)
        err = hand_over(p->task, handover, nhandover, p->index + 1);
    struct thread *t = NULL;
    if (!err && !(t = thread_create(p->task, KM_NILTHREAD, KM_PRIO_DEFAULT, 0)))
        err = "out of memory for the main thread";
    if (err) {
        printk("kmemlab: program %u (%s): not loaded: %s\n", p->index, p->name, err);
        task_delete(p->task);
        return NULL;
    }
    t->flags |= TF_MAIN;
    thread_set_user_regs(t, entry, PROG_STACK_TOP);
    printk("kmemlab: program %u (%s) starts\n", p->index, p->name);
    trace(PROG_START, p->index, entry);
    sched_wake(t);
    return t;
}

struct thread *prog_start_server(const struct boot_module *m, u32 index, u32 task_flags)
{
    struct prog *p = &progs[index];
    memset(p, 0, sizeof *p);
    p->index = index;
    set_name(p, m->name[0] ? m->name : "unnamed");
    struct thread *t = start(p, m, task_flags, NULL, 0);
    for (u32 i = 0; t && i < ARRAY_SIZE(servers); i++)
        if (!servers[i]) {
            servers[i] = t->task;
            break;
        }
    return t;
}

/* Runs with the kernel lock held (the runner is a kernel thread). */
i32 prog_run(const struct boot_module *m, u32 index, const struct boot_module *handover,
             u32 nhandover)
{
    struct prog *p = &progs[index];
    memset(p, 0, sizeof *p);
    p->index = index;
    set_name(p, m->name[0] ? m->name : "unnamed");
    u64 free_before = frame_free_count() + server_pages();
    if (start(p, m, 0, handover, nhandover)) {
        running = p;
        while (!p->done)
            runner_sleep((u64)p);
        running = NULL;
        trace(PROG_EXIT, index, p->status);
        task_delete(p->task);
        while (task_alive(p->task)) /* threads still on other CPUs */
            runner_sleep((u64)p->task);
        printk("kmemlab: program %u (%s) exited with status %d\n", index, p->name, p->status);
    } else {
        p->status = PROG_STATUS_NOLOAD;
    }
    u64 free_after = frame_free_count() + server_pages();
    if (free_after != free_before)
        printk("kmemlab: program %u (%s): frames free before %lu, after %lu (leak)\n", index,
               p->name, free_before, free_after);
    return p->status;
}

u32 prog_index_of(const struct task *t)
{
    return running && t && task_controls(running->task, t) ? running->index : 0;
}

void prog_end(struct task *t, i32 status)
{
    struct prog *p = running;
    if (!p || p->done || !t || !task_controls(p->task, t))
        return;
    p->status = status;
    p->done = true;
    for (u32 i = 1; i < THREAD_MAX; i++) { /* wake the runner */
        struct thread *w = &thread_table[i];
        if (w->state == TS_WAITING && w->ext && w->ext->waiting_for == (u64)p)
            sched_wake(w);
    }
}

void prog_fault(u64 vector, const char *what, u64 error, u64 rip, u64 addr)
{
    struct thread *self = sched_current();
    struct prog *p = running;
    trace(USER_FAULT, vector, addr);
    printk("kmemlab: program %u (%s) killed: exception %lu (%s), error 0x%lx, rip 0x%lx, "
           "address 0x%lx\n",
           p ? p->index : 0, p ? p->name : "?", vector, what, error, rip, addr);
    prog_end(self->task, PROG_STATUS_FAULT + (i32)vector);
    thread_delete(self);
    schedule(); /* never returns: the thread is dead */
    panic("prog_fault: a dead thread ran again");
}
