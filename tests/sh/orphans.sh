#!/usr/bin/env bash
# Threads whose TCB pages lose their lender (kmem=kpager): the guest
# programs tests/guest/orphan_*.c, each booted alone.  orphan_partner and
# orphan_sender: the thread is the partner of the IPC that orphans its TCB;
# orphan_chain: a chain of 16 kpager tasks deleted at once; orphan_reserve:
# reserve pages waiting in the orphan chain.  Each: its guest checks pass,
# it exits 0, no kernel exception or panic, no frame leaked, the kernel
# stack peak stays under 3/4 of the TCB page.
. "$(dirname "$0")/lib.sh"

U=build/user
for p in orphan_partner orphan_sender orphan_chain orphan_reserve orphan_revive orphan_linger orphan_handoff; do
    CMDLINE="kmem=kpager" TIMEOUT=120 boot "$p" "$U/$p.elf"
    log=$BOOT_OUT/console.log
    n=$(grep -cE '^ok - ' "$log")
    bad=$(grep -cE '^not ok - ' "$log")
    if [ "$n" -ge 3 ] && [ "$bad" = 0 ]; then ok "$p: $n guest checks pass"; else
        not_ok "$p: its guest checks pass" "$n ok, $bad not ok (run-qemu.sh exit $BOOT_RC)" \
            "$(grep -E '^not ok' "$log" | head -3)" "$(tail -3 "$log")"; fi
    if console_has "program 1 ($p.elf) exited with status 0" && [ "$BOOT_RC" = 0 ]; then ok "$p exits 0"; else
        not_ok "$p exits 0" "run-qemu.sh exit $BOOT_RC" "$(grep -F "program 1 ($p.elf)" "$log" | tail -1)"; fi
    if ! grep -q "KERNEL" "$log"; then ok "$p: no kernel exception or panic"; else
        not_ok "$p: no kernel exception or panic" "$(grep -m3 KERNEL "$log")"; fi
    if ! grep -q "(leak)" "$log"; then ok "$p: every frame is freed at exit"; else
        not_ok "$p: every frame is freed at exit" "$(grep '(leak)' "$log")"; fi
    peak=$(sed -n 's/.*kernel stack peak \([0-9]*\) of \([0-9]*\) bytes.*/\1 \2/p' "$log" | tail -1)
    if [ -n "$peak" ] && [ "${peak% *}" -le $(( ${peak#* } * 3 / 4 )) ]; then
        ok "$p: kernel stack peak ${peak% *} of ${peak#* } bytes"
    else not_ok "$p: kernel stack peak under 3/4" "peak: ${peak:-none reported}"; fi
done
finish
