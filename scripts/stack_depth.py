#!/usr/bin/env python3
"""stack_depth.py: the worst-case depth of a user thread's kernel stack, from
GCC's per-object call graphs (-fcallgraph-info=su: build/kernel/**/*.ci, each
function's frame in bytes as -fstack-usage reports it, its return address
included) and the tables below for what GCC cannot see.

Usage: scripts/stack_depth.py [--objdir DIR] [--elf FILE] [--src DIR]
                              [--check BYTES] [--top N] [--tables] [--config FILE.json]
  --objdir DIR   where the .ci files are (default build/kernel, searched
                 recursively; kernel/kernel.mk has GCC write them)
  --elf FILE     the linked kernel (build/kernel.elf): every direct call or
                 jump between functions in its code (objdump -d) must be in
                 the graph, every call from assembly to C must be an entry's
                 or the asm table's; a call GCC made only as a tail call
                 (jmp) does not count the caller's frame (it is gone then).
                 Without it every call counts the caller's whole frame.
  --src DIR      the source tree (default: this script's repository): the
                 indirect table's "sources" patterns are checked there (every
                 function named where a pointer is set must be a target)
  --check BYTES  exit 1 when the worst case exceeds BYTES
  --top N        how many of the deepest distinct paths to print (default 5)
  --tables       print the tables (JSON) and exit
  --config FILE  JSON replacing the built-in tables (same keys as TABLES;
                 tests/sh/stack_depth.sh uses it on hand-made graphs)

Exit status: 0 fine; 1 the worst case exceeds --check; 2 the graph cannot be
bounded (an indirect call not in the table, a recursion without a bound, a
dynamic frame without a bound, a call to a function with no frame and no
assembly entry, a call in the binary the graph lacks, a function the tables'
reasoning needs gone, a pointer set in the code to a function the indirect
table does not list) or bad input.  Errors and warnings go to stderr.

How the depth is counted.  A path starts at an entry: the bytes already on
the thread's kernel stack when the entry's assembly calls C (with each entry
below, from entry.S and switch.S: what they push), then the frames of the
functions called.  Functions in a recursion count once per activation, at
most their bound of activations on one stack; the tool checks that every
cycle of the graph goes through a bounded function.  The graph is the
same for every caller, so it also holds paths the code cannot take; the
"flags" and "excluded" tables rule out the ones shown impossible (each with
its reason and where in the code), and the rest stay in: the figure is an
upper bound.  Paths into functions that end the run ("fatal": panic) are
reported apart and not counted (a panic deep in the kernel needs more than
the stack: see the report's "not counted" line).

What runs on a user thread's kernel stack (one page: struct thread_ext, then
the stack, 3,912 bytes; tests/sh/stack_depth.sh takes the size from
kernel/include/kernel/thread.h): system calls (syscall_entry), traps and
interrupts from user mode (isr_common), and from the context switch the
first run of a new thread (thread_start_user), a thread restored from its
continuation (thread_resume_syscall) and arch_switch_user's return from
next's syscall frame (ipc_resume_user); arch_switch itself is a function of
the graph (its callees on prev's stack; sched_reap on next's, at the depth
next was switched out at).  Interrupts taken in kernel mode push onto the
same stack: the kernel runs with interrupts off except in klock_wait's
window (on a user thread's stack: at the start of syscall_dispatch and of
trap_dispatch's from_user, the "irq_windows") and the idle loop's hlt (a
kernel thread); kernel/include/kernel/trace.h, tests/sh/irq_off.sh.  The
tool adds the kernel-mode interrupt's depth (kernel_trap) on top of each
window.  NMI, #DF and #MC run on IST stacks (trap.c idt_init); any other
exception in kernel mode panics.  Kernel threads (two pages: idle, runner,
loader) are not counted here.
"""
import argparse
import glob
import json
import os
import re
import subprocess
import sys

