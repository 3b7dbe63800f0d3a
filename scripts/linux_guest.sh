#!/usr/bin/env bash
# scripts/linux_guest.sh: the Linux baseline inside a Linux guest under QEMU
# icount, so that Linux's fault path and ours are measured by the same
# ruler: guest instructions, on the same pinned CPU model, machine, RTC and
# seed as scripts/run-qemu.sh uses for our kernel (read from that script).
#
# Steps: fetch a Debian kernel package with `apt-get download` (cached in
# build/linux-guest/), unpack it with `dpkg-deb -x`; build an initramfs of
# busybox-static and build/host/fault_linux_static whose /init runs
# fault_linux (--events none: TCG has no PMU) and writes its samples file
# to the second serial port; boot it; import the file with
# `kmemlab import-linux --meta` as a run with system=linux, accel=icount.
#
# Usage: scripts/linux_guest.sh [-n SAMPLES] [--warmup N] [-o DIR] [--no-import]
#   -n SAMPLES    measured faults per shape (default 2000)
#   --warmup N    faults per shape before measuring (default 200)
#   -o DIR        run directory (default build/runs/linux-guest-<UTC time>):
#                 samples.txt, console.log, meta, qemu.cmd
#   --no-import   measure only
# Environment: DB (default results/runs.db); LINUX_PKG (default: what
#   linux-image-cloud-amd64 depends on, e.g. linux-image-6.1.0-56-cloud-amd64);
#   SMP (default 1), MEM (default 512M), TIMEOUT (default 120 s).
# Exit status: 0 ok, 1 a step failed, 2 usage error, 3 the kernel package
# could not be fetched (no network or no such package; the reason on stderr).
set -uo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT" || exit 1
ME=linux_guest.sh
KMEMLAB=build/host/kmemlab
FL=build/host/fault_linux_static
CACHE=build/linux-guest
QEMU=${QEMU:-qemu-system-x86_64}
DB=${DB:-results/runs.db}
# One CPU: fault_linux runs pinned anyway, and with two vCPUs this Linux
# (6.1) hung in early boot under icount here (no output after the CPU
# mitigation messages for 300 s).
SMP=${SMP:-1}
MEM=${MEM:-512M}
TIMEOUT=${TIMEOUT:-120}
export DB

die() { echo "$ME: $*" >&2; exit 1; }
die_usage() { echo "$ME: $* (try --help)" >&2; exit 2; }
step() { printf '[%s] %s\n' "$1" "$2"; }

n=2000
warmup=200
out=
import=1
while [ $# -gt 0 ]; do
    case "$1" in
    -h | --help) sed -n '2,/^set -uo/{/^set -uo/d;s/^# \{0,1\}//;p}' "$0"; exit 0 ;;
    -n | --warmup | -o)
        [ $# -ge 2 ] || die_usage "$1 needs a value"
        case "$1" in -n) n=$2 ;; --warmup) warmup=$2 ;; -o) out=$2 ;; esac
        shift ;;
    --no-import) import=0 ;;
    *) die_usage "unknown argument '$1'" ;;
    esac
    shift
done
[[ "$n" =~ ^[0-9]+$ ]] && [ "$n" -ge 1 ] || die_usage "-n must be a positive number, not '$n'"
[[ "$warmup" =~ ^[0-9]+$ ]] || die_usage "--warmup must be a number, not '$warmup'"
[[ "$SMP" =~ ^[0-9]+$ ]] && [ "$SMP" -ge 1 ] || die_usage "SMP must be a positive number"

# The pinned settings of our kernel's icount runs: one definition.
eval "$(grep -E '^(PINNED_CPU|MACHINE|RTC|SEED|ICOUNT)=' scripts/run-qemu.sh)"
[ -n "${PINNED_CPU:-}" ] && [ -n "${ICOUNT:-}" ] || die "cannot read the pinned QEMU settings from scripts/run-qemu.sh"
command -v "$QEMU" >/dev/null || die "$QEMU not found (scripts/deps.sh installs qemu-system-x86)"
BUSYBOX=/bin/busybox
[ -x "$BUSYBOX" ] || die "no $BUSYBOX (package busybox-static; scripts/deps.sh installs it)"
# grep reads all of the help (no -q): quitting at the first match can
# kill cpio with SIGPIPE, which pipefail turns into a false "no cpio".
cpio --help 2>/dev/null | grep -- --reproducible >/dev/null || die "no GNU cpio with --reproducible (package cpio)"
file -L "$BUSYBOX" 2>/dev/null | grep -q 'statically linked' || ldd "$BUSYBOX" 2>&1 | grep -q 'not a dynamic' ||
    die "$BUSYBOX is not statically linked (install busybox-static, not busybox)"

