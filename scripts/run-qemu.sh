#!/usr/bin/env bash
# run-qemu.sh: boot the kernel in QEMU with user programs as boot modules
# (run in the order given) and collect what comes out.
#
# Usage: scripts/run-qemu.sh [--interactive] [--gdb] PROG.elf...
#        scripts/run-qemu.sh [--interactive] --iso IMAGE.iso
#
# Environment:
#   ACCEL     auto (default): kvm if a short self-test boot under KVM
#             works, else icount | icount | tcg | kvm
#   SMP       CPUs (default 2)          MEM      guest memory (default 256M)
#   CMDLINE   extra kernel command line options
#   TIMEOUT   seconds before a hung guest is killed (default 60)
#   OUT       output directory (default: a fresh build/runs/<time>-XXXX)
#   KERNEL    kernel image (default build/kernel.bin)
#   QEMU_CPU  QEMU -cpu model (default: a pinned Skylake; host under kvm)
#   QEMU      QEMU binary (default qemu-system-x86_64)
#   GDB_PORT  with --gdb: the port QEMU waits on (default 1234)
# Options:
#   --interactive  console on stdio (Ctrl-A X quits, Ctrl-A C monitor), no timeout
#   --gdb          QEMU waits for gdb on localhost:GDB_PORT (default 1234), no timeout
#   --iso IMAGE    boot a GRUB image (scripts/mkiso.sh, make iso) from a CD
#                  drive instead of -kernel: the image holds the programs and
#                  the command line (dump=com1: the dump is in console.log)
#
# OUT receives: console.log (COM1), dump.bin (port 0xe9: binary trace dump),
# com2.bin (COM2: the dump when the kernel runs with dump=com2),
# qemu.log (QEMU's own messages), meta (key=value run context).  The last
# line on stdout is OUT's path, on success and failure alike.
#
# Exit status: 0 the kernel reported success; 1..63 the kernel's failure
# status s (QEMU exits (s<<1)|1 after the kernel writes s to port 0xf4);
# 124 guest hung, killed at TIMEOUT; 125 QEMU failed (did not start, died,
# or the guest reset without reporting a status); 64 bad usage.
set -uo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
ME=run-qemu.sh

# The CPU model for tcg and icount.  Skylake-Client-v1 is a fixed
# definition (a versioned model never changes meaning); the features
# QEMU 7.2's TCG cannot emulate are removed explicitly, so the guest sees
# the same CPUID whatever TCG filters and QEMU prints no warnings.  It has
# what a modern kernel expects (NX, rdtscp, fsgsbase, SMEP/SMAP, ERMS,
# invariant-free TSC).  ERMS matters under icount: each iteration of
# `rep movsb/stosb` counts as one instruction, so a kernel that picks
# byte-wise string ops because of ERMS shows different path lengths.
PINNED_CPU=Skylake-Client-v1,-pcid,-x2apic,-tsc-deadline,-hle,-invpcid,-rtm,-rdseed,-3dnowprefetch,-xsavec
MACHINE=pc-i440fx-7.2 # pinned machine version; 'pc' would follow the QEMU release
RTC=base=2024-01-01T00:00:00,clock=vm
SEED=1
ICOUNT=shift=0,align=off,sleep=off
KVM_PROBE_TIMEOUT=10

usage() {
    sed -n '2,/^set -uo/{/^set -uo/d;s/^# \{0,1\}//;p}' "$0"
}

die_usage() {
    echo "$ME: $*" >&2
    echo "$ME: try --help" >&2
    exit 64
}

interactive=0
gdb=0
progs=()
iso=
while [ $# -gt 0 ]; do
    case "$1" in
    --interactive) interactive=1 ;;
    --gdb) gdb=1 ;;
    --iso)
        [ $# -ge 2 ] || die_usage "--iso needs an image"
        iso=$2
        shift
        ;;
    -h | --help)
        usage
        exit 0
        ;;
    --)
        shift
        progs+=("$@")
        break
        ;;
    -*) die_usage "unknown option '$1'" ;;
    *) progs+=("$1") ;;
    esac
    shift
done

ACCEL=${ACCEL:-auto}
SMP=${SMP:-2}
MEM=${MEM:-256M}
CMDLINE=${CMDLINE:-}
TIMEOUT=${TIMEOUT:-60}
KERNEL=${KERNEL:-$ROOT/build/kernel.bin}
QEMU=${QEMU:-qemu-system-x86_64}