# ---- the tables ------------------------------------------------------------
TABLES = {
    # Entries that run on a user thread's kernel stack: name -> base bytes on
    # the stack (from its top) when the assembly at label "asm" calls the C
    # functions listed ("calls"); "why" says where the bytes come from.  With
    # --elf every call from assembly to C must be an entry's or the asm
    # table's, or the assembly be in asm_elsewhere; and where "pushes" is
    # given, the label's instructions up to the call must push that many
    # words (push, pop, sub/add of rsp, in address order), so that a change
    # of entry.S or switch.S shows here.
    "entries": {
        "syscall": {
            "pushes": 16, "asm": "syscall_entry", "base": 128, "calls": ["syscall_dispatch"],
            "why": "entry.S syscall_entry: rsp = percpu.kstack_top (the thread's stack top, "
                   "switch.S SWITCH_OUT), 16 pushes (struct syscall_frame) = 128"},
        "syscall_bad_rip": {
            "asm": "syscall_bad_rip", "base": 80, "calls": ["syscall_bad_return"],
            "why": "entry.S syscall_bad_rip: the syscall frame less rbx..r15 (add $48) = 80"},
        "trap_from_user": {
            "pushes": 15, "asm": "isr_common", "base": 176, "calls": ["trap_dispatch"],
            "why": "entry.S isr_common from user mode: TSS rsp0 = the stack top; CPU 5 words "
                   "(ss rsp rflags cs rip) + error code + vector + 15 registers = 176 "
                   "(struct trap_frame)"},
        "new_thread_switch_in": {
            "asm": "arch_switch", "base": 192, "calls": ["sched_reap"],
            "why": "switch.S arch_switch into a new user thread: its switch frame is below "
                   "its trap frame (context.c arch_thread_init_user); after the 6 pops rsp is "
                   "at the return slot (176 + 8), sub $8, call sched_reap = 192"},
        "thread_start_user": {
            "pushes": 0, "asm": "thread_start_user", "base": 176, "calls": ["thread_first_run"],
            "why": "switch.S thread_start_user: rsp at the trap frame (176) at the stack top"},
        "resume_switch_in": {
            "asm": "arch_switch", "base": 144, "calls": ["sched_reap"],
            "why": "switch.S arch_switch into a restored thread: switch frame below its syscall "
                   "frame (context.c arch_thread_init_resume): 128 + 8 + sub $8 = 144"},
        "thread_resume_syscall": {
            "pushes": 0, "asm": "thread_resume_syscall", "base": 128, "calls": ["tcb_page_resume_ipc"],
            "why": "switch.S thread_resume_syscall: rsp at the syscall frame (128)"},
        "switch_user_resume": {
            "asm": "arch_switch_user", "base": 128, "calls": ["ipc_resume_user"],
            "why": "switch.S arch_switch_user: rsp = next's syscall frame (ext->uframe, 128 "
                   "from the top), call ipc_resume_user"},
    },
    # An interrupt taken in kernel mode (counted on top of each irq window).
    # trap_dispatch in kernel mode (cs & 3 == 0) reaches only these callees:
    # halt_ipi's (trace_stop_local, lapic_eoi), arch_tlb_ipi, lapic_eoi,
    # printk ("unexpected interrupt"), and kernel_fault's panic (an
    # exception: fatal, reported apart); from_user (inlined into it) is not
    # taken.
    "kernel_trap": {
        "base": 184, "function": "trap_dispatch",
        "calls": ["trace_stop_local", "lapic_eoi", "arch_tlb_ipi", "printk", "panic"],
        "why": "entry.S isr_common from kernel mode: no stack switch; the CPU aligns rsp "
               "down to 16 (up to 8) and pushes 5 words, then error code + vector + 15 "
               "registers: 8 + 176 = 184"},
    # Where interrupts are on while a user thread's stack is in use:
    # klock_wait's "sti; nop; pause; nop; cli" (kernel/include/kernel/klock.h),
    # inlined through klock_acquire into these entry functions (the kernel
    # lock is taken on entry from user mode); the idle loop's hlt and the
    # other klock_acquire calls (sched.c idle loop, smp.c, main.c) run on
    # kernel threads' or boot stacks.  tests/sh/irq_off.sh checks that no
    # other sti exists.  An interrupt there costs the entry's base, the
    # function's frame and the kernel-mode interrupt (kernel_trap).
    "irq_windows": {
        "syscall_dispatch": "kernel/syscall.c: klock_acquire() at its start",
        "trap_dispatch": "kernel/arch/x86_64/trap.c: from_user's klock_acquire() (inlined)",
    },
    # Functions written in assembly that C calls: the bytes of their frame at
    # each call they make (their return address included), and at their
    # deepest point without a call ("frame").
    "asm": {
        "arch_switch": {
            "frame": 56, "calls": {"aspace_activate": 64, "aspace_activate_kernel": 64, "sched_reap": 16},
            "why": "switch.S: SWITCH_OUT pushes 6 registers (8 + 48 = 56 with the return "
                   "address), sub $8 before aspace_activate(_kernel) = 64; on next's side, "
                   "after the 6 pops, sub $8 then sched_reap: 8 + 8 = 16 on top of where next "
                   "called arch_switch"},
        "arch_switch_frameless": {
            "frame": 56, "calls": {"aspace_activate": 64, "aspace_activate_kernel": 64, "sched_reap": 16},
            "why": "switch.S: sub $48 (prev's unfilled switch frame) then as arch_switch: 56 with "
                   "the return address, sub $8 before aspace_activate(_kernel) = 64; on next's "
                   "side push %r8 then sched_reap: 8 + 8 = 16"},
        "arch_switch_user": {
            "frame": 56, "calls": {"aspace_activate": 64, "aspace_activate_kernel": 64},
            "why": "switch.S: SWITCH_OUT as arch_switch; next then runs from its syscall frame "
                   "(entry switch_user_resume), not on prev's stack"},
    },
    # Calls from C into assembly that GCC's call graph does not see (an
    # inline-asm `call`): caller (C, its name) -> the assembly functions it
    # calls.  read_elf refuses a C-to-assembly call in the binary that is
    # not in the graph, so a new one cannot go uncounted.
    "inline_asm": {
        "kfault_reply_go": {
            "calls": ["arch_switch_frameless"],
            "why": "arch/context.h arch_switch_frameless(): asm volatile(\"call arch_switch_frameless\") "
                   "with the callee-saved registers clobbered"},
    },
    # Assembly that calls C on other stacks than a user thread's (only its
    # indirect calls today; listed so that a direct call from it is known).
    "asm_elsewhere": {
        "long_entry": "boot.S: the boot CPU's boot stack (call *%rax: kmain)",
        "tramp64": "trampoline.S: an AP's boot stack (call *%rax)",
        "thread_start_kernel": "switch.S: kernel threads (two pages; call *%r12: the thread's function)",
    },
    # Indirect calls: the calling function (its name, without the file and
    # GCC's clone suffixes) -> every function its indirect calls can reach.
    # "sources": where in the code the pointers are set (file globs and a
    # regular expression); every function the matches name must be among
    # the targets, and a pattern that finds nothing is an error, so that a
    # new system call handler or sink cannot go uncounted.
    "indirect": {
        "syscall_dispatch": {
            "targets": ["sys_null", "sys_exit", "sys_puts", "sys_trace_marker", "sys_trace_ctl",
                        "sys_trace_probe", "sys_bench_submit", "sys_sysinfo", "sys_thread_create",
                        "sys_thread_delete", "sys_thread_control", "sys_task_create", "sys_task_delete",
                        "sys_unmap", "sys_exregs", "sys_yield", "sys_myself", "sys_kmem_info"],
            "why": "kernel/syscall.c handlers[] (sys_ipc is called directly)",
            "sources": [{"files": ["kernel/syscall.c"], "pattern": r"\[KM_SYS_\w+\]\s*=\s*(\w+)"}]},
        "kmem_op_wait": {
            "targets": ["kernel/ipc.c:xfer_kfault"],
            "why": "kernel/kmem.c op->wait: struct kmem_op's wait is set only in kernel/ipc.c "
                   "transfer_kmem (.wait = in_place ? xfer_kfault : NULL)",
            "sources": [{"files": ["kernel/*.c", "kernel/lib/*.c", "kernel/arch/x86_64/*.c"], "pattern": r"\bwait\s*=\s*([^;,}]*)"}]},
        "kvformat": {
            "targets": ["kernel/lib/format.c:buf_put"],
            "why": "kernel/lib/format.c: the sink; kvsnprintf (buf_put) is its only caller",
            "sources": [{"files": ["kernel/*.c", "kernel/lib/*.c", "kernel/arch/x86_64/*.c"], "pattern": r"\bkvformat\(\s*(\w+)"}]},
        "put_num": {
            "targets": ["kernel/lib/format.c:buf_put"],
            "why": "kernel/lib/format.c: kvformat's sink, passed on",
            "sources": [{"files": ["kernel/*.c", "kernel/lib/*.c", "kernel/arch/x86_64/*.c"], "pattern": r"\bkvformat\(\s*(\w+)"}]},
        "cmdline_parse": {
            "targets": ["kernel/options.c:report"],
            "why": "kernel/cmdline.c report(): options_parse's report is the only one (boot)",
            "sources": [{"files": ["kernel/*.c", "kernel/lib/*.c", "kernel/arch/x86_64/*.c"], "pattern": r"\bcmdline_parse\([^;]*,\s*(\w+)\s*\)"}]},
        "dump_write_frame": {
            "targets": ["arch_dump_write", "kernel/dump.c:text_put"],
            "why": "kernel/lib/dump_frame.c w->sink: main.c's arch_dump_write, or dump.c's "
                   "text_put (dump=com1) (end of run, the main kernel thread)",
            "sources": [{"files": ["kernel/*.c", "kernel/lib/*.c", "kernel/arch/x86_64/*.c"], "pattern": r"\bdump_writer_init\([^,]*,\s*(\w+)"},
                        {"files": ["kernel/*.c", "kernel/lib/*.c", "kernel/arch/x86_64/*.c"], "pattern": r"\bsink\s*=\s*(\w+)"}]},
        "text_flush": {
            "targets": ["arch_dump_write"],
            "why": "kernel/dump.c t->out: the sink text_put replaced (arch_dump_write)",
            "sources": [{"files": ["kernel/*.c", "kernel/lib/*.c", "kernel/arch/x86_64/*.c"], "pattern": r"\bdump_writer_init\([^,]*,\s*(\w+)"}]},
        "dump_run": {
            "targets": ["arch_dump_write"],
            "why": "kernel/dump.c t->out (text_flush inlined): arch_dump_write",
            "sources": [{"files": ["kernel/*.c", "kernel/lib/*.c", "kernel/arch/x86_64/*.c"], "pattern": r"\bdump_writer_init\([^,]*,\s*(\w+)"}]},
    },
    # Recursion: function -> the most activations of it on one stack.  Every
    # cycle of the call graph must go through one of these.
    "recursion": {
        "kfault_raise": {
            "bound": 2,
            "why": "kernel/kfault.c kpager_ready: a thread in a kernel message (TF_KMSG, set "
                   "from kfault_raise's IPC on) gets -KM_EDEADLK before any IPC (\"never a kernel "
                   "page fault inside one\"), and tcb_page_restore returns -KM_EDEADLK under "
                   "TF_KFAULT_IPC (kernel/tcb_page.c); the one nesting is kpager_ready restoring "
                   "an out kpager (tcb_page_restore -> kfault_raise), guarded by TF_RESTORING "
                   "(\"One level\")"},
        "request": {
            "bound": 1,
            "why": "kernel/tcb_page.c request(th) -> ipc_post_kmsg(th, kp): th has TF_KMSG, so "
                   "receive_from_blocked's transfer is transfer() (no transfer_kmem, no kernel "
                   "page fault); it completes th only with an error (finish(s, r < 0)) and "
                   "tcb_page_request_done asks again only when result >= 0; kp is in memory "
                   "(no complete_out for it)"},
        "thread_delete": {
            "bound": 1,
            "why": "kernel/tcb_page.c import calls thread_delete only when !in_completion, i.e. "
                   "from tcb_page_restore (import_supplied(th, false)); from thread_delete "
                   "(ipc_cancel -> finish -> complete_out) every import is in_completion"},
        "free_tables": {
            "bound": 4,
            "why": "kernel/arch/x86_64/pgtable.c: shift 39, 30, 21, 12; only shift > 12 recurses"},
        "count_tables": {
            "bound": 4,
            "why": "kernel/arch/x86_64/pgtable.c: shift 39, 30, 21, 12; shift 12 returns"},
        "next_node": {
            "bound": 3,
            "why": "kernel/arch/x86_64/pgtable.c: called with shift 39; recurses only while "
                   "shift > LEAF_SHIFT (21): 39, 30, 21"},
        "next_out": {
            "bound": 3,
            "why": "kernel/arch/x86_64/pgtable.c: as next_node (39, 30, 21)"},
    },
    # What the current thread's flags rule out (context the call graph does
    # not have): a flag is set on entering a function of "set" (or taking a
    # call "caller->callee" listed there), cleared on entering one of
    # "clear"; while it is set the calls of "forbids" are not taken, and the
    # calls of "allows" are taken only while it is set.  "requires": functions
    # that must stay out of line for the reasoning to hold; "callers": the
    # only callers a function may have for it to hold (both checked: a
    # change elsewhere in the kernel makes the tool stop, not go wrong).
    "flags": {
        "TF_KMSG": {
            "set": ["ipc_pagefault", "ipc_notify_pager", "ipc_kfault_call"],
            "clear": ["tcb_page_restore"],
            "forbids": ["kfault_raise->ipc_kfault_call", "kpager_ready->tcb_page_restore"],
            "callers": {"kfault_raise": ["xfer_kfault", "sys_thread_create", "unmap_restoring",
                                         "tcb_page_restore", "thread_utcb_fault"],
                        "tcb_page_restore": ["ipc", "kpager_ready", "sys_exregs"]},
            "why": "kernel/kfault.c kfault_raise: a thread in a kernel-made message (TF_KMSG: "
                   "ipc.c ipc_pagefault, ipc_notify_pager; kfault_raise itself) goes to "
                   "kpager_ready, which returns -KM_EDEADLK first thing (\"never a kernel page "
                   "fault inside one\"); tcb_page_restore clears TF_KMSG before its kfault_raise (tcb_page.c). "
                   "Every kfault_raise is for the current thread (thread.c, syscall.c, ipc.c "
                   "xfer_kfault's cur, tcb_page_restore's self)"},
        "TF_KFAULT_IPC": {
            "set": ["ipc_kfault_call"],
            "clear": [],
            "forbids": ["kfault_raise->ipc_kfault_call", "tcb_page_restore->kfault_raise"],
            "why": "kernel/tcb_page.c tcb_page_restore: -KM_EDEADLK under TF_KFAULT_IPC before "
                   "its kfault_raise (\"never a kernel page fault inside one\"); kfault_raise "
                   "sets it with TF_KMSG around ipc_kfault_call"},
        "NO_ITEMS": {
            "set": ["ipc_short", "ipc_pagefault", "ipc_notify_pager", "ipc_kfault_call"],
            "clear": ["receive_from_blocked", "ipc_items"],
            "forbids": ["ipc->transfer_kmem"],
            "callers": {"ipc_short": ["syscall_dispatch"]},
            "requires": ["kernel/ipc.c:receive_from_blocked", "kernel/ipc.c:transfer_kmem"],
            "why": "kernel/ipc.c: ipc's own call of transfer_kmem is its send phase (ipc_once, "
                   "transfer_op), which goes to transfer_kmem only for a message with typed "
                   "items from a user thread; ipc_short is only for messages without items "
                   "(syscall.c sys_ipc), and ipc_pagefault's, ipc_notify_pager's and "
                   "kfault_raise's messages are kernel-made (TF_KMSG: transfer_op takes "
                   "transfer()); direct_failed redoes the same message.  The receive phase "
                   "(receive_from_blocked, out of line: required) transfers the sender's "
                   "message and clears it"},
        "OP_WAIT": {
            "set": ["ipc->transfer_kmem"],
            "clear": ["xfer_kfault", "receive_from_blocked"],
            "allows": ["kmem_op_wait->xfer_kfault"],
            "callers": {"transfer_kmem": ["ipc", "receive_from_blocked"]},
            "requires": ["kernel/ipc.c:receive_from_blocked", "kernel/ipc.c:transfer_kmem"],
            "why": "kernel/kmem.c kmem_op_wait calls op->wait only for a kmem_op with a wait: "
                   "kernel/ipc.c transfer_kmem's, in place only (cur == snd: ipc's own send, "
                   "ipc_once's transfer_op(self, self, dst)); thread.c's and syscall.c's kmem_ops "
                   "have none.  kmem_op_wait sets kmem_op to NULL before the call (xfer_kfault "
                   "clears), and receive_from_blocked's transfers have cur != snd (clears)"},
    },
    # Call chains that cannot happen (consecutive calls, names without the
    # file), each with its reason ("callers" as for flags).
    "excluded": [
        {"chain": ["request", "import_supplied", "import", "thread_delete"],
         "why": "kernel/tcb_page.c: request calls import_supplied(th, true); import deletes "
                "only when !in_completion"},
        {"chain": ["ipc_cancel", "finish", "complete_out", "tcb_page_request_done", "request"],
         "why": "kernel/ipc.c ipc_cancel finishes every thread with -KM_ECANCELED; "
                "tcb_page_request_done (tcb_page.c) asks again only when result >= 0"},
        {"chain": ["request", "ipc_post_kmsg", "receive_from_blocked", "finish", "complete_out",
                   "tcb_page_request_done", "import_supplied"],
         "why": "kernel/tcb_page.c request returns when import_supplied finds both pages; the "
                "message it posts carries no items, so no page arrives before "
                "tcb_page_request_done (got == 2 impossible)"},
        {"chain": ["request", "ipc_post_kmsg", "receive_from_blocked", "complete_out",
                   "tcb_page_request_done", "import_supplied"],
         "why": "as above (finish inlined)"},
        {"chain": ["tcb_page_request_done", "import_supplied", "import", "thread_delete"],
         "why": "kernel/tcb_page.c: tcb_page_request_done calls import_supplied(th, true)"},
        {"chain": ["ipc_post_kmsg", "receive_from_blocked", "mapdb_transfer"],
         "callers": {"ipc_post_kmsg": ["request"]},
         "why": "kernel/ipc.c: ipc_post_kmsg's sender is a kernel-made message (TF_KMSG, "
                "tcb_page.c request), which carries no typed items (transfer_op), so transfer() "
                "applies none"},
        {"chain": ["ipc_post_kmsg", "receive_from_blocked", "kfault_accept"],
         "callers": {"ipc_post_kmsg": ["request"]},
         "why": "as above: no items"},
        {"chain": ["ipc_post_kmsg", "receive_from_blocked", "transfer_kmem"],
         "callers": {"ipc_post_kmsg": ["request"]},
         "why": "kernel/tcb_page.c request sets TF_KMSG on th before ipc_post_kmsg(th, kp) "
                "(its only caller); receive_from_blocked(kp, th)'s transfer_op takes transfer() "
                "for a TF_KMSG sender (kernel/ipc.c), never transfer_kmem"},
    ],
    # Functions that end the run (never return to the thread): paths into
    # them are reported apart, as fatal, and not in the worst case.
    "fatal": {
        "panic": "kernel/printk.c: prints and machine_exit(KM_EXIT_PANIC)",
        "frame_bad": "kernel/frame.c: panic(\"%s: bad frame %lx\")",
    },
    # Dynamic stack (alloca, VLAs: "dynamic" without "bounded"): function ->
    # its most bytes.  None in the kernel today.
    "dynamic": {},
}