step 1/5 "building fault_linux (static) and kmemlab"
make --no-print-directory "$FL" "$KMEMLAB" >/dev/null || die "build failed"

# ---- the kernel package ----
# fetch_kernel: sets VMLINUZ and LINUX_PKG; exits 3 when it cannot fetch.
fetch_kernel() {
    local pkg=${LINUX_PKG:-} dir deb log
    mkdir -p "$CACHE"
    if [ -z "$pkg" ]; then
        pkg=$(apt-cache depends linux-image-cloud-amd64 2>/dev/null | sed -n 's/^ *Depends: \(linux-image-[^ ]*\)$/\1/p' | head -n 1)
        # No package lists: use what an earlier run fetched, if anything.
        [ -n "$pkg" ] || pkg=$(ls "$CACHE" 2>/dev/null | sed -n 's/^\(linux-image-.*\)_[^_]*_amd64\.deb$/\1/p' | tail -n 1)
        if [ -z "$pkg" ]; then
            echo "$ME: cannot tell which kernel package to fetch: apt-cache knows no linux-image-cloud-amd64 (run apt-get update, or set LINUX_PKG)" >&2
            exit 3
        fi
    fi
    LINUX_PKG=$pkg
    deb=$(ls "$CACHE/${pkg}_"*_amd64.deb 2>/dev/null | tail -n 1)
    if [ -z "$deb" ]; then
        log=$CACHE/download.log
        if ! (cd "$CACHE" && apt-get download "$pkg") >"$log" 2>&1; then
            echo "$ME: apt-get download $pkg failed: $(grep -E '^(E|Err):' "$log" | head -n 1)" >&2
            echo "$ME: (full output in $log)" >&2
            exit 3
        fi
        deb=$(ls "$CACHE/${pkg}_"*_amd64.deb 2>/dev/null | tail -n 1)
        [ -n "$deb" ] || { echo "$ME: apt-get download $pkg left no .deb in $CACHE" >&2; exit 3; }
    fi
    dir=$CACHE/${deb##*/}
    dir=${dir%.deb}
    if [ ! -d "$dir/boot" ]; then
        rm -rf "$dir.tmp"
        dpkg-deb -x "$deb" "$dir.tmp" || die "dpkg-deb -x $deb failed"
        mv "$dir.tmp" "$dir"
    fi
    VMLINUZ=$(ls "$dir"/boot/vmlinuz-* 2>/dev/null | head -n 1)
    [ -n "$VMLINUZ" ] || die "no boot/vmlinuz-* in $deb"
}
step 2/5 "fetching the Debian kernel package (cache: $CACHE)"
fetch_kernel
echo "    $LINUX_PKG: $VMLINUZ"

# ---- the initramfs ----
if [ -z "$out" ]; then
    mkdir -p build/runs
    out=build/runs/linux-guest-$(date -u +%Y%m%dT%H%M%SZ)
fi
mkdir -p "$out" || die "cannot create $out"
out=$(cd "$out" && pwd)
rm -f "$out/samples.txt" "$out/console.log" "$out/meta" "$out/qemu.cmd" "$out/initramfs.cpio"
rev=$(git describe --always --dirty --abbrev=12 2>/dev/null || echo unknown)
step 3/5 "initramfs: busybox and fault_linux -n $n --warmup $warmup"
root=$(mktemp -d "${TMPDIR:-/tmp}/kmemlab-initramfs.XXXXXX") || die "no temporary directory"
trap 'rm -rf "$root"' EXIT
mkdir -p "$root/bin" "$root/proc" "$root/sys" "$root/dev"
cp "$BUSYBOX" "$root/bin/busybox" && cp "$FL" "$root/bin/fault_linux" || die "cannot copy busybox or fault_linux"
# /init: the samples file goes to ttyS1 in raw mode (no \n -> \r\n), the
# notes and the verdict to the console (ttyS0); then power off.
cat >"$root/init" <<EOF
#!/bin/busybox sh
/bin/busybox --install -s /bin
export PATH=/bin
mount -t proc proc /proc
mount -t sysfs sys /sys
mount -t devtmpfs dev /dev
stty -F /dev/ttyS1 raw -echo
echo "kmemlab-guest: Linux \$(uname -r), \$(grep -m1 'model name' /proc/cpuinfo)"
fault_linux -n $n --warmup $warmup --cpu 0 --events none --git-rev $rev -o - >/dev/ttyS1
echo "kmemlab-guest: fault_linux exit \$?"
poweroff -f
EOF
chmod +x "$root/init"
# The same inputs must give the same archive, byte for byte: fixed times
# and owners, and inode numbers renumbered (--reproducible).  Different
# inode numbers alone changed the figures (Linux's unpacker hashes them,
# and the memory it allocates differently moves later page allocations).
find "$root" -exec touch -h -d @0 {} +
(cd "$root" && find . | LC_ALL=C sort | cpio -o -H newc -R 0:0 --reproducible --quiet >"$out/initramfs.cpio") ||
    die "cpio failed"

# ---- boot ----
# quiet: a faster boot (fewer console bytes); panic=-1: a panic ends QEMU.
APPEND="console=ttyS0 quiet panic=-1"
args=(-machine "$MACHINE" -nodefaults -no-user-config -display none -no-reboot
    -cpu "$PINNED_CPU" -smp "$SMP" -m "$MEM" -rtc "$RTC" -seed "$SEED"
    -accel tcg -icount "$ICOUNT"
    -kernel "$VMLINUZ" -initrd "$out/initramfs.cpio" -append "$APPEND"
    -serial "file:$out/console.log" -serial "file:$out/samples.txt")
{ printf 'cd %q && ' "$ROOT"; printf '%q ' "$QEMU" "${args[@]}"; echo; } >"$out/qemu.cmd"
step 4/5 "booting Linux under icount ($SMP CPUs, $MEM, CPU ${PINNED_CPU%%,*}) into $out"
t0=$(date +%s%N)
started=$(date -u +%Y-%m-%dT%H:%M:%SZ)
timeout --kill-after=5 "$TIMEOUT" "$QEMU" "${args[@]}" </dev/null >"$out/qemu.log" 2>&1
rc=$?
ms=$((($(date +%s%N) - t0) / 1000000))
verdict=$(grep -a 'kmemlab-guest: fault_linux exit' "$out/console.log" | tail -n 1 | tr -d '\r')
if [ "$rc" = 124 ]; then
    die "the guest hung: killed after $TIMEOUT s (console: $out/console.log)"
elif [ "$rc" != 0 ]; then
    die "QEMU exited with status $rc: $(head -n 2 "$out/qemu.log") (console: $out/console.log)"
elif [ "$verdict" != "kmemlab-guest: fault_linux exit 0" ]; then
    grep -a 'fault_linux' "$out/console.log" | tail -n 5 | sed 's/^/  | /' >&2
    die "fault_linux did not finish in the guest (${verdict:-no verdict line}; console: $out/console.log)"
fi
grep -a '^fault_linux' "$out/console.log" | sed 's/\r$//; s/^/    /'
echo "    $((ms / 1000)).$((ms % 1000 / 100)) s wall"

{
    echo "system=linux"
    echo "started_utc=$started"
    echo "accel=icount"
    echo "accel_requested=icount"
    echo "qemu_cpu=$PINNED_CPU"
    echo "qemu_machine=$MACHINE"
    echo "qemu_version=$("$QEMU" --version | sed -n '1s/^QEMU emulator version //p')"
    echo "icount=$ICOUNT"
    echo "rtc=$RTC"
    echo "seed=$SEED"
    echo "smp=$SMP"
    echo "mem=$MEM"
    echo "host=$(uname -n)"
    echo "cmdline_extra=$APPEND"
    echo "kernel=$VMLINUZ"
    echo "kernel_sha256=$(sha256sum "$VMLINUZ" | cut -d' ' -f1)"
    echo "programs=fault_linux"
    echo "programs_sha256=$(sha256sum "$FL" | cut -d' ' -f1)"
    echo "timeout=$TIMEOUT"
    echo "qemu_exit=$rc"
    echo "exit_status=0"
    echo "duration_ms=$ms"
} >"$out/meta"

if [ "$import" = 0 ]; then
    step 5/5 "not importing (--no-import): $out/samples.txt"
    exit 0
fi
step 5/5 "importing into $DB"
mkdir -p "$(dirname "$DB")"
id=$("$KMEMLAB" import-linux "$out/samples.txt" --meta "$out/meta") ||
    die "import failed; the samples stay in $out"
echo "    run $id"
echo
"$KMEMLAB" show "$id" --brief
