# tests/: host unit tests of generic kernel code (tests/unit, cmocka, built
# with ASan+UBSan against the host stand-in arch in tests/unit/arch), plus
# the shell-level tests the harness runs (tests/run.sh).
#
#   make tests-build   everything make test runs

UNIT_B := $(B)/unit
UNIT_INC := -Itests/unit/arch/include -Ikernel/include -Ikernel/abi/include -Ikernel \
            -Ikernel/lib -Itrace -Itests/unit
UNIT_CFLAGS := $(HOST_CFLAGS) $(SAN_FLAGS) -Wno-format $(UNIT_INC) -DCONFIG_TRACE=1 -MMD -MP
# The mapping database's files (kernel/include/kernel/mapdb_internal.h names them).
MAPDB_KSRC := kernel/mapdb.c kernel/mapdb_out.c kernel/mapdb_transfer.c kernel/mapdb_unmap.c kernel/mapdb_lend.c \
              kernel/mapdb_check.c
# Generic kernel code, compiled for the host exactly as written.
UNIT_KSRC := kernel/trace.c kernel/frame.c kernel/cmdline.c kernel/options.c kernel/printk.c \
             kernel/lib/format.c kernel/dump.c kernel/bench_store.c kernel/kmem.c $(MAPDB_KSRC) kernel/nodetable.c \
             kernel/arch/x86_64/pgtable.c kernel/tcb_export.c
# Host stand-ins for the hardware hooks of the arch code above.
UNIT_HSRC := tests/unit/arch/mmu_host.c
UNIT_KOBJ := $(UNIT_KSRC:%.c=$(UNIT_B)/%.o) $(UNIT_HSRC:%.c=$(UNIT_B)/%.o) $(UNIT_B)/kstring.o \
             $(UNIT_B)/host_support.o
UNIT_NAMES := test_trace test_cmdline test_format test_kvformat test_frame test_dump test_mapdb test_kmem \
              test_tcb_export
UNIT_TEST_BINS := $(UNIT_NAMES:%=$(UNIT_B)/%)

$(UNIT_B)/%.o: %.c
	@mkdir -p $(@D)
	@echo "  CC(san) $<"
	@$(HOST_CC) $(UNIT_CFLAGS) -c $< -o $@

# The kernel's string functions, renamed so they do not replace libc's.
KSTRING_RENAME := -fno-builtin -Dmemcpy=kmemcpy -Dmemmove=kmemmove -Dmemset=kmemset -Dmemcmp=kmemcmp \
                  -Dstrlen=kstrlen -Dstrnlen=kstrnlen -Dstrcmp=kstrcmp -Dstrncmp=kstrncmp -Dstrlcpy=kstrlcpy
$(UNIT_B)/kstring.o: kernel/lib/string.c
	@mkdir -p $(@D)
	@$(HOST_CC) $(UNIT_CFLAGS) $(KSTRING_RENAME) -c $< -o $@

$(UNIT_B)/host_support.o: tests/unit/host_support.c
	@mkdir -p $(@D)
	@$(HOST_CC) $(UNIT_CFLAGS) -c $< -o $@

$(UNIT_B)/test_%: $(UNIT_B)/tests/unit/test_%.o $(UNIT_KOBJ) $(TRACE_LIB_SAN_OBJS)
	@echo "  LD(san) $@"
	@$(HOST_CC) $(HOST_CFLAGS) $(SAN_FLAGS) -o $@ $^ -lcmocka -lpthread -lm

# kernel/kfault.c runs in test_kmem as written (IPC and the thread table
# are the test's stubs); other tests do not link it.  Both tests of the
# mapping database build their world with tests/unit/host_world.c.
$(UNIT_B)/test_kmem: $(UNIT_B)/kernel/kfault.o $(UNIT_B)/tests/unit/host_world.o
$(UNIT_B)/test_mapdb: $(UNIT_B)/tests/unit/host_world.o

.PHONY: tests-build
tests-build: $(UNIT_TEST_BINS) $(HOST_TEST_BINS) $(B)/fuzz/fuzz_kmem $(B)/fuzz/fuzz_tcb \
             $(B)/fuzz/fuzz_nodetable

-include $(UNIT_KOBJ:.o=.d) $(UNIT_B)/kernel/kfault.d $(UNIT_B)/tests/unit/host_world.d \
         $(UNIT_NAMES:%=$(UNIT_B)/tests/unit/%.d)

