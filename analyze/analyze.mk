# analyze/: the kmemlab host CLI (import, list, show, report) and the host
# unit tests of trace/ and analyze/ (tests/host/, cmocka, ASan+UBSan).

ANALYZE_LIB_SRCS := analyze/alloc.c analyze/benchmd.c analyze/compare.c analyze/ctf_db.c analyze/db.c analyze/errmsg.c analyze/files.c analyze/gp.c analyze/import.c analyze/kmem_chart.c analyze/meta.c analyze/perfetto.c analyze/phases.c analyze/regress.c \
                    analyze/report.c analyze/run.c analyze/stats.c analyze/trend.c
ANALYZE_LIB_OBJS := $(ANALYZE_LIB_SRCS:%.c=$(B)/host/obj/%.o)
ANALYZE_LIB_SAN_OBJS := $(ANALYZE_LIB_SRCS:%.c=$(B)/host/san/%.o)
ANALYZE_INC := $(ABI_INC) -Itrace -Ianalyze
ANALYZE_LIBS := -lsqlite3 -lm

.PHONY: host host-test
host: $(B)/host/kmemlab

$(ANALYZE_LIB_OBJS) $(B)/host/obj/analyze/kmemlab.o: $(B)/host/obj/%.o: %.c
	@mkdir -p $(@D)
	@echo "  CC(host) $<"
	@$(HOST_CC) $(HOST_CFLAGS) $(ANALYZE_INC) $(ANALYZE_XFLAGS) -MMD -MP -c $< -o $@

$(ANALYZE_LIB_SAN_OBJS): $(B)/host/san/%.o: %.c
	@mkdir -p $(@D)
	@echo "  CC(san)  $<"
	@$(HOST_CC) $(HOST_CFLAGS) $(SAN_FLAGS) $(ANALYZE_INC) -MMD -MP -c $< -o $@

$(B)/host/obj/analyze/kmemlab.o: ANALYZE_XFLAGS = -DKM_GIT_REV='"$(GIT_REV)"'

$(B)/host/kmemlab: $(B)/host/obj/analyze/kmemlab.o $(ANALYZE_LIB_OBJS) $(TRACE_LIB_OBJS)
	@echo "  LD(host) $@"
	@$(HOST_CC) $(HOST_CFLAGS) -o $@ $^ $(ANALYZE_LIBS)

# Host unit tests: one binary per tests/host/test_*.c, linked with the
# sanitized libraries; each prints TAP when CMOCKA_MESSAGE_OUTPUT=TAP.
HOST_TEST_NAMES := test_dump_read test_ctf test_stats test_meta test_import test_pmu test_regress
HOST_TEST_BINS := $(HOST_TEST_NAMES:%=$(B)/host/tests/%)
HOST_TEST_OBJS := $(HOST_TEST_NAMES:%=$(B)/host/san/tests/host/%.o) $(B)/host/san/tests/host/testutil.o

$(HOST_TEST_OBJS): $(B)/host/san/%.o: %.c
	@mkdir -p $(@D)
	@echo "  CC(san)  $<"
	@$(HOST_CC) $(HOST_CFLAGS) $(SAN_FLAGS) $(ANALYZE_INC) -Itests/host -MMD -MP -c $< -o $@

$(HOST_TEST_BINS): $(B)/host/tests/%: $(B)/host/san/tests/host/%.o $(B)/host/san/tests/host/testutil.o \
                   $(ANALYZE_LIB_SAN_OBJS) $(TRACE_LIB_SAN_OBJS)
	@mkdir -p $(@D)
	@echo "  LD(san)  $@"
	@$(HOST_CC) $(HOST_CFLAGS) $(SAN_FLAGS) -o $@ $^ -lcmocka $(ANALYZE_LIBS)

# Convenience for working on trace/ and analyze/ alone (make test runs
# everything): the unit tests, then the shell tests against the CLIs.
host-test: $(HOST_TEST_BINS) host
	@fail=0; for t in $(HOST_TEST_BINS); do CMOCKA_MESSAGE_OUTPUT=TAP $$t || fail=1; done; \
	for t in tests/sh/ctf_babeltrace.sh tests/sh/import_bad.sh; do $$t || fail=1; done; \
	exit $$fail

-include $(ANALYZE_LIB_OBJS:.o=.d) $(ANALYZE_LIB_SAN_OBJS:.o=.d) $(HOST_TEST_OBJS:.o=.d) \
         $(B)/host/obj/analyze/kmemlab.d

