# fault_profile.py: gdb script (run by scripts/fault_profile.sh) that
# records every guest instruction of one write fault of fault_complex's
# client, from the write to the instruction after it.
#
# Settings come as gdb convenience variables set before sourcing:
#   $fp_variant  variant name (e.g. "kpager_2m")
#   $fp_skip     faults of that variant to let pass first
#   $fp_out      file receiving one hex PC per line
#   $fp_port     QEMU's gdb port (the script connects: the addresses are
#                read from the ELF before, while the guest has no paging)
import gdb

gdb.execute("set pagination off")
gdb.execute("set confirm off")


def conv(name):
    v = gdb.convenience_variable(name)
    if v is None:
        raise gdb.GdbError("fault_profile.py: $%s is not set" % name)
    return v


variant = conv("fp_variant").string()
skip = int(conv("fp_skip"))
out = conv("fp_out").string()
port = int(conv("fp_port"))

# The client's write is the first store after its first rdtsc; its end
# is the instruction after the store (the second rdtsc's fence).
insns = gdb.execute("disassemble client", to_string=True).splitlines()
store = end = None
seen_rdtsc = False
for i, line in enumerate(insns):
    if "rdtsc" in line and not seen_rdtsc:
        seen_rdtsc = True
    elif seen_rdtsc and store is None and line.strip().startswith("0x") and "mov" in line and ",(" in line:
        store = int(line.split()[0], 16)
        end = int(insns[i + 1].split()[0], 16)
if store is None:
    raise gdb.GdbError("fault_profile.py: no store after rdtsc in client()")

gdb.execute("target remote :%d" % port)
gdb.execute('hbreak *%#x if $_streq(((const struct variant *)cur)->name, "%s")' % (store, variant))
bp = gdb.breakpoints()[-1]
bp.ignore_count = skip
gdb.execute("continue")
if int(gdb.parse_and_eval("$pc")) != store:
    raise gdb.GdbError("fault_profile.py: the guest stopped elsewhere (did the variant run?)")
bp.delete()

LIMIT = 1000000
pcs = []
while True:
    pc = int(gdb.parse_and_eval("$pc"))
    pcs.append(pc)
    if pc == end:
        break
    if len(pcs) > LIMIT:
        raise gdb.GdbError("fault_profile.py: more than %d instructions, stopped" % LIMIT)
    gdb.execute("stepi", to_string=True)
with open(out, "w") as f:
    f.writelines("%x\n" % p for p in pcs)
gdb.write("fault_profile: %d instructions recorded\n" % (len(pcs) - 1))
