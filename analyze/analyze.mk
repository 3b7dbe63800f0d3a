# analyze/: the kmemlab host CLI (import, list, show, report) and the host
# unit tests of trace/ and analyze/ (tests/host/, cmocka, ASan+UBSan).

ANALYZE_LIB_SRCS := analyze/db.c analyze/import.c analyze/meta.c analyze/report.c analyze/stats.c
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
HOST_TEST_NAMES := test_dump_read test_ctf test_stats test_meta test_import
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