# ---- Performance-counter event names (libpfm4) and the Linux baseline ----
# analyze/pmu.c: `kmemlab pmu-encode` (event names -> raw PERFEVTSEL values)
# and the perf_event_open encodings of bench/linux/fault_linux.
# bench/linux/linux_samples.c: `kmemlab import-linux` (fault_linux's file).
PMU_HOST_OBJS := $(B)/host/obj/analyze/pmu.o $(B)/host/obj/bench/linux/linux_samples.o \
                 $(B)/host/obj/bench/linux/fault_linux.o
ANALYZE_INC += -Ibench/linux
ANALYZE_LIBS += -lpfm

$(PMU_HOST_OBJS): $(B)/host/obj/%.o: %.c
	@mkdir -p $(@D)
	@echo "  CC(host) $<"
	@$(HOST_CC) $(HOST_CFLAGS) $(ANALYZE_INC) $(PMU_XFLAGS) -MMD -MP -c $< -o $@

$(B)/host/san/analyze/pmu.o: analyze/pmu.c
	@mkdir -p $(@D)
	@echo "  CC(san)  $<"
	@$(HOST_CC) $(HOST_CFLAGS) $(SAN_FLAGS) $(ANALYZE_INC) -MMD -MP -c $< -o $@

$(B)/host/obj/bench/linux/fault_linux.o: PMU_XFLAGS = -DKM_GIT_REV='"$(GIT_REV)"'

$(B)/host/kmemlab: $(B)/host/obj/analyze/pmu.o $(B)/host/obj/bench/linux/linux_samples.o
$(B)/host/tests/test_pmu: $(B)/host/san/analyze/pmu.o

# The Linux baseline (scripts/linux_baseline.sh runs it and imports the file).
host: $(B)/host/fault_linux $(B)/host/fault_linux_static
$(B)/host/fault_linux: $(B)/host/obj/bench/linux/fault_linux.o $(B)/host/obj/analyze/pmu.o \
                       $(B)/host/obj/analyze/stats.o $(B)/host/obj/analyze/errmsg.o \
                       $(B)/host/obj/kernel/lib/crc32.o
	@echo "  LD(host) $@"
	@$(HOST_CC) $(HOST_CFLAGS) -o $@ $^ -lpfm -lm

# The same program linked statically, for the busybox initramfs of the
# Linux guest (scripts/linux_guest.sh, make linux-guest).
$(B)/host/fault_linux_static: $(B)/host/obj/bench/linux/fault_linux.o $(B)/host/obj/analyze/pmu.o \
                              $(B)/host/obj/analyze/stats.o $(B)/host/obj/analyze/errmsg.o \
                              $(B)/host/obj/kernel/lib/crc32.o
	@echo "  LD(static) $@"
	@$(HOST_CC) $(HOST_CFLAGS) -static -o $@ $^ -lpfm -lm

-include $(PMU_HOST_OBJS:.o=.d) $(B)/host/san/analyze/pmu.d

# Fuzzing the dump reader with libFuzzer (clang): make fuzz-dump
# [FUZZ_SECONDS=60].  Not part of make test; crashes land in $(B)/host/fuzz/.
FUZZ_CC ?= clang
FUZZ_SECONDS ?= 60
FUZZ_SRCS := tests/host/fuzz_dump_read.c tests/host/testutil.c trace/dump_read.c trace/synth.c \
             kernel/lib/crc32.c kernel/lib/dump_frame.c

$(B)/host/fuzz/fuzz_dump_read: $(FUZZ_SRCS)
	@mkdir -p $(@D)
	@echo "  LD(fuzz) $@"
	@$(FUZZ_CC) -g -O1 -std=gnu11 -fsanitize=fuzzer,address,undefined $(ANALYZE_INC) -Itests/host \
	  -o $@ $(FUZZ_SRCS)

.PHONY: fuzz-dump
fuzz-dump: $(B)/host/fuzz/fuzz_dump_read $(B)/host/kmtrace
	@mkdir -p $(B)/host/fuzz/corpus
	@for s in 1 2 3; do printf '\001' >$(B)/host/fuzz/corpus/seed$$s; \
	  $(B)/host/kmtrace synth --cpus $$s --events 40 --samples 9 --seed $$s - >>$(B)/host/fuzz/corpus/seed$$s; done
	cd $(B)/host/fuzz && ./fuzz_dump_read -max_total_time=$(FUZZ_SECONDS) -max_len=65536 corpus
