# Kernel: freestanding x86-64, linked in the top 2 GiB, shipped as a flat
# multiboot image (build/kernel.bin) plus an ELF for gdb (build/kernel.elf).
# make TRACE=0 builds a kernel with every trace point compiled out.

TRACE ?= 1
K_SRC_C := $(wildcard kernel/*.c kernel/lib/*.c kernel/arch/x86_64/*.c)
K_SRC_S := $(wildcard kernel/arch/x86_64/*.S)
K_OBJ := $(patsubst %.c,$(B)/%.o,$(K_SRC_C)) $(patsubst %.S,$(B)/%.o,$(K_SRC_S))
K_INC := -Ikernel/include -Ikernel/arch/x86_64/include -Ikernel/abi/include -Ikernel \
         -I$(B)/kernel
K_CFLAGS := -std=gnu11 -O2 -g -ffreestanding -fno-pic -fno-pie -mcmodel=kernel \
            -mno-red-zone -mgeneral-regs-only -fno-stack-protector \
            -fno-asynchronous-unwind-tables -fomit-frame-pointer \
            -Wall -Wextra -Wshadow -Werror=implicit-function-declaration \
            -DCONFIG_TRACE=$(TRACE) $(K_INC) -MMD -MP
# No frame pointers: nothing walks kernel frames (gdb and fault_profile.sh
# use -g's DWARF), and they cost three instructions a function on every path.
# Per-function stack frames and call graphs for scripts/stack_depth.py (the
# worst-case kernel stack check in make test): GCC writes build/kernel/**/X.su
# (-fstack-usage) and X.ci (-fcallgraph-info=su) beside each object.  They
# only write those files; the code is the same with and without them (.text
# compared byte for byte).
K_STACKFLAGS := -fstack-usage -fcallgraph-info=su
K_LDFLAGS := -nostdlib -static -z max-page-size=0x1000 --no-warn-rwx-segments

.PHONY: kernel
kernel: $(B)/kernel.bin $(B)/kernel.elf

$(B)/kernel.bin: $(B)/kernel.elf
	objcopy -O binary $< $@

$(B)/kernel.elf: $(K_OBJ) kernel/arch/x86_64/linker.ld
	ld $(K_LDFLAGS) -T kernel/arch/x86_64/linker.ld -o $@ $(K_OBJ)

# (kernel.mk too: a change of flags rebuilds every object, and the call
# graphs stack_depth.py reads are never a mix of old and new.)
$(B)/kernel/%.o: kernel/%.c kernel/kernel.mk | $(B)/kernel/gitrev.h
	@mkdir -p $(dir $@)
	@echo "  CC      $<"
	@gcc $(K_CFLAGS) $(K_STACKFLAGS) -c $< -o $@

$(B)/kernel/%.o: kernel/%.S kernel/kernel.mk
	@mkdir -p $(dir $@)
	@echo "  AS      $<"
	@gcc $(K_CFLAGS) -D__ASSEMBLER__ -c $< -o $@

# The revision header is rewritten only when the revision changes, so a new
# commit rebuilds main.o and nothing else.
$(B)/kernel/gitrev.h: FORCE
	@mkdir -p $(dir $@)
	@echo '#define KM_GIT_REV "$(GIT_REV)"' > $@.tmp
	@cmp -s $@.tmp $@ && rm $@.tmp || mv $@.tmp $@

.PHONY: FORCE
FORCE:

-include $(K_OBJ:.o=.d)