# ---- reading GCC's output -------------------------------------------------
NODE = re.compile(r'^node: \{ title: "([^"]*)" label: "([^"]*)"')
EDGE = re.compile(r'^edge: \{ sourcename: "([^"]*)" targetname: "([^"]*)"(?: label: "([^"]*)")?')
SIZE = re.compile(r'\\n(\d+) bytes \(([a-z,]+)\)')
INDIRECT = "__indirect_call"


class Fail(Exception):
    pass


def base_name(title):
    """'kernel/ipc.c:finish.part.0' -> 'finish'."""
    name = title.rsplit(":", 1)[-1]
    return re.sub(r"\.(part|constprop|isra|cold|lto_priv)\.\d+$", "", re.sub(r"\.(constprop|isra)\.\d+", "", name))


def read_graph(objdir):
    files = sorted(glob.glob(os.path.join(objdir, "**", "*.ci"), recursive=True))
    if not files:
        raise Fail(f"no .ci files under {objdir} (build the kernel with -fcallgraph-info=su: make kernel)")
    frames, where, qual, calls = {}, {}, {}, {}
    for f in files:
        with open(f, encoding="utf-8", errors="replace") as fh:
            for line in fh:
                m = NODE.match(line)
                if m:
                    s = SIZE.search(m.group(2))
                    if s:  # a function defined here (no size: an external declaration)
                        t = m.group(1)
                        frames[t] = int(s.group(1))
                        qual[t] = s.group(2)
                        where[t] = m.group(2).split("\\n")[1] if "\\n" in m.group(2) else f
                    continue
                m = EDGE.match(line)
                if m:
                    # (calls to a part GCC split off carry no location)
                    calls.setdefault(m.group(1), []).append((m.group(2), m.group(3) or "?"))
    return files, frames, where, qual, calls