# Keep the objects make would otherwise delete as intermediates.
.SECONDARY: $(UNIT_KOBJ) $(UNIT_B)/kernel/kfault.o $(UNIT_NAMES:%=$(UNIT_B)/tests/unit/%.o)

# ---- libFuzzer harness of the kpager path (tests/fuzz/fuzz_kmem.c) ----------
#   make fuzz [FUZZ_TIME=300]   runs it at length; crashes land in build/fuzz/
# make test runs it briefly (tests/sh/fuzz_kmem.sh).  Needs clang with
# libclang-rt (scripts/deps.sh).
FUZZ_CC ?= clang
FUZZ_TIME ?= 300
FUZZ_B := $(B)/fuzz
FUZZ_SAN := -fsanitize=address,undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer
FUZZ_CFLAGS := -O1 -g -std=gnu11 -Wall -Wno-format $(UNIT_INC) -DCONFIG_TRACE=1 -MMD -MP \
               $(FUZZ_SAN) -fsanitize=fuzzer-no-link
FUZZ_KSRC := kernel/frame.c kernel/printk.c kernel/lib/format.c kernel/options.c kernel/cmdline.c \
             kernel/trace.c kernel/kmem.c $(MAPDB_KSRC) kernel/nodetable.c kernel/kfault.c kernel/arch/x86_64/pgtable.c \
             tests/unit/arch/mmu_host.c tests/fuzz/fuzz_kmem.c
FUZZ_OBJ := $(FUZZ_KSRC:%.c=$(FUZZ_B)/%.o) $(FUZZ_B)/kstring.o

$(FUZZ_B)/%.o: %.c
	@mkdir -p $(@D)
	@echo "  CC(fuzz) $<"
	@$(FUZZ_CC) $(FUZZ_CFLAGS) -c $< -o $@

$(FUZZ_B)/kstring.o: kernel/lib/string.c
	@mkdir -p $(@D)
	@$(FUZZ_CC) $(FUZZ_CFLAGS) $(KSTRING_RENAME) -c $< -o $@

# The harness learns what revocation removed by wrapping the calls kmem.c
# and kfault.c make into the mapping database (mapdb_out.c, mapdb_unmap.c,
# mapdb_lend.c), and counts the waits of its transfers (mapdb_transfer.c,
# pgtable.c) by wrapping kmem_op_wait (tests/fuzz/fuzz_kmem.c: the shadow).
# A wrap catches only calls from another object: no mapdb*.c calls these.
FUZZ_WRAP := -Wl,--wrap=mapdb_lend,--wrap=kmem_supply_lend,--wrap=mapdb_drop_region,--wrap=mapdb_reclaim_node_page \
             -Wl,--wrap=kmem_op_wait
$(FUZZ_B)/fuzz_kmem: $(FUZZ_OBJ)
	@echo "  LD(fuzz) $@"
	@$(FUZZ_CC) $(FUZZ_SAN) -fsanitize=fuzzer $(FUZZ_WRAP) -o $@ $^

# The TCB import check (tests/fuzz/fuzz_tcb.c): make fuzz-tcb runs it at length.
FUZZ_TCB_OBJ := $(FUZZ_B)/kernel/tcb_export.o $(FUZZ_B)/tests/fuzz/fuzz_tcb.o

$(FUZZ_B)/fuzz_tcb: $(FUZZ_TCB_OBJ)
	@echo "  LD(fuzz) $@"
	@$(FUZZ_CC) $(FUZZ_SAN) -fsanitize=fuzzer -o $@ $^

# The node-table import check (tests/fuzz/fuzz_nodetable.c): make
# fuzz-nodetable runs it at length.
FUZZ_NT_KSRC := kernel/frame.c kernel/printk.c kernel/lib/format.c kernel/options.c kernel/cmdline.c \
                kernel/trace.c kernel/kmem.c $(MAPDB_KSRC) kernel/nodetable.c \
                kernel/arch/x86_64/pgtable.c tests/unit/arch/mmu_host.c tests/fuzz/fuzz_nodetable.c
FUZZ_NT_OBJ := $(FUZZ_NT_KSRC:%.c=$(FUZZ_B)/%.o) $(FUZZ_B)/kstring.o

$(FUZZ_B)/fuzz_nodetable: $(FUZZ_NT_OBJ)
	@echo "  LD(fuzz) $@"
	@$(FUZZ_CC) $(FUZZ_SAN) -fsanitize=fuzzer -o $@ $^

