/* Frame allocator: regions, reservations, exhaustion, contiguous runs,
 * and the panic on a bad free. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "host_support.h"
#include <kernel/frame.h>

#define MAXPHYS (8ull << 20) /* 2048 frames */
/* bits + 32-bit aux words + 16-byte loan records */
static u64 bitmap[MAXPHYS / 4096 / 64 + MAXPHYS / 4096 / 2 + MAXPHYS / 4096 * 2];

static int setup(void **state)
{
    (void)state;
    assert_int_equal(frame_bitmap_bytes(MAXPHYS), sizeof bitmap);
    frame_init(MAXPHYS, bitmap);
    return 0;
}

static void test_regions_and_reservations(void **state)
{
    (void)state;
    assert_int_equal(frame_free_count(), 0);
    assert_int_equal(frame_alloc(), 0); /* nothing free yet */
    frame_add_free(0, 1ull << 20);           /* frame 0 is never handed out */
    assert_int_equal(frame_free_count(), 255);
    frame_add_free(0x100800, 0x3000);        /* partial pages round inward */
    assert_int_equal(frame_free_count(), 255 + 2);
    frame_reserve(0x1000, 0x10);             /* touching a frame reserves it */
    assert_int_equal(frame_free_count(), 256);
    frame_add_free(MAXPHYS - 4096, 1ull << 30); /* clipped at max_phys */
    assert_int_equal(frame_free_count(), 257);
    assert_int_equal(frame_total_count(), 257);
}

static void test_alloc_all_unique_then_exhausted(void **state)
{
    (void)state;
    frame_add_free(0, MAXPHYS);
    u64 n = frame_free_count();
    assert_int_equal(n, 2047);
    static u8 seen[2048];
    memset(seen, 0, sizeof seen);
    for (u64 i = 0; i < n; i++) {
        u64 p = frame_alloc();
        assert_true(p != 0);
        assert_int_equal(p % 4096, 0);
        assert_true(p < MAXPHYS);
        assert_int_equal(seen[p / 4096], 0);
        seen[p / 4096] = 1;
    }
    assert_int_equal(frame_alloc(), 0);
    assert_int_equal(frame_free_count(), 0);
    frame_free(0x5000);
    assert_int_equal(frame_alloc(), 0x5000);
}

static void test_contiguous(void **state)
{
    (void)state;
    frame_add_free(0, MAXPHYS);
    frame_reserve(0x10000, 0x1000); /* a hole at frame 16 */
    u64 p = frame_alloc_contig(20);
    assert_true(p >= 0x11000); /* 1..15 is too short a run */
    for (u64 f = 0; f < 20; f++)
        frame_reserve(p + f * 4096, 1); /* already used: no change */
    u64 before = frame_free_count();
    frame_free_contig(p, 20);
    assert_int_equal(frame_free_count(), before + 20);
    assert_int_equal(frame_alloc_contig(5000), 0);
}

static void test_bad_free_panics(void **state)
{
    (void)state;
    frame_add_free(0, MAXPHYS);
    host_console_clear();
    expect_assert_failure(frame_free(0x3000)); /* already free */
    assert_non_null(strstr(host_console, "frame_free"));
    expect_assert_failure(frame_free(0));
    u64 p = frame_alloc();
    expect_assert_failure(frame_free(p + 8)); /* not page aligned */
}

/* The aux word links a frame to another (leaf page table -> node table). */
static void test_aux_words(void **state)
{
    (void)state;
    frame_add_free(0, MAXPHYS);
    u64 a = frame_alloc(), b = frame_alloc();
    assert_int_equal(frame_aux_get(a), 0);
    frame_aux_set(a, b);
    assert_int_equal(frame_aux_get(a), b);
    assert_int_equal(frame_aux_get(b), 0);
    frame_aux_set(a, 0);
    assert_int_equal(frame_aux_get(a), 0);
    frame_aux_set(MAXPHYS - 4096, 0x1000); /* the last frame has one too */
    assert_int_equal(frame_aux_get(MAXPHYS - 4096), 0x1000);
    expect_assert_failure(frame_aux_get(0));       /* frame 0 is never handed out */
    expect_assert_failure(frame_aux_get(MAXPHYS)); /* beyond max_phys */
    expect_assert_failure(frame_aux_set(a, 0x1234)); /* not a frame address */
    expect_assert_failure(frame_aux_set(a + 8, 0));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup(test_regions_and_reservations, setup),
        cmocka_unit_test_setup(test_alloc_all_unique_then_exhausted, setup),
        cmocka_unit_test_setup(test_contiguous, setup),
        cmocka_unit_test_setup(test_bad_free_panics, setup),
        cmocka_unit_test_setup(test_aux_words, setup),
    };
    return cmocka_run_group_tests_name("kernel frame allocator", tests, NULL, NULL);
}