class Analysis:
    def __init__(self, tables, objdir, elf=None, srcdir="."):
        self.t = tables
        self.srcdir = srcdir
        self.tail = set()
        self.elf_checked = None
        self.files, self.frame, self.where, self.qual, raw = read_graph(objdir)
        self.errors = []
        self.warnings = []
        # asm functions: nodes with their own frame and per-callee depths
        self.asm_at = {}  # (asm fn, callee) -> bytes of the asm frame at that call
        for name, a in self.t["asm"].items():
            if name in self.frame:
                self.errors.append(f"asm table: {name} is also a C function")
                continue
            self.frame[name] = int(a["frame"])
            self.where[name] = "assembly"
            self.qual[name] = "asm"
            for c, b in a["calls"].items():
                self.asm_at[(name, c)] = int(b)
            raw[name] = [(c, "asm") for c in a["calls"]]
        by_base = {}
        for n in self.frame:
            by_base.setdefault(base_name(n), []).append(n)
        self.by_base = by_base
        # dynamic frames
        for n, q in self.qual.items():
            if "dynamic" in q and "bounded" not in q:
                b = self.t["dynamic"].get(base_name(n), self.t["dynamic"].get(n))
                if b is None:
                    self.errors.append(f"dynamic stack without a bound: {n} ({self.where[n]}: "
                                       f"{self.frame[n]} bytes + alloca/VLA): add it to the dynamic table")
                else:
                    self.frame[n] = int(b)
        # edges, indirect calls resolved
        self.succ = {n: [] for n in self.frame}
        self.indirect_sites = []
        used_ind = set()
        for src, es in raw.items():
            if src not in self.frame:
                continue
            seen = set()
            for dst, loc in es:
                if dst == INDIRECT:
                    self.indirect_sites.append((src, loc))
                    key = base_name(src)
                    ent = self.t["indirect"].get(src) or self.t["indirect"].get(key)
                    if ent is None:
                        self.errors.append(f"unresolved indirect call in {src} at {loc}: add its "
                                           f"targets to the indirect table")
                        continue
                    used_ind.add(src if src in self.t["indirect"] else key)
                    targets = [self.resolve(x, f"indirect table ({key})") for x in ent["targets"]]
                    targets = [x for x in targets if x]
                else:
                    targets = [dst] if dst in self.frame else []
                    if not targets:
                        self.errors.append(f"call from {src} at {loc} to {dst}: no frame known (not "
                                           f"compiled with -fcallgraph-info, or assembly not in the asm table)")
                for d in targets:
                    if d not in seen:
                        seen.add(d)
                        self.succ[src].append(d)
        for caller, ent in self.t.get("inline_asm", {}).items():
            srcs = self.by_base.get(caller, [])
            if not srcs:
                self.errors.append(f"inline_asm table: no function {caller} in the call graph")
            for src in srcs:
                for c in ent["calls"]:
                    if self.where.get(c) != "assembly":
                        self.errors.append(f"inline_asm table: {c} (called by {caller}) is not in the asm table")
                    elif c not in self.succ[src]:
                        self.succ[src].append(c)
        self.check_sources()
        for k in self.t["indirect"]:
            if k not in used_ind:
                self.warnings.append(f"indirect table: no indirect call in {k} any more")
        self.check_recursion()
        if elf:
            self.read_elf(elf)
        self.flag_set, self.flag_clear, self.flag_forbid, self.flag_set_edge = {}, {}, {}, {}
        self.flag_allow = {}
        for fl, e in self.t.get("flags", {}).items():
            for f in e.get("set", []):
                if "->" in f:
                    a, _, b = f.partition("->")
                    self.flag_set_edge.setdefault((a.strip(), b.strip()), set()).add(fl)
                else:
                    self.flag_set.setdefault(f, set()).add(fl)
            for f in e.get("clear", []):
                self.flag_clear.setdefault(f, set()).add(fl)
            for c in e.get("allows", []):
                a, _, b = c.partition("->")
                self.flag_allow.setdefault((a.strip(), b.strip()), set()).add(fl)
            for c in e.get("forbids", []):
                a, _, b = c.partition("->")
                self.flag_forbid.setdefault((a.strip(), b.strip()), set()).add(fl)
        self.excluded = [tuple(e["chain"]) for e in self.t.get("excluded", [])]
        self.prefixes = {c[:i] for c in self.excluded for i in range(1, len(c))}
        self.fatal = set(self.t.get("fatal", {}))
        for e in list(self.t.get("flags", {}).values()) + list(self.t.get("excluded", [])):
            for f, allowed in e.get("callers", {}).items():
                targets = self.by_base.get(f, [f] if f in self.frame else [])
                if not targets:
                    self.errors.append(f"tables name {f} (callers), which is no function of the kernel")
                for t in targets:
                    extra = sorted(v for v in self.succ if t in self.succ[v] and base_name(v) not in allowed)
                    if extra:
                        self.errors.append(f"{t} has callers the tables' reasoning does not know: "
                                           f"{', '.join(extra)} ({e['why'][:70]}...): look at the table again")
            for f in e.get("requires", []):
                if f not in self.frame:
                    self.errors.append(f"{f} is not an out-of-line function any more, which the "
                                       f"tables' reasoning needs ({e['why'][:60]}...): look at the table again")
        for f in list(self.fatal) + [b for c in self.excluded for b in c] + \
                [x for k in list(self.flag_forbid) + list(self.flag_set_edge) + list(self.flag_allow) for x in k] + \
                list(self.flag_set) + list(self.flag_clear):
            if f not in self.by_base and f not in self.frame:
                self.warnings.append(f"tables name {f}, which is no function of the kernel")
        # (the tables match functions by name without the file: one each)
        for f in set(self.fatal) | {b for c in self.excluded for b in c} | \
                {x for k in list(self.flag_forbid) + list(self.flag_set_edge) + list(self.flag_allow) for x in k} | \
                set(self.flag_set) | set(self.flag_clear) | set(self.t["recursion"]):
            if ":" not in f and len(self.by_base.get(f, [])) > 1:
                self.errors.append(f"tables name {f}, which is the name of several functions: "
                                   + ", ".join(self.by_base[f]))

    def enter(self, w, flags, ctx, v):
        """The state after calling w from v (flags: frozenset, ctx: the path's
        suffix that starts an excluded chain), or None when the call cannot
        happen."""
        bv, bw = base_name(v), base_name(w)
        if flags and self.flag_forbid.get((bv, bw), set()) & flags:
            return None
        need = self.flag_allow.get((bv, bw))
        if need and not need & flags:
            return None
        c = ctx + (bw,)
        if any(c[i:] in self.excluded_set for i in range(len(c))):
            return None
        while c and c not in self.prefixes:
            c = c[1:]
        f = (flags - self.flag_clear.get(bw, set())) | self.flag_set.get(bw, set()) | \
            self.flag_set_edge.get((bv, bw), set())
        return frozenset(f), c

    def check_sources(self):
        """The indirect table against the code that sets the pointers."""
        for caller, ent in self.t["indirect"].items():
            targets = set(ent["targets"]) | {t.rsplit(":", 1)[-1] for t in ent["targets"]}
            for src in ent.get("sources", []):
                files = sorted({f for g in src["files"] for f in glob.glob(os.path.join(self.srcdir, g))})
                if not files:
                    self.errors.append(f"indirect table ({caller}): no file {src['files']} under {self.srcdir}")
                    continue
                found = 0
                for f in files:
                    with open(f, encoding="utf-8", errors="replace") as fh:
                        text = fh.read()
                    for m in re.finditer(src["pattern"], text):
                        found += 1
                        for g in m.groups():
                            for name in re.findall(r"[A-Za-z_]\w*", g or ""):
                                if name in self.by_base and name not in targets:
                                    self.errors.append(
                                        f"indirect table ({caller}): {os.path.relpath(f, self.srcdir)} names "
                                        f"{name} ({m.group(0).strip()[:60]}), which is not among its targets")
                if not found:
                    self.errors.append(f"indirect table ({caller}): the pattern {src['pattern']} finds nothing "
                                       f"in {src['files']}: look at the table again")

    def resolve(self, name, what):
        if name in self.frame:
            return name
        c = self.by_base.get(name, [])
        if len(c) == 1:
            return c[0]
        self.errors.append(f"{what}: {name}: " + ("no such function" if not c else
                                                   "ambiguous, name it file:function: " + ", ".join(c)))
        return None

    def sccs(self, nodes, succ):
        """Tarjan, iterative: list of components (lists)."""
        index, low, onst, st, out = {}, {}, set(), [], []
        counter = 0
        for root in nodes:
            if root in index:
                continue
            work = [(root, 0)]
            while work:
                v, i = work.pop()
                if i == 0:
                    index[v] = low[v] = counter
                    counter += 1
                    st.append(v)
                    onst.add(v)
                nxt = [w for w in succ.get(v, ()) if w in nodes]
                recurse = False
                while i < len(nxt):
                    w = nxt[i]
                    i += 1
                    if w not in index:
                        work.append((v, i))
                        work.append((w, 0))
                        recurse = True
                        break
                    if w in onst:
                        low[v] = min(low[v], index[w])
                if recurse:
                    continue
                if low[v] == index[v]:
                    comp = []
                    while True:
                        w = st.pop()
                        onst.discard(w)
                        comp.append(w)
                        if w == v:
                            break
                    out.append(comp)
                if work:
                    u = work[-1][0]
                    low[u] = min(low[u], low[v])
        return out

    def check_recursion(self):
        nodes = set(self.frame)
        comps = self.sccs(sorted(nodes), self.succ)
        self.scc_of = {}
        self.bound = {}
        for n in nodes:
            e = self.t["recursion"].get(n) or self.t["recursion"].get(base_name(n))
            if e is not None:
                self.bound[n] = int(e["bound"])
        self.cycles = []
        used = set()
        for i, comp in enumerate(comps):
            for n in comp:
                self.scc_of[n] = i
            cyclic = len(comp) > 1 or comp[0] in self.succ.get(comp[0], ())
            if not cyclic:
                continue
            self.cycles.append(sorted(comp))
            for n in comp:
                if n in self.bound:
                    used.add(base_name(n))
                    used.add(n)
            # without the bounded functions no cycle may remain
            rest = set(comp) - set(self.bound)
            for sub in self.sccs(sorted(rest), self.succ):
                if len(sub) > 1 or sub[0] in self.succ.get(sub[0], ()):
                    self.errors.append("recursion without a bound: " + self.cycle_text(sub) +
                                       ": add one of these functions to the recursion table")
        for k in self.t["recursion"]:
            if k not in used:
                self.warnings.append(f"recursion table: {k} is in no cycle any more")

    def cycle_text(self, comp):
        comp = set(comp)
        start = sorted(comp)[0]
        path, seen, v = [start], {start}, start
        while True:
            nxt = [w for w in self.succ[v] if w in comp]
            w = next((x for x in nxt if x == start), None) or next((x for x in nxt if x not in seen), nxt[0])
            path.append(w)
            if w in seen:
                break
            seen.add(w)
            v = w
        return " -> ".join(path)

    # ---- depth ------------------------------------------------------------
    def depth(self, v, counts, flags, ctx, fatal):
        """Worst (bytes, path) from v's entry, v's own frame included;
        counts: activations of bounded functions in v's component so far;
        fatal: the worst path that ends in a fatal function instead (or
        the worst that does not)."""
        key = (v, counts, flags, ctx, fatal)
        if key in self.memo:
            return self.memo[key]
        if base_name(v) in self.fatal or v in self.fatal:
            r = (self.frame[v], [(v, self.frame[v])]) if fatal else (0, [])
            if not fatal:
                r = (-1, [])  # not a path that returns
            self.memo[key] = r
            return r
        best, best_path = (-1, []) if fatal else (self.frame[v], [(v, self.frame[v])])
        for w, st, c2 in self.calls_from(v, counts, flags, ctx):
            d, p = self.depth(w, c2, st[0], st[1], fatal)
            if d < 0:
                continue
            own = self.own(v, w)
            if own + d > best:
                best, best_path = own + d, [(v, own)] + p
        self.memo[key] = (best, best_path)
        return best, best_path

    def own(self, v, w):
        """Bytes of v's frame on the stack while v's call of w runs: an
        assembly function's at that call; 0 for a call GCC made only as a
        tail call (jmp: v's frame is gone, w reuses its return address)."""
        if (v, w) in self.asm_at:
            return self.asm_at[(v, w)]
        if (v, w) in self.tail:
            return 0
        return self.frame[v]

    def read_elf(self, elf):
        """The binary's direct calls and jumps to functions (objdump): every
        one must be in the call graph; those made only by jmp are tail
        calls."""
        try:
            dis = subprocess.run(["objdump", "-d", "--no-show-raw-insn", elf], capture_output=True,
                                 text=True, check=True).stdout
        except (OSError, subprocess.CalledProcessError) as e:
            raise Fail(f"objdump -d {elf}: {e}")
        nodes_of, asm_names = {}, set()
        for n in self.frame:
            if self.where.get(n) != "assembly":
                nodes_of.setdefault(n.rsplit(":", 1)[-1], []).append(n)
            else:
                asm_names.add(n)
        fn_re = re.compile(r"^[0-9a-f]+ <([^>]+)>:$")
        ins_re = re.compile(r"\t(call|jmp|j[a-z]+)\s+[0-9a-f]+ <([^>+]+)>$")
        cur, kinds, syms, insns = None, {}, set(), {}
        for line in dis.splitlines():
            m = fn_re.match(line)
            if m:
                cur = re.sub(r"\.cold$", "", m.group(1))  # a cold part runs in its function's frame
                syms.add(cur)
                continue
            parts = line.split("\t")
            if cur is not None and len(parts) >= 2 and parts[0].strip().endswith(":"):
                insns.setdefault(cur, []).append(parts[1].strip())
            m = ins_re.search(line)
            if not m or cur is None:
                continue
            tgt = re.sub(r"\.cold$", "", m.group(2))
            if tgt == cur:
                continue
            kinds.setdefault((cur, tgt), set()).add("call" if m.group(1) == "call" else "jmp")
        stale = sorted(n for name, ns in nodes_of.items() if name not in syms for n in ns)
        if stale:
            self.errors.append(f"{len(stale)} functions of the call graph are not in {elf} (.ci files of "
                               f"sources gone, or not the objects linked: make clean): {', '.join(stale[:5])}")
        for name, e in self.t["entries"].items():
            if "pushes" not in e:
                continue
            words, seen_call = 0, False
            for ins in insns.get(e.get("asm"), []):
                op = ins.split()[0]
                if op.startswith("call"):
                    seen_call = ins.endswith(f"<{e['calls'][0]}>")
                    break
                m = re.match(r"(sub|add)\s+\$0x([0-9a-f]+),%rsp$", ins)
                if op.startswith("push"):
                    words += 1
                elif op.startswith("pop"):
                    words -= 1
                elif m:
                    words += (1 if m.group(1) == "sub" else -1) * int(m.group(2), 16) // 8
            if not seen_call or words != e["pushes"]:
                self.errors.append(f"entry {name}: {e.get('asm')} in {elf} pushes {words} words before "
                                   f"calling {e['calls'][0]}, the table says {e['pushes']} "
                                   f"({'the call found' if seen_call else 'no such call first'}): "
                                   f"entry.S or switch.S changed, look at the entry again")
        self.tail = set()
        checked = 0
        covered = {(lab, c) for lab, a in self.t["asm"].items() for c in a["calls"]}
        covered |= {(e.get("asm"), c) for e in self.t["entries"].values() for c in e["calls"]}
        for (a, b), k in kinds.items():
            na, nb = nodes_of.get(a, []), nodes_of.get(b, [])
            if not na and nb and not a.endswith(".cold") and "call" in k and \
                    (a, b) not in covered and a not in self.t.get("asm_elsewhere", {}):
                self.errors.append(f"assembly {a} calls {b}: no entry or asm table entry says on which "
                                   f"stack and at which depth")
            if len(na) == 1 and b in asm_names and "call" in k and b not in self.succ[na[0]]:
                self.errors.append(f"the binary has C {a} calling assembly {b}, which the call graph lacks "
                                   f"(an inline-asm call: add it to the inline_asm table)")
            if len(na) != 1 or len(nb) != 1:
                continue  # not C, or a name two files use: left as the graph says
            na, nb = na[0], nb[0]
            checked += 1
            if nb not in self.succ[na]:
                self.errors.append(f"the binary has {a} {'calling' if 'call' in k else 'jumping to'} {b}, "
                                   f"which the call graph lacks")
            elif k == {"jmp"}:
                self.tail.add((na, nb))
        self.elf_checked = checked

    def calls_from(self, v, counts, flags, ctx, only=None):
        cv = dict(counts)
        for w in self.succ[v]:
            if only is not None and base_name(w) not in only and w not in only:
                continue
            st = self.enter(w, flags, ctx, v)
            if st is None:
                continue
            c2 = dict(cv) if self.scc_of[w] == self.scc_of[v] else {}
            if w in self.bound:
                if c2.get(w, 0) + 1 > self.bound[w]:
                    continue  # the recursion bound: no further activation
                c2[w] = c2.get(w, 0) + 1
            yield w, st, tuple(sorted(c2.items()))

    def start(self, f):
        counts = tuple(sorted({f: 1}.items())) if f in self.bound else ()
        flags = frozenset(self.flag_set.get(base_name(f), set()))
        ctx = (base_name(f),) if (base_name(f),) in self.prefixes else ()
        return counts, flags, ctx

    def from_fn(self, f, only=None, fatal=False):
        counts, flags, ctx = self.start(f)
        if only is None:
            return self.depth(f, counts, flags, ctx, fatal)
        # f restricted to some of its callees (the kernel-mode trap)
        best, path = (-1, []) if fatal else (self.frame[f], [(f, self.frame[f])])
        for w, st, c2 in self.calls_from(f, counts, flags, ctx, only):
            d, p = self.depth(w, c2, st[0], st[1], fatal)
            if d >= 0 and self.frame[f] + d > best:
                best, path = self.frame[f] + d, [(f, self.frame[f])] + p
        return best, path

    def run(self, top):
        self.memo = {}
        self.excluded_set = set(self.excluded)
        paths, fatal = [], []  # (total, entry, base, path)
        for name, e in self.t["entries"].items():
            for c in e["calls"]:
                f = self.resolve(c, f"entry {name}")
                if not f:
                    continue
                d, p = self.from_fn(f)
                paths.append((e["base"] + d, name, e["base"], p))
                d, p = self.from_fn(f, fatal=True)
                if d >= 0:
                    fatal.append((e["base"] + d, name, e["base"], p))
                # the distinct branches: each callee of the entry's function
                counts, flags, ctx = self.start(f)
                for w, st, c2 in self.calls_from(f, counts, flags, ctx):
                    d2, p2 = self.depth(w, c2, st[0], st[1], False)
                    if d2 < 0:
                        continue
                    own = self.own(f, w)
                    paths.append((e["base"] + own + d2, name, e["base"], [(f, own)] + p2))
        kt = self.t["kernel_trap"]
        ktrap = None
        if kt:
            f = self.resolve(kt["function"], "kernel_trap")
            if f:
                d, p = self.from_fn(f, only=set(kt["calls"]))
                ktrap = (kt["base"] + d, "kernel_trap", kt["base"], p)
                d, p = self.from_fn(f, only=set(kt["calls"]), fatal=True)
                if d >= 0:
                    fatal.append((kt["base"] + d, "kernel_trap", kt["base"], p))
        self.fatal_worst = max(fatal, key=lambda x: x[0]) if fatal else None
        # interrupts in the windows: on top of the window function's frame
        self.windows = []
        for wname in self.t.get("irq_windows", {}):
            w = self.resolve(wname, "irq_windows")
            if not w or not ktrap:
                if w and not ktrap:
                    self.errors.append("irq_windows without a kernel_trap entry")
                continue
            found = False
            for name, e in self.t["entries"].items():
                for c in e["calls"]:
                    if self.resolve(c, f"entry {name}") == w:
                        found = True
                        total = e["base"] + self.frame[w] + ktrap[0]
                        self.windows.append((total, name, e["base"], [(w, self.frame[w])] +
                                             [(f"[interrupt: {ktrap[1]}, {fmt(ktrap[2])} pushed]", ktrap[2])] +
                                             ktrap[3]))
            if not found:
                self.errors.append(f"irq window {wname} is not an entry's function: its depth at the "
                                   f"window is not known")
        # distinct: by the chain's first two functions (the branch taken)
        distinct, seen = [], set()
        for t in sorted(paths, key=lambda x: (-x[0], x[1])):
            k = tuple(f for f, _ in t[3][:2])
            if k in seen:
                continue
            seen.add(k)
            distinct.append(t)
        return distinct[0] if distinct else None, distinct[:top], ktrap


