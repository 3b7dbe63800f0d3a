/* Program runner: one boot module at a time on the boot CPU. */
#include <abi/trace.h>
#include <arch/current.h>
#include <arch/layout.h>
#include <arch/syscall.h>
#include <kernel/frame.h>
#include <kernel/mapdb.h>
#include <kernel/printk.h>
#include <kernel/prog.h>
#include <kernel/string.h>
#include <kernel/task.h>
#include <kernel/trace.h>

static struct prog progs[BOOT_MAX_MODULES + 1];
static struct prog *current[MAX_CPUS]; /* written by the owning CPU only */
static struct task prog_task; /* the running program's (one at a time) */

struct prog *prog_current(void) { return current[cpu_id()]; }

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

i32 prog_run(const struct boot_module *m, u32 index)
{
    struct prog *p = &progs[index];
    u64 free_before = frame_free_count();
    i32 status;
    p->index = index;
    set_name(p, m->name[0] ? m->name : "unnamed");
    struct task *t = &prog_task;
    memset(t, 0, sizeof *t);
    if (!aspace_create(t) || mapdb_task_init(t)) {
        printk("kmemlab: program %u (%s): no memory for an address space\n", index, p->name);
        return PROG_STATUS_NOLOAD;
    }
    p->as = t->as; /* syscall.c checks user pointers against p->as */
    const char *err = elf_load(phys_to_virt(m->phys), m->size, t, &p->entry);
    if (!err && !map_stack(t))
        err = "out of memory for the stack";
    if (err) {
        printk("kmemlab: program %u (%s): not loaded: %s\n", index, p->name, err);
        status = PROG_STATUS_NOLOAD;
    } else {
        printk("kmemlab: program %u (%s) starts\n", index, p->name);
        aspace_activate(&p->as);
        current[cpu_id()] = p;
        trace_set_thread(index);
        trace(PROG_START, index, p->entry);
        status = (i32)user_enter(p->entry, PROG_STACK_TOP);
        trace(PROG_EXIT, index, status);
        trace_set_thread(0);
        current[cpu_id()] = NULL;
        aspace_activate_kernel();
        printk("kmemlab: program %u (%s) exited with status %d\n", index, p->name, status);
    }
    mapdb_task_destroy(t);
    aspace_destroy(t);
    u64 free_after = frame_free_count();
    if (free_after != free_before)
        printk("kmemlab: program %u (%s): frames free before %lu, after %lu (leak)\n", index,
               p->name, free_before, free_after);
    return status;
}

void prog_fault(u64 vector, const char *what, u64 error, u64 rip, u64 addr)
{
    struct prog *p = prog_current();
    trace(USER_FAULT, vector, addr);
    printk("kmemlab: program %u (%s) killed: exception %lu (%s), error 0x%lx, rip 0x%lx, "
           "address 0x%lx\n",
           p ? p->index : 0, p ? p->name : "?", vector, what, error, rip, addr);
    user_exit_to_runner(PROG_STATUS_FAULT + (i64)vector);
}