case "$ACCEL" in auto | icount | tcg | kvm) ;; *) die_usage "ACCEL must be auto, icount, tcg or kvm, not '$ACCEL'" ;; esac
if ! [[ "$SMP" =~ ^[0-9]+$ ]] || [ "$SMP" -lt 1 ] || [ "$SMP" -gt 64 ]; then
    die_usage "SMP must be 1..64, not '$SMP'"
fi
[[ "$MEM" =~ ^[0-9]+[MG]?$ ]] || die_usage "MEM must look like 256M or 1G, not '$MEM'"
if ! [[ "$TIMEOUT" =~ ^[0-9]+$ ]] || [ "$TIMEOUT" -lt 1 ]; then
    die_usage "TIMEOUT must be a number of seconds, not '$TIMEOUT'"
fi
command -v "$QEMU" >/dev/null || die_usage "$QEMU not found (scripts/deps.sh installs qemu-system-x86)"
[ -f "$KERNEL" ] || die_usage "no kernel image $KERNEL (make kernel)"
for p in "${progs[@]}"; do
    [ -f "$p" ] || die_usage "no such program: $p (make user)"
done
if [ -n "$iso" ]; then
    [ -f "$iso" ] || die_usage "no image $iso (make iso)"
    [ ${#progs[@]} -eq 0 ] || die_usage "--iso takes no programs: the image holds them"
    [ -z "$CMDLINE" ] || die_usage "CMDLINE has no effect with --iso: the image's grub.cfg holds the command line (scripts/mkiso.sh --cmdline)"
fi

# QEMU runs in ROOT and gets paths relative to it when they are inside it:
# the kernel sees the kernel and module paths (multiboot command lines) and
# records them, so this keeps dumps identical across checkouts.
relpath() {
    local abs
    abs=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")
    echo "${abs#"$ROOT"/}"
}
KERNEL=$(relpath "$KERNEL")
[ -z "$iso" ] || iso=$(relpath "$iso")
[[ "$iso" != *,* ]] || die_usage "image path must not contain ',': $iso"
for i in "${!progs[@]}"; do
    progs[i]=$(relpath "${progs[i]}")
    # QEMU separates modules with ',' and a module's arguments with ' '.
    [[ "${progs[i]}" != *[,\ ]* ]] || die_usage "program path must not contain ',' or ' ': ${progs[i]}"
done

if [ -z "${OUT:-}" ]; then
    mkdir -p "$ROOT/build/runs" || exit 125
    OUT=$(mktemp -d "$ROOT/build/runs/$(date -u +%Y%m%dT%H%M%SZ)-XXXX") || exit 125
else
    mkdir -p "$OUT" || die_usage "cannot create OUT=$OUT"
fi
OUT=$(cd "$OUT" && pwd)
[[ "$OUT" != *,* ]] || die_usage "OUT must not contain ',': $OUT"
rm -f "$OUT/console.log" "$OUT/com2.bin" "$OUT/dump.bin" "$OUT/qemu.log" "$OUT/meta" "$OUT/qemu.cmd"
cd "$ROOT" || exit 125

initrd=$(
    IFS=,
    echo "${progs[*]}"
)

# boot DIR ACCEL CPU TIMEOUT [PROG...]: one QEMU run, output files in DIR.
# Sets boot_rc (QEMU's exit status, 124 on timeout) and boot_qemu_args.
boot() {
    local dir=$1 accel=$2 cpu=$3 limit=$4
    shift 4
    local mods
    mods=$(
        IFS=,
        echo "$*"
    )
    # shellcheck disable=SC2054 # the commas are QEMU's, inside arguments
    local args=(-machine "$MACHINE" -nodefaults -no-user-config -display none -no-reboot
        -cpu "$cpu" -smp "$SMP" -m "$MEM"
        -rtc "$RTC" -seed "$SEED"
        -debugcon "file:$dir/dump.bin"
        -device isa-debug-exit,iobase=0xf4,iosize=0x04)
    if [ -n "$boot_iso" ]; then
        args+=(-cdrom "$boot_iso" -boot d)
    else
        args+=(-kernel "$KERNEL" -append "$CMDLINE")
        [ -n "$mods" ] && args+=(-initrd "$mods")
    fi
    case "$accel" in
    icount) args+=(-accel tcg -icount "$ICOUNT") ;;
    tcg) args+=(-accel tcg) ;;
    kvm) args+=(-accel kvm) ;;
    esac
    [ "$gdb" = 1 ] && [ "$dir" = "$OUT" ] && args+=(-gdb "tcp:localhost:${GDB_PORT:-1234}" -S)
    local tty=0
    if [ "$interactive" = 1 ] && [ "$dir" = "$OUT" ]; then
        # One stdio mux for console and monitor; the console is logged too.
        tty=1
        # shellcheck disable=SC2054
        args+=(-chardev "stdio,id=con,mux=on,logfile=$dir/console.log"
            -serial chardev:con -mon chardev=con,mode=readline)
    else
        args+=(-serial "file:$dir/console.log")
    fi
    # COM2: a plain serial port for the dump (kernel option dump=com2), the
    # channel bare metal uses.
    args+=(-serial "file:$dir/com2.bin")
    boot_qemu_args=("${args[@]}")

    if [ "$tty" = 1 ]; then
        "$QEMU" "${args[@]}" 2> >(tee "$dir/qemu.log" >&2)
        boot_rc=$?
    elif [ "$limit" = 0 ]; then
        "$QEMU" "${args[@]}" </dev/null >"$dir/qemu.log" 2>&1
        boot_rc=$?
    else
        timeout --kill-after=5 "$limit" "$QEMU" "${args[@]}" </dev/null >"$dir/qemu.log" 2>&1
        boot_rc=$?
    fi
}

