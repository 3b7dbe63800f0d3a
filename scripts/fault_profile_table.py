#!/usr/bin/env python3
"""fault_profile_table.py: per-function instruction counts of recorded faults.

Usage: fault_profile_table.py [--seq] ELF... NAME=PCFILE [NAME=PCFILE]

Each PCFILE holds one hex PC per line (scripts/fault_profile.py writes
them); each PC is attributed to the function symbol of the ELFs that
contains it.  With two NAME=PCFILE, a third column holds the difference.
--seq also prints each recording as runs of one function, in order.
"""
import bisect
import collections
import subprocess
import sys


def symbols(elfs):
    syms = []
    for elf in elfs:
        out = subprocess.run(["nm", "-n", "--defined-only", elf], capture_output=True, text=True, check=True).stdout
        for line in out.splitlines():
            f = line.split()
            if len(f) >= 3 and f[1] in "tTwW":
                syms.append((int(f[0], 16), f[2]))
    syms.sort()
    return [a for a, _ in syms], [n for _, n in syms]


def main(argv):
    seq = "--seq" in argv
    argv = [a for a in argv if a != "--seq"]
    if any(a in ("-h", "--help") for a in argv):
        print(__doc__.strip())
        return 0
    elfs = [a for a in argv if "=" not in a]
    recs = [a.split("=", 1) for a in argv if "=" in a]
    if not elfs or not 1 <= len(recs) <= 2:
        print("fault_profile_table.py: need ELF files and one or two NAME=PCFILE (try --help)", file=sys.stderr)
        return 64
    addrs, names = symbols(elfs)

    def fn(pc):
        i = bisect.bisect_right(addrs, pc) - 1
        return names[i] if i >= 0 else "?"

    counts = []
    for name, path in recs:
        with open(path) as f:
            pcs = [int(l, 16) for l in f if l.strip()]
        pcs = pcs[:-1]  # the last PC is the instruction after the fault
        fns = [fn(p) for p in pcs]
        counts.append(collections.Counter(fns))
        if seq:
            print("# %s: call sequence (first instruction, instructions, function)" % name)
            start = 0
            for i in range(1, len(fns) + 1):
                if i == len(fns) or fns[i] != fns[start]:
                    print("%6d %5d %s" % (start, i - start, fns[start]))
                    start = i
            print()
    heads = [n for n, _ in recs]
    allf = set().union(*counts)
    if len(counts) == 2:
        key = lambda f: (-(counts[0][f] - counts[1][f]), f)
        print("%-28s %10s %10s %10s" % ("function", heads[0], heads[1], "difference"))
    else:
        key = lambda f: (-counts[0][f], f)
        print("%-28s %10s %7s" % ("function", heads[0], "share"))
    tot = [sum(c.values()) for c in counts]
    for f in sorted(allf, key=key):
        if len(counts) == 2:
            print("%-28s %10d %10d %+10d" % (f, counts[0][f], counts[1][f], counts[0][f] - counts[1][f]))
        else:
            print("%-28s %10d %6.1f%%" % (f, counts[0][f], 100.0 * counts[0][f] / max(tot[0], 1)))
    if len(counts) == 2:
        print("%-28s %10d %10d %+10d" % ("total", tot[0], tot[1], tot[0] - tot[1]))
    else:
        print("%-28s %10d" % ("total", tot[0]))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
