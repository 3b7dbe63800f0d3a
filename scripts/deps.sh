#!/usr/bin/env bash
# deps.sh: check that the Debian packages kmemlab needs are installed; as
# root, install the missing ones, otherwise print the apt-get line to run.
#
# Usage: scripts/deps.sh [--check]
#   --check   only report (exit 1 if anything is missing), never install
# Exit status: 0 all present (or installed), 1 missing, 2 bad usage.
set -euo pipefail

# What each package is for:
#   gcc make binutils   kernel, user programs, host tools
#   qemu-system-x86     runs the kernel (scripts/run-qemu.sh)
#   gnuplot-nox         charts (analyze/)
#   libsqlite3-dev sqlite3   results database (analyze/)
#   babeltrace2         reads our CTF traces (trace/ tests)
#   libpfm4-dev         perf event names for the PMU and the Linux baseline
#   libcmocka-dev       host unit tests
#   clang libclang-rt-dev   the libFuzzer harness (make fuzz, tests/sh/fuzz_kmem.sh)
#   valgrind            memory checks of host tools
#   git                 revisions recorded with every run
#   grub-pc-bin grub-common xorriso mtools   make iso (grub-mkrescue, BIOS)
#   busybox-static cpio  the Linux guest's initramfs (make linux-guest)
#   gdb                 scripts/fault_profile.sh (single-steps the guest)
PACKAGES=(gcc make binutils qemu-system-x86 gnuplot-nox libsqlite3-dev sqlite3
    babeltrace2 libpfm4-dev libcmocka-dev clang libclang-rt-dev valgrind git
    grub-pc-bin grub-common xorriso mtools busybox-static cpio gdb)

check_only=0
case "${1:-}" in
"") ;;
--check) check_only=1 ;;
-h | --help)
    sed -n '2,8s/^# \{0,1\}//p' "$0"
    exit 0
    ;;
*)
    echo "deps.sh: unknown option '$1' (try --help)" >&2
    exit 2
    ;;
esac

if ! command -v dpkg-query >/dev/null 2>&1; then
    echo "deps.sh: dpkg-query not found: this script knows Debian packages only;" >&2
    echo "deps.sh: install the equivalents of: ${PACKAGES[*]}" >&2
    exit 1
fi

# One dpkg-query for all packages: "name status" for the installed ones.
installed=$(dpkg-query -W -f='${Package} ${db:Status-Abbrev}\n' "${PACKAGES[@]}" 2>/dev/null || true)
missing=()
for p in "${PACKAGES[@]}"; do
    grep -qE "^$p ii" <<<"$installed" || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0

apt_line="apt-get update && apt-get install -y --no-install-recommends ${missing[*]}"
if [ "$check_only" = 1 ] || [ "$(id -u)" != 0 ]; then
    echo "deps.sh: missing packages: ${missing[*]}" >&2
    echo "deps.sh: install them with (as root):" >&2
    echo "  $apt_line" >&2
    exit 1
fi

echo "deps.sh: installing ${missing[*]} ..." >&2
log=$(mktemp "${TMPDIR:-/tmp}/kmemlab-deps.XXXXXX")
export DEBIAN_FRONTEND=noninteractive
if apt-get update -qq >"$log" 2>&1 &&
    apt-get install -y -qq --no-install-recommends "${missing[@]}" >>"$log" 2>&1; then
    rm -f "$log"
    echo "deps.sh: installed ${#missing[@]} package(s)" >&2
    exit 0
fi
tail -n 20 "$log" >&2
echo "deps.sh: apt-get failed (full log: $log); the command was:" >&2
echo "  $apt_line" >&2
exit 1
