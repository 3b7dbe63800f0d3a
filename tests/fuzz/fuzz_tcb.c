/* libFuzzer harness of the TCB import check (kernel/tcb_export.c, the
 * format in abi/kspace.h): the input is a page a kpager hands back for a
 * restore.  Its first byte says which header fields to make right (so
 * that the search also reaches the register checks) and which
 * continuation the kernel kept; the rest is the export as it comes.
 *
 * Checked on every input: an accepted export keeps rip and rsp in user
 * space, rflags only with flags user code may set and IF on, and every
 * other field as given; a refused one names a field that is wrong.
 *
 * Build: make fuzz-tcb (FUZZ_TIME=seconds); a brief deterministic run is
 * part of make test (tests/sh/fuzz_kmem.sh). */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <arch/layout.h>
#include <kernel/tcb_export.h>

#define FAIL(...)                                                                                  \
    do {                                                                                           \
        fprintf(stderr, "fuzz_tcb: " __VA_ARGS__);                                                \
        fputc('\n', stderr);                                                                       \
        abort();                                                                                   \
    } while (0)

#define TID KM_ID(37, 5)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    u8 fix = data[0];
    struct km_tcb_export e, out;
    memset(&e, 0, sizeof e);
    memcpy(&e, data + 1, size - 1 < sizeof e ? size - 1 : sizeof e);
    if (fix & 1)
        e.magic = KM_TCB_MAGIC;
    if (fix & 2)
        e.tid = TID;
    u32 want = fix & 4 ? KM_KCONT_IPC_WAIT : KM_KCONT_START;
    if (fix & 8)
        e.cont = want;
    if (fix & 16)
        e.reserved = 0;
    if (fix & 32)
        e.rip &= USER_TOP - 1;
    if (fix & 64)
        e.rsp &= USER_TOP - 1;
    struct km_tcb_export in = e;
    memset(&out, 0xa5, sizeof out);
    enum tcb_export_verdict v = tcb_export_check(&e, TID, want, &out);
    if (memcmp(&in, &e, sizeof e))
        FAIL("the check wrote to the page it read");
    switch (v) {
    case TCB_OK:
        if (out.magic != KM_TCB_MAGIC || out.tid != TID || out.cont != want || out.reserved)
            FAIL("accepted a wrong header");
        if (out.rip >= USER_TOP || out.rsp >= USER_TOP)
            FAIL("accepted rip %lx rsp %lx", (unsigned long)out.rip, (unsigned long)out.rsp);
        if ((out.rflags & ~(KM_TCB_RFLAGS_USER | KM_TCB_RFLAGS_ON)) ||
            (out.rflags & KM_TCB_RFLAGS_ON) != KM_TCB_RFLAGS_ON)
            FAIL("rflags %lx", (unsigned long)out.rflags);
        out.rflags = e.rflags;
        if (memcmp(&out, &e, sizeof e))
            FAIL("accepted export changed beyond rflags");
        break;
    case TCB_BAD_MAGIC:
        if (e.magic == KM_TCB_MAGIC)
            FAIL("refused a good magic");
        break;
    case TCB_BAD_TID:
        if (e.tid == TID)
            FAIL("refused the right tid");
        break;
    case TCB_BAD_CONT:
        if (e.cont == want)
            FAIL("refused the right continuation");
        break;
    case TCB_BAD_RESERVED:
        if (!e.reserved)
            FAIL("refused reserved 0");
        break;
    case TCB_BAD_RIP:
        if (e.rip < USER_TOP)
            FAIL("refused a user rip");
        break;
    case TCB_BAD_RSP:
        if (e.rsp < USER_TOP)
            FAIL("refused a user rsp");
        break;
    default:
        FAIL("verdict %d", (int)v);
    }
    return 0;
}
