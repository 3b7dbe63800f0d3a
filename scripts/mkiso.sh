#!/usr/bin/env bash
# mkiso.sh: a bootable GRUB image (BIOS; CD or USB stick) that runs the
# kernel with the benchmark programs as multiboot modules, for bare metal.
# The console and the trace dump both go to COM1 at 115200 8N1: the kernel
# runs with dump=com1, which writes the dump as base64 lines between the
# console's (format in kernel/abi/include/abi/dump.h); `kmemlab import LOG`
# reads the captured log.
#
# Usage: scripts/mkiso.sh [-o ISO] [--cmdline OPTS] [--timeout S] [PROG.elf...]
#   -o ISO          output image (default build/kmemlab.iso)
#   --cmdline OPTS  more kernel options after dump=com1 (e.g. "timer_hz=1000")
#   --timeout S     seconds GRUB's menu waits (default 0: boots at once)
#   PROG.elf...     boot modules in run order (default: the benchmark suite,
#                   as `make bench` runs it)
# Environment: KERNEL (default build/kernel.bin).
# Needs grub-mkrescue (grub-common, grub-pc-bin), xorriso and mtools:
# scripts/deps.sh installs them.
# Exit status: 0 image written, 1 a step failed, 2 usage error.
set -uo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT" || exit 1
ME=mkiso.sh
BENCH=(null_syscall trace_overhead ipc_roundtrip fault_simple map_unmap)

die() { echo "$ME: $*" >&2; exit 1; }
die_usage() { echo "$ME: $* (try --help)" >&2; exit 2; }

out=build/kmemlab.iso
cmdline=
timeout=0
progs=()
while [ $# -gt 0 ]; do
    case "$1" in
    -h | --help) sed -n '2,/^set -uo/{/^set -uo/d;s/^# \{0,1\}//;p}' "$0"; exit 0 ;;
    -o | --cmdline | --timeout)
        [ $# -ge 2 ] || die_usage "$1 needs a value"
        case "$1" in -o) out=$2 ;; --cmdline) cmdline=$2 ;; --timeout) timeout=$2 ;; esac
        shift ;;
    -*) die_usage "unknown option '$1'" ;;
    *) progs+=("$1") ;;
    esac
    shift
done
[[ "$timeout" =~ ^[0-9]+$ ]] || die_usage "--timeout must be a number of seconds, not '$timeout'"
# GRUB would split or expand these; the kernel knows none of them anyway.
[[ "$cmdline" != *[\;\$\"\'\\\{\}]* ]] || die_usage "--cmdline must not contain ; \$ quotes \\ or braces"
[[ " $cmdline " != *" dump="* ]] || die_usage "the image always uses dump=com1; leave dump= out of --cmdline"
KERNEL=${KERNEL:-build/kernel.bin}
[ ${#progs[@]} -gt 0 ] || for b in "${BENCH[@]}"; do progs+=("build/user/$b.elf"); done

command -v grub-mkrescue >/dev/null || die "grub-mkrescue not found (scripts/deps.sh installs grub-common, grub-pc-bin, xorriso, mtools)"
[ -d /usr/lib/grub/i386-pc ] || die "no GRUB BIOS modules in /usr/lib/grub/i386-pc (package grub-pc-bin)"
command -v xorriso >/dev/null || die "xorriso not found (package xorriso)"
[ -f "$KERNEL" ] || die "no kernel image $KERNEL (make kernel)"
for p in "${progs[@]}"; do
    [ -f "$p" ] || die "no such program: $p (make user)"
    [[ "$(basename "$p")" =~ ^[A-Za-z0-9_.-]+$ ]] || die "program name must be [A-Za-z0-9_.-]: $p"
done

work=$(mktemp -d "${TMPDIR:-/tmp}/kmemlab-iso.XXXXXX") || die "cannot make a temporary directory"
trap 'rm -rf "$work"' EXIT
tree=$work/tree # what goes on the image; the log stays beside it
mkdir -p "$tree/boot/grub"
cp "$KERNEL" "$tree/boot/kernel.bin" || die "cannot copy $KERNEL"
for p in "${progs[@]}"; do cp "$p" "$tree/boot/" || die "cannot copy $p"; done

# GRUB speaks on COM1 too, so the whole session lands in one capture; its
# own output (menu, escape sequences) is console text to the importer.
{
    echo "# kmemlab bare-metal image, made by scripts/mkiso.sh from git $(git describe --always --dirty --abbrev=12 2>/dev/null || echo unknown)"
    echo "serial --unit=0 --speed=115200 --word=8 --parity=no --stop=1"
    echo "terminal_input serial console"
    echo "terminal_output serial console"
    echo "set timeout=$timeout"
    echo "menuentry \"kmemlab: ${#progs[@]} programs, dump on COM1\" {"
    echo "    echo \"kmemlab: loading the kernel and ${#progs[@]} programs\""
    # GRUB 2 passes the words after the file as the command line; QEMU and
    # GRUB legacy put the path first, and the kernel skips the first word:
    # so the path again, as that first word.
    echo "    multiboot /boot/kernel.bin /boot/kernel.bin dump=com1${cmdline:+ $cmdline}"
    # The module's string names the program (the kernel prints and records it).
    for p in "${progs[@]}"; do echo "    module /boot/$(basename "$p") $(basename "$p")"; done
    echo "    boot"
    echo "}"
} >"$tree/boot/grub/grub.cfg"

echo "$ME: $KERNEL + ${#progs[@]} programs, kernel options 'dump=com1${cmdline:+ $cmdline}'" >&2
mkdir -p "$(dirname "$out")" || die "cannot create $(dirname "$out")"
log=$work/mkrescue.log # not in $tree: xorriso fails on a file that grows while it reads
# Only the BIOS platform: the kernel finds ACPI tables in the BIOS area,
# which UEFI machines (without CSM) do not provide.
if ! grub-mkrescue -d /usr/lib/grub/i386-pc -o "$out.tmp" "$tree" >"$log" 2>&1; then
    tail -n 10 "$log" >&2
    rm -f "$out.tmp"
    die "grub-mkrescue failed"
fi
mv "$out.tmp" "$out" || die "cannot write $out"
echo "$ME: wrote $out ($(($(stat -c %s "$out") / 1024)) KiB); write it to a USB stick with" >&2
echo "$ME:   dd if=$out of=/dev/sdX bs=4M conv=fsync   (sdX: the stick, not a disk you need)" >&2
echo "$out"
