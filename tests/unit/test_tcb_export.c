/* The exported TCB's checks (kernel/tcb_export.c): what a kpager may hand
 * back for a restore, field by field, and what the kernel then uses. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "host_support.h"
#include <arch/layout.h>
#include <kernel/tcb_export.h>

#define TID KM_ID(37, 5)

/* An export as the kernel writes it for a thread waiting in a receive. */
static struct km_tcb_export good(void)
{
    struct km_tcb_export e;
    tcb_export_make(&e, TID, KM_KCONT_IPC_WAIT, KM_ANYTHREAD);
    e.rip = 0x401234;
    e.rsp = 0x7ffffff000;
    e.rflags = 0x246;
    e.rax = 9, e.rbx = 0x1111, e.r15 = 0xfffffffffffffffful; /* any value: user data */
    return e;
}

static void test_made_header(void **state)
{
    (void)state;
    struct km_tcb_export e;
    memset(&e, 0x5a, sizeof e);
    tcb_export_make(&e, TID, KM_KCONT_START, KM_NILTHREAD);
    assert_int_equal(e.magic, KM_TCB_MAGIC);
    assert_int_equal(e.tid, TID);
    assert_int_equal(e.cont, KM_KCONT_START);
    assert_int_equal(e.from, KM_NILTHREAD);
    const u8 *b = (const u8 *)&e;
    for (size_t i = 32; i < sizeof e; i++) /* registers: the arch fills them in */
        assert_int_equal(b[i], 0);
}

static void test_good_export_comes_back_unchanged(void **state)
{
    (void)state;
    struct km_tcb_export e = good(), out;
    memset(&out, 0, sizeof out);
    assert_int_equal(tcb_export_check(&e, TID, KM_KCONT_IPC_WAIT, &out), TCB_OK);
    assert_memory_equal(&out, &e, sizeof e); /* 0x246: nothing to mask */
}

static void test_each_field_refused(void **state)
{
    (void)state;
    struct km_tcb_export e, out;
    e = good(), e.magic ^= 1;
    assert_int_equal(tcb_export_check(&e, TID, KM_KCONT_IPC_WAIT, &out), TCB_BAD_MAGIC);
    e = good(), e.tid = KM_ID(37, 4); /* an older thread of that slot */
    assert_int_equal(tcb_export_check(&e, TID, KM_KCONT_IPC_WAIT, &out), TCB_BAD_TID);
    e = good(), e.tid = KM_ID(38, 5);
    assert_int_equal(tcb_export_check(&e, TID, KM_KCONT_IPC_WAIT, &out), TCB_BAD_TID);
    e = good();
    assert_int_equal(tcb_export_check(&e, TID, KM_KCONT_START, &out), TCB_BAD_CONT);
    e = good(), e.cont = 0;
    assert_int_equal(tcb_export_check(&e, TID, KM_KCONT_IPC_WAIT, &out), TCB_BAD_CONT);
    e = good(), e.reserved = 1;
    assert_int_equal(tcb_export_check(&e, TID, KM_KCONT_IPC_WAIT, &out), TCB_BAD_RESERVED);
    e = good(), e.rip = 0xffffffff80001000ull; /* the kernel's text */
    assert_int_equal(tcb_export_check(&e, TID, KM_KCONT_IPC_WAIT, &out), TCB_BAD_RIP);
    e = good(), e.rip = USER_TOP;
    assert_int_equal(tcb_export_check(&e, TID, KM_KCONT_IPC_WAIT, &out), TCB_BAD_RIP);
    e = good(), e.rsp = 0x0000800000000000ull; /* not canonical */
    assert_int_equal(tcb_export_check(&e, TID, KM_KCONT_IPC_WAIT, &out), TCB_BAD_RSP);
    assert_string_equal(tcb_export_verdict_name(TCB_BAD_RSP), "rsp");
}

static void test_edges_accepted(void **state)
{
    (void)state;
    struct km_tcb_export e = good(), out;
    e.rip = USER_TOP - 1, e.rsp = 0; /* the last user byte; a null stack is the user's business */
    assert_int_equal(tcb_export_check(&e, TID, KM_KCONT_IPC_WAIT, &out), TCB_OK);
    e = good(), e.from = 0x123456789abcull; /* informative only */
    assert_int_equal(tcb_export_check(&e, TID, KM_KCONT_IPC_WAIT, &out), TCB_OK);
}

static void test_rflags_masked(void **state)
{
    (void)state;
    struct km_tcb_export e = good(), out;
    e.rflags = ~0ull; /* IOPL 3, NT, RF, VM, VIF, VIP, ID, AC... */
    assert_int_equal(tcb_export_check(&e, TID, KM_KCONT_IPC_WAIT, &out), TCB_OK);
    assert_int_equal(out.rflags, 0x240dd5ull | 0x202);
    assert_int_equal(out.rflags & 0x3000, 0);  /* IOPL */
    assert_int_equal(out.rflags & 0x20000, 0); /* VM */
    assert_int_equal(out.rflags & 0x4000, 0);  /* NT */
    e.rflags = 0; /* interrupts off: not the user's to choose */
    assert_int_equal(tcb_export_check(&e, TID, KM_KCONT_IPC_WAIT, &out), TCB_OK);
    assert_int_equal(out.rflags, 0x202);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_made_header),
        cmocka_unit_test(test_good_export_comes_back_unchanged),
        cmocka_unit_test(test_each_field_refused),
        cmocka_unit_test(test_edges_accepted),
        cmocka_unit_test(test_rflags_masked),
    };
    return cmocka_run_group_tests_name("exported TCBs", tests, NULL, NULL);
}