# A source-based coverage build of fuzz_kmem (no sanitizers) that runs a
# corpus once and shows what of the kernel it reached:
#   make fuzz-cov [FUZZ_COV_CORPUS=dir] [FUZZ_COV_FILES='kernel/mapdb_out.c ...']
# (report in build/fuzz-cov/report.txt; default corpus: make fuzz's).
FUZZ_COV_B := $(B)/fuzz-cov
FUZZ_COV_CORPUS ?= $(FUZZ_B)/corpus
FUZZ_COV_FILES ?= $(MAPDB_KSRC) kernel/kmem.c
FUZZ_COV_OBJ := $(FUZZ_KSRC:%.c=$(FUZZ_COV_B)/%.o) $(FUZZ_COV_B)/kstring.o
FUZZ_COV_CFLAGS := $(filter-out $(FUZZ_SAN) -fsanitize=fuzzer-no-link,$(FUZZ_CFLAGS)) \
                   -fsanitize=fuzzer-no-link -fprofile-instr-generate -fcoverage-mapping

$(FUZZ_COV_B)/%.o: %.c
	@mkdir -p $(@D)
	@echo "  CC(fuzz-cov) $<"
	@$(FUZZ_CC) $(FUZZ_COV_CFLAGS) -c $< -o $@

$(FUZZ_COV_B)/kstring.o: kernel/lib/string.c
	@mkdir -p $(@D)
	@$(FUZZ_CC) $(FUZZ_COV_CFLAGS) $(KSTRING_RENAME) -c $< -o $@

$(FUZZ_COV_B)/fuzz_kmem: $(FUZZ_COV_OBJ)
	@echo "  LD(fuzz-cov) $@"
	@$(FUZZ_CC) -fsanitize=fuzzer -fprofile-instr-generate $(FUZZ_WRAP) -o $@ $^

.PHONY: fuzz-cov
fuzz-cov: $(FUZZ_COV_B)/fuzz_kmem
	@rm -f $(FUZZ_COV_B)/*.profraw
	@LLVM_PROFILE_FILE=$(FUZZ_COV_B)/run.profraw $(FUZZ_COV_B)/fuzz_kmem -runs=0 $(FUZZ_COV_CORPUS) >$(FUZZ_COV_B)/run.log 2>&1
	@llvm-profdata merge -o $(FUZZ_COV_B)/run.profdata $(FUZZ_COV_B)/run.profraw
	@llvm-cov show $(FUZZ_COV_B)/fuzz_kmem -instr-profile=$(FUZZ_COV_B)/run.profdata $(FUZZ_COV_FILES) >$(FUZZ_COV_B)/report.txt
	@llvm-cov report $(FUZZ_COV_B)/fuzz_kmem -instr-profile=$(FUZZ_COV_B)/run.profdata $(FUZZ_COV_FILES)
	@echo "  line counts: $(FUZZ_COV_B)/report.txt"

.PHONY: fuzz fuzz-build fuzz-tcb fuzz-nodetable
fuzz-build: $(FUZZ_B)/fuzz_kmem $(FUZZ_B)/fuzz_tcb $(FUZZ_B)/fuzz_nodetable
fuzz: deps $(FUZZ_B)/fuzz_kmem
	@mkdir -p $(FUZZ_B)/corpus
	@cd $(FUZZ_B) && ./fuzz_kmem -max_total_time=$(FUZZ_TIME) -max_len=512 -print_final_stats=1 corpus
fuzz-nodetable: deps $(FUZZ_B)/fuzz_nodetable
	@mkdir -p $(FUZZ_B)/corpus-nodetable
	@cd $(FUZZ_B) && ./fuzz_nodetable -max_total_time=$(FUZZ_TIME) -max_len=1024 -print_final_stats=1 corpus-nodetable
fuzz-tcb: deps $(FUZZ_B)/fuzz_tcb
	@mkdir -p $(FUZZ_B)/corpus-tcb
	@cd $(FUZZ_B) && ./fuzz_tcb -max_total_time=$(FUZZ_TIME) -max_len=256 -print_final_stats=1 corpus-tcb

-include $(FUZZ_OBJ:.o=.d) $(FUZZ_TCB_OBJ:.o=.d) $(FUZZ_NT_OBJ:.o=.d) $(FUZZ_COV_OBJ:.o=.d)