# Maps QEMU's exit status to ours; sets status (our exit status) and why.
classify() {
    local rc=$1 dir=$2 limit=$3
    if [ "$rc" = 124 ]; then
        status=124 why="guest hung: killed after $limit s"
    elif [ "$rc" = 1 ] && [ ! -s "$dir/console.log" ]; then
        # 1 is also how QEMU reports its own errors; a real run prints.
        status=125 why="QEMU failed before the guest printed anything: $(grep -m1 . "$dir/qemu.log")"
    elif [ "$rc" = 1 ]; then
        status=0 why="kernel reported success"
    elif [ "$rc" = 0 ]; then
        status=125 why="guest reset or powered off without reporting a status (triple fault?)"
    elif [ $((rc & 1)) = 1 ] && [ "$rc" -lt 128 ]; then
        status=$((rc >> 1)) why="kernel reported failure status $((rc >> 1))"
    else
        status=125 why="QEMU exited with status $rc (killed by signal $((rc - 128))?, or kernel status $((rc >> 1)) >= 64)"
    fi
}

# ACCEL=auto: KVM only if it is there and a self-test boot works.
accel=$ACCEL
fallback=
if [ "$ACCEL" = auto ]; then
    probe_prog=build/user/smp_info.elf # relative: we run in ROOT
    if [ ! -e /dev/kvm ]; then
        fallback="/dev/kvm is missing"
    elif [ ! -r /dev/kvm ] || [ ! -w /dev/kvm ]; then
        fallback="/dev/kvm is not readable and writable"
    elif [ ! -f "$probe_prog" ]; then
        fallback="no self-test program $probe_prog (make user)"
    else
        pdir=$OUT/kvm-probe
        mkdir -p "$pdir"
        boot_iso=
        boot "$pdir" kvm "${QEMU_CPU:-host}" "$KVM_PROBE_TIMEOUT" "$probe_prog"
        classify "$boot_rc" "$pdir" "$KVM_PROBE_TIMEOUT"
        if [ "$status" = 0 ] && grep -q '^smp_info: ncpus=' "$pdir/console.log"; then
            rm -rf "$pdir"
        elif [ "$status" = 0 ]; then
            fallback="KVM self-test exited 0 but smp_info printed nothing; see $pdir"
        else
            # The console line that says most: a fault or panic, else the last.
            last=$(grep -aiE 'killed|panic|fault|error' "$pdir/console.log" | tail -n 1)
            [ -n "$last" ] || last=$(grep -a . "$pdir/console.log" | tail -n 1)
            fallback="KVM self-test failed: $why${last:+: \"$last\"}; see $pdir"
        fi
    fi
    if [ -n "$fallback" ]; then
        accel=icount
        echo "$ME: not using KVM ($fallback); falling back to icount" >&2
    else
        accel=kvm
    fi
