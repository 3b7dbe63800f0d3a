# user/user.mk: ring-3 runtime, benchmark programs and in-QEMU test programs.
# Included by the top-level Makefile (B = build directory).
#
#   make user          every program, as build/user/<name>.elf
#   BENCH_PROGS        benchmark ELFs, in run order (make bench runs them)
#   BENCH_PROGS_PENDING  built, not yet run: they wait for kernel features
#   GUEST_TEST_PROGS   test ELFs booted by the in-QEMU tests
#   GUEST_FAULT_PROGS  the subset that must be killed by a CPU exception
#                      (the kernel reports it and goes on with the next
#                      program; the run's exit status is then non-zero)
#
# Programs are static, freestanding x86-64 ELF executables linked at
# 0x400000 by user/user.ld: crt0 + the program + libkmu.a (syscall stubs,
# string, printf, tap, bench, L4 helpers).  The string functions and the
# formatter are the kernel's own (kernel/lib/string.c, kernel/lib/format.c),
# compiled again with the user flags.

USER_CC ?= gcc
USER_B := $(B)/user

# -mgeneral-regs-only: no SSE/x87 in user code, so programs do not depend on
# the kernel enabling or saving FPU state.  -fcf-protection=none: no endbr64
# in measured paths.
USER_CFLAGS := -std=gnu11 -ffreestanding -fno-pic -fno-pie -fno-stack-protector \
	-fcf-protection=none -fno-asynchronous-unwind-tables -mcmodel=small \
	-mgeneral-regs-only -O2 -g -Wall -Wextra -Wshadow -Werror=implicit-function-declaration \
	-Ikernel/abi/include -Iuser/include
USER_LDFLAGS := -nostdlib -static -no-pie -Wl,-T,user/user.ld -Wl,--build-id=none \
	-Wl,-z,noexecstack -Wl,-z,max-page-size=4096 -Wl,--no-dynamic-linker

USER_LIB_SRCS := user/lib/syscall.c kernel/lib/string.c kernel/lib/format.c \
	user/lib/printf.c user/lib/tap.c user/lib/bench.c user/lib/l4.c user/lib/l4_entry.S \
	user/lib/sigma0_client.c user/lib/kpager.c
USER_LIB_OBJS := $(patsubst %.S,$(USER_B)/obj/%.o,$(USER_LIB_SRCS:%.c=$(USER_B)/obj/%.o))
USER_CRT0 := $(USER_B)/obj/user/lib/crt0.o
USER_LIB := $(USER_B)/libkmu.a

# Benchmarks that need kernel features still in progress are built but not
# run by make bench until they work (then they move to USER_BENCH_NAMES).
USER_BENCH_NAMES := null_syscall trace_overhead ipc_roundtrip fault_simple map_unmap fault_complex kmem_usage kmem_revoke
# Run a second time, with kernel option kmem=kpager (make bench, make regress).
USER_KPAGER_BENCH_NAMES := fault_complex kmem_usage kmem_revoke
USER_BENCH_PENDING_NAMES :=
USER_TEST_NAMES := syscall_check smp_info user_fault_ud2 user_fault_pf spin \
	ipc_check mem_check syscall_fuzz teardown_check sigma0_check sched_check kpager_check \
	orphan_partner orphan_sender orphan_chain orphan_reserve orphan_revive orphan_linger orphan_handoff
# Servers: sigma0 (boot module 1 with kernel option sigma0) and the root
# task (the next module, with kernel option roottask).
SIGMA0_PROG := $(USER_B)/sigma0.elf
ROOTTASK_PROG := $(USER_B)/roottask.elf
BENCH_PROGS := $(USER_BENCH_NAMES:%=$(USER_B)/%.elf)
BENCH_PROGS_PENDING := $(USER_BENCH_PENDING_NAMES:%=$(USER_B)/%.elf)
KPAGER_BENCH_PROGS := $(USER_KPAGER_BENCH_NAMES:%=$(USER_B)/%.elf)
GUEST_TEST_PROGS := $(USER_TEST_NAMES:%=$(USER_B)/%.elf)
GUEST_FAULT_PROGS := $(filter $(USER_B)/user_fault_%,$(GUEST_TEST_PROGS))
USER_PROGS := $(BENCH_PROGS) $(BENCH_PROGS_PENDING) $(GUEST_TEST_PROGS) $(SIGMA0_PROG) \
	$(ROOTTASK_PROG)
USER_OBJS := $(USER_CRT0) $(USER_LIB_OBJS) \
	$(USER_BENCH_NAMES:%=$(USER_B)/obj/bench/%.o) $(USER_BENCH_PENDING_NAMES:%=$(USER_B)/obj/bench/%.o) \
	$(USER_TEST_NAMES:%=$(USER_B)/obj/tests/guest/%.o) $(USER_B)/obj/user/sigma0/sigma0.o \
	$(USER_B)/obj/user/roottask/roottask.o

.PHONY: user
user: $(USER_PROGS)

# The shared kernel sources and printf.c (which calls kvformat) see the
# kernel's headers; programs do not.  string.c must not have its loops
# turned into calls to memcpy/memset.
$(USER_B)/obj/kernel/lib/%.o $(USER_B)/obj/user/lib/printf.o: USER_CFLAGS += -Ikernel/include
$(USER_B)/obj/kernel/lib/string.o: USER_CFLAGS += -fno-tree-loop-distribute-patterns

$(USER_B)/obj/%.o: %.c
	@mkdir -p $(@D)
	@echo "  CC      $<"
	@$(USER_CC) $(USER_CFLAGS) -MMD -MP -c -o $@ $<

$(USER_B)/obj/%.o: %.S
	@mkdir -p $(@D)
	@echo "  AS      $<"
	@$(USER_CC) $(USER_CFLAGS) -MMD -MP -c -o $@ $<

$(USER_LIB): $(USER_LIB_OBJS)
	@rm -f $@
	@echo "  AR      $@"
	@ar rcs $@ $^

# Link, then refuse anything a bare loader could not run: a dynamic or
# interpreter segment, or an entry outside the program.
define user_link
	@echo "  LD      $@"
	@$(USER_CC) $(USER_CFLAGS) $(USER_LDFLAGS) -o $@.tmp $(USER_CRT0) $< $(USER_LIB)
	@if readelf -lW $@.tmp | grep -qE '^ +(INTERP|DYNAMIC|TLS) '; then \
		echo "$@: has dynamic, interpreter or TLS segments" >&2; rm -f $@.tmp; exit 1; fi
	@mv $@.tmp $@
endef

$(BENCH_PROGS) $(BENCH_PROGS_PENDING): $(USER_B)/%.elf: $(USER_B)/obj/bench/%.o $(USER_CRT0) $(USER_LIB) user/user.ld
	$(user_link)

$(GUEST_TEST_PROGS): $(USER_B)/%.elf: $(USER_B)/obj/tests/guest/%.o $(USER_CRT0) $(USER_LIB) user/user.ld
	$(user_link)

$(SIGMA0_PROG): $(USER_B)/obj/user/sigma0/sigma0.o $(USER_CRT0) $(USER_LIB) user/user.ld
	$(user_link)

$(ROOTTASK_PROG): $(USER_B)/obj/user/roottask/roottask.o $(USER_CRT0) $(USER_LIB) user/user.ld
	$(user_link)

-include $(USER_OBJS:.o=.d)
