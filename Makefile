# kmemlab: top-level build.  Each part has its own fragment (*.mk), included
# here; everything is built under build/.  The README's two commands:
#   make bench   install what is missing, build, boot, measure, import, report
#   make test    every check of the project; ends with "N passed, N failed"

.DEFAULT_GOAL := all
SHELL := /bin/bash
B := build

# Host toolchain (tools, unit tests)
HOST_CC ?= gcc
HOST_CFLAGS ?= -O2 -g -std=gnu11 -Wall -Wextra -Wshadow -Werror=implicit-function-declaration
ABI_INC := -Ikernel/abi/include -Ikernel/lib
SAN_FLAGS := -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined

# The git revision linked into every binary and recorded with each run.
GIT_REV := $(shell git describe --always --dirty --abbrev=12 2>/dev/null || echo unknown)

include kernel/kernel.mk
include user/user.mk
include trace/trace.mk
include analyze/analyze.mk
include tests/tests.mk

.PHONY: all deps bench bench-import test regress baseline iso linux-guest qemu qemu-gdb clean
all: kernel user host

deps:
	@scripts/deps.sh

bench: deps
	@$(MAKE) --no-print-directory all
	@KPAGER_PROGS="$(KPAGER_BENCH_PROGS)" scripts/bench.sh $(BENCH_PROGS)

# Import speed of the host tools on a synthetic 1,000,000-event dump.
bench-import: deps
	@$(MAKE) --no-print-directory host
	@scripts/import_speed.sh --check

# The icount suite against the committed baselines: the kmem=pool boot
# (results/baseline/icount.txt), the kmem=kpager boot (icount-kpager.txt)
# and the Linux guest (icount-linux.txt; skipped, with the reason, when
# its kernel package cannot be had or is not the baseline's): Markdown
# tables of deltas; non-zero exit when a metric is more than 1% slower.
# `make baseline` rewrites them: do it on purpose, in the commit that
# changes the figures.
regress: deps
	@$(MAKE) --no-print-directory all
	@scripts/regress.sh
	@BASELINE=results/baseline/icount-kpager.txt CMDLINE=kmem=kpager scripts/regress.sh $(KPAGER_BENCH_PROGS)
	@scripts/regress_linux.sh

baseline: deps
	@$(MAKE) --no-print-directory all
	@scripts/regress.sh --update
	@BASELINE=results/baseline/icount-kpager.txt CMDLINE=kmem=kpager scripts/regress.sh --update $(KPAGER_BENCH_PROGS)
	@scripts/regress_linux.sh --update

test: deps
	@$(MAKE) --no-print-directory all tests-build
	@tests/run.sh

# A GRUB image (BIOS, CD or USB stick) that boots the benchmark suite on a
# PC, console and dump (dump=com1) on COM1: build/kmemlab.iso.  Extra
# kernel options: make iso ISO_CMDLINE="timer_hz=1000".
iso: deps
	@$(MAKE) --no-print-directory kernel user
	@scripts/mkiso.sh -o $(B)/kmemlab.iso $(if $(ISO_CMDLINE),--cmdline "$(ISO_CMDLINE)") $(BENCH_PROGS)

# The Linux baseline inside a Linux guest under QEMU icount (the same
# ruler as our kernel's icount runs): a Debian kernel fetched once into
# build/linux-guest/, a busybox initramfs with fault_linux; imported as a
# run with system=linux, accel=icount.
linux-guest: deps
	@$(MAKE) --no-print-directory host $(B)/host/fault_linux_static
	@scripts/linux_guest.sh

# Interactive boot of the benchmark set (Ctrl-A X quits); SMP, ACCEL, CMDLINE
# as for scripts/run-qemu.sh.
qemu: all
	@scripts/run-qemu.sh --interactive $(BENCH_PROGS)

qemu-gdb: all
	@scripts/run-qemu.sh --interactive --gdb $(BENCH_PROGS)

clean:
	rm -rf $(B)