fi

if [ "$accel" = kvm ]; then cpu=${QEMU_CPU:-host}; else cpu=${QEMU_CPU:-$PINNED_CPU}; fi
limit=$TIMEOUT
[ "$interactive" = 1 ] || [ "$gdb" = 1 ] && limit=0

git_rev=$(git -C "$ROOT" describe --always --dirty --abbrev=12 2>/dev/null || echo unknown)
git_dirty=0
[ -n "$(git -C "$ROOT" status --porcelain --untracked-files=no 2>/dev/null)" ] && git_dirty=1
qemu_version=$("$QEMU" --version | sed -n '1s/^QEMU emulator version //p')
sha() { sha256sum "$1" | cut -d' ' -f1; }
prog_shas=()
for p in "${progs[@]}"; do prog_shas+=("$(sha "$p")"); done
started=$(date -u +%Y-%m-%dT%H:%M:%SZ)
t0=$(date +%s%N)

{
    echo "system=kmemlab"
    echo "started_utc=$started"
    echo "git_rev=$git_rev"
    echo "git_dirty=$git_dirty"
    echo "accel=$accel"
    echo "accel_requested=$ACCEL"
    echo "accel_fallback=$fallback"
    echo "qemu_cpu=$cpu"
    echo "qemu_machine=$MACHINE"
    echo "qemu_version=$qemu_version"
    if [ "$accel" = icount ]; then echo "icount=$ICOUNT"; else echo "icount=off"; fi
    echo "rtc=$RTC"
    echo "seed=$SEED"
    echo "smp=$SMP"
    echo "mem=$MEM"
    echo "host=$(uname -n)"
    echo "cmdline_extra=$CMDLINE"
    if [ -n "$iso" ]; then
        echo "kernel=$iso"
        echo "kernel_sha256=$(sha "$iso")"
    else
        echo "kernel=$KERNEL"
        echo "kernel_sha256=$(sha "$KERNEL")"
    fi
    echo "programs=${progs[*]}"
    echo "programs_sha256=${prog_shas[*]}"
    echo "timeout=$limit"
} >"$OUT/meta"

if [ "$gdb" = 1 ]; then
    echo "$ME: QEMU waits for gdb on localhost:${GDB_PORT:-1234} (target remote :${GDB_PORT:-1234})" >&2
fi
boot_iso=$iso
if [ -n "$iso" ]; then what="image $iso"; else what="$(basename "$KERNEL") [${initrd:-no programs}]"; fi
echo "$ME: booting $what ($accel, $SMP CPUs, $MEM) into $OUT" >&2
boot "$OUT" "$accel" "$cpu" "$limit" "${progs[@]}"
classify "$boot_rc" "$OUT" "$limit"
t1=$(date +%s%N)

{
    echo "qemu_exit=$boot_rc"
    echo "exit_status=$status"
    echo "result=$why"
    echo "duration_ms=$(((t1 - t0) / 1000000))"
} >>"$OUT/meta"
# The command line, to repeat the run by hand.
{
    printf 'cd %q && ' "$ROOT"
    printf '%q ' "$QEMU" "${boot_qemu_args[@]}"
    echo
} >"$OUT/qemu.cmd"

if [ "$status" = 0 ]; then
    echo "$ME: ok: $why" >&2
else
    echo "$ME: FAILED ($status): $why" >&2
    if [ "$interactive" = 0 ]; then
        echo "$ME: last 20 console lines ($OUT/console.log):" >&2
        tail -n 20 "$OUT/console.log" 2>/dev/null | awk '{ print "  | " $0 }' >&2
        if [ -s "$OUT/qemu.log" ]; then
            echo "$ME: QEMU said ($OUT/qemu.log):" >&2
            tail -n 5 "$OUT/qemu.log" | awk '{ print "  | " $0 }' >&2
        fi
    fi
fi
# With --interactive the console went to stdout: end its last line first.
if [ "$interactive" = 1 ] && [ -s "$OUT/console.log" ] && [ -n "$(tail -c 1 "$OUT/console.log")" ]; then
    echo
fi
echo "$OUT"
exit "$status"
