# trace/: the host-side dump decoder, CTF writer, synthetic dump generator
# and the kmtrace CLI.  Objects go to $(B)/host/obj (normal) and
# $(B)/host/san (ASan+UBSan, for the host tests).

# The decoding library, shared by kmtrace, kmemlab and the tests.  The frame
# writer and CRC are the kernel's own (kernel/lib), compiled for the host.
TRACE_LIB_SRCS := trace/dump_read.c trace/ctf_write.c trace/events.c trace/synth.c \
                  kernel/lib/crc32.c kernel/lib/dump_frame.c
TRACE_LIB_OBJS := $(TRACE_LIB_SRCS:%.c=$(B)/host/obj/%.o)
TRACE_LIB_SAN_OBJS := $(TRACE_LIB_SRCS:%.c=$(B)/host/san/%.o)
TRACE_INC := $(ABI_INC) -Itrace

.PHONY: host
host: $(B)/host/kmtrace

$(TRACE_LIB_OBJS) $(B)/host/obj/trace/kmtrace.o: $(B)/host/obj/%.o: %.c
	@mkdir -p $(@D)
	@echo "  CC(host) $<"
	@$(HOST_CC) $(HOST_CFLAGS) $(TRACE_INC) $(TRACE_XFLAGS) -MMD -MP -c $< -o $@

$(TRACE_LIB_SAN_OBJS): $(B)/host/san/%.o: %.c
	@mkdir -p $(@D)
	@echo "  CC(san)  $<"
	@$(HOST_CC) $(HOST_CFLAGS) $(SAN_FLAGS) $(TRACE_INC) -MMD -MP -c $< -o $@

# The revision is baked into the CLI only (kmtrace --version).
$(B)/host/obj/trace/kmtrace.o: TRACE_XFLAGS = -DKM_GIT_REV='"$(GIT_REV)"'

$(B)/host/kmtrace: $(B)/host/obj/trace/kmtrace.o $(TRACE_LIB_OBJS)
	@echo "  LD(host) $@"
	@$(HOST_CC) $(HOST_CFLAGS) -o $@ $^

-include $(TRACE_LIB_OBJS:.o=.d) $(TRACE_LIB_SAN_OBJS:.o=.d) $(B)/host/obj/trace/kmtrace.d