def fmt(n):
    return f"{n:,}"


def show_path(t, out):
    total, entry, base, path = t
    out.write(f"  {'bytes':>6} {'depth':>6}  function\n")
    out.write(f"  {fmt(base):>6} {fmt(base):>6}  [{entry}: assembly entry frame]\n")
    run = base
    for f, b in path:
        run += b
        out.write(f"  {fmt(b):>6} {fmt(run):>6}  {f}\n")


def main():
    ap = argparse.ArgumentParser(
        description="Worst-case kernel stack depth of a user thread from GCC's -fcallgraph-info=su output.",
        epilog="Exit status: 0 fine, 1 over the --check budget, 2 the graph cannot be bounded or bad input. "
               "The tables (entries, assembly frames, interrupt windows, indirect calls, recursion "
               "bounds, flags, excluded chains) are in the script: --tables prints them.")
    ap.add_argument("--objdir", default="build/kernel", help="directory searched for .ci files (default build/kernel)")
    ap.add_argument("--check", type=int, metavar="BYTES", help="exit 1 when the worst case exceeds BYTES")
    ap.add_argument("--elf", metavar="FILE",
                    help="the linked kernel (build/kernel.elf): its direct calls are checked against the "
                         "graph, and calls made only as tail calls (jmp) do not count the caller's frame")
    ap.add_argument("--src", default=os.path.dirname(os.path.dirname(os.path.abspath(__file__))),
                    help="the source tree the indirect table's \"sources\" are looked up in (default: the "
                         "repository this script is in)")
    ap.add_argument("--top", type=int, default=5, metavar="N", help="deepest distinct paths to print (default 5)")
    ap.add_argument("--tables", action="store_true", help="print the tables (JSON) and exit")
    ap.add_argument("--config", metavar="FILE", help="JSON tables replacing the built-in ones")
    a = ap.parse_args()

    tables = TABLES
    if a.config:
        try:
            with open(a.config, encoding="utf-8") as fh:
                tables = json.load(fh)
            for k in ("entries", "asm", "indirect", "recursion", "dynamic", "flags", "fatal", "irq_windows",
                      "asm_elsewhere", "inline_asm"):
                tables.setdefault(k, {})
            tables.setdefault("excluded", [])
            tables.setdefault("kernel_trap", None)
        except (OSError, ValueError, AttributeError) as e:
            print(f"stack_depth.py: {a.config}: {e}", file=sys.stderr)
            return 2
    if a.tables:
        json.dump(tables, sys.stdout, indent=2)
        print()
        return 0
    try:
        an = Analysis(tables, a.objdir, a.elf, a.src)
        if not an.errors:
            worst, tops, ktrap = an.run(a.top)
    except Fail as e:
        print(f"stack_depth.py: {e}", file=sys.stderr)
        return 2
    except (OSError, KeyError, TypeError, ValueError) as e:
        print(f"stack_depth.py: bad tables or input: {type(e).__name__}: {e}", file=sys.stderr)
        return 2
    for w in an.warnings:
        print(f"stack_depth.py: warning: {w}", file=sys.stderr)
    if an.errors:
        for e in an.errors:
            print(f"stack_depth.py: error: {e}", file=sys.stderr)
        print(f"stack_depth.py: {len(an.errors)} error(s): no bound computed", file=sys.stderr)
        return 2
    if worst is None:
        print("stack_depth.py: no entries", file=sys.stderr)
        return 2
    out = sys.stdout
    out.write(f"{len(an.files)} objects, {len(an.frame)} functions, {len(an.indirect_sites)} indirect call "
              f"sites (all resolved), {len(an.cycles)} recursions (all bounded)\n")
    if an.elf_checked is not None:
        out.write(f"{a.elf}: {an.elf_checked} direct calls between functions all in the graph, "
                  f"{len(an.tail)} of them tail calls only (jmp: the caller's frame not counted)\n")
    overall = max([worst] + an.windows, key=lambda x: x[0])
    budget = f" (budget {fmt(a.check)})" if a.check is not None else ""
    out.write(f"worst case: {fmt(overall[0])} bytes{budget}, from entry {overall[1]}:\n")
    show_path(overall, out)
    if overall is not worst:
        out.write(f"deepest path without an interrupt: {fmt(worst[0])} bytes from entry {worst[1]}\n")
    if ktrap:
        out.write(f"interrupt taken in kernel mode: {fmt(ktrap[0])} bytes ({fmt(ktrap[2])} pushed, "
                  f"then {' > '.join(f for f, _ in ktrap[3])}); taken only in the klock_wait windows:\n")
        for t in an.windows:
            out.write(f"  {fmt(t[0]):>6}  {t[1]} ({fmt(t[2])}) > {t[3][0][0]} ({fmt(t[3][0][1])}) > interrupt\n")
    if an.fatal_worst:
        fw = an.fatal_worst
        out.write(f"not counted: paths that end the run in {', '.join(sorted(an.fatal))}: deepest "
                  f"{fmt(fw[0])} bytes ({' > '.join(f for f, _ in fw[3][-3:])}, from entry {fw[1]})\n")
    out.write("deepest distinct paths (by entry and first call):\n")
    for t in tops:
        chain = " > ".join(f for f, _ in t[3])
        out.write(f"  {fmt(t[0]):>6}  {t[1]}: {chain}\n")
    if a.check is not None and overall[0] > a.check:
        print(f"stack_depth.py: worst case {fmt(overall[0])} bytes exceeds the budget of {fmt(a.check)} "
              f"by {fmt(overall[0] - a.check)}", file=sys.stderr)
        return 1
    if a.check is not None:
        out.write(f"within the budget: {fmt(overall[0])} <= {fmt(a.check)} ({fmt(a.check - overall[0])} to spare)\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
