/* Unit tests of the fixed-rate poll schedule. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "drivers/schedule.h"

static void
test_aligned_start(void **state)
{
    (void)state;
    struct sched s;
    sched_init(&s, 10, 0, 1003.5);
    assert_true(s.next == 1010.0);
    sched_init(&s, 10, 0, 1010.0);
    assert_true(s.next == 1010.0);
    sched_init(&s, 10, 3, 1003.5);
    assert_true(s.next == 1013.0);
    sched_init(&s, 0.5, 0, 7.1);
    assert_true(s.next == 7.5);
}

static void
test_on_time_polls_keep_the_grid(void **state)
{
    (void)state;
    struct sched s;
    sched_init(&s, 1, 0, 100);
    for (int i = 0; i < 1000; i++) {
        double slot = s.next;
        assert_true(slot == 100.0 + i);
        assert_int_equal(sched_done(&s, slot + 0.01, slot + 0.2, 0.05), 0);
    }
    assert_int_equal(s.done, 1000);
    assert_int_equal(s.skipped, 0);
    assert_int_equal(s.late, 0);
}

static void
test_late_poll_does_not_shift_later_ones(void **state)
{
    (void)state;
    struct sched s;
    sched_init(&s, 10, 0, 0);
    /* Slot 0 starts 4 s late and ends at 6 s: slot 10 is unchanged. */
    assert_int_equal(sched_done(&s, 4, 6, 0.5), 0);
    assert_true(s.next == 10.0);
    assert_int_equal(s.late, 1);
    assert_int_equal(sched_done(&s, 10, 10.1, 0.5), 0);
    assert_true(s.next == 20.0);
    assert_int_equal(s.late, 1);
}

static void
test_missed_slots_are_skipped_not_bunched(void **state)
{
    (void)state;
    struct sched s;
    sched_init(&s, 1, 0, 0);
    /* A poll that hangs for 3.5 s passes slots 1, 2 and 3. */
    assert_int_equal(sched_done(&s, 0, 3.5, 0.1), 3);
    assert_true(s.next == 4.0);
    assert_int_equal(s.skipped, 3);
    /* Ending exactly on a slot skips it too: it can no longer start on time. */
    assert_int_equal(sched_done(&s, 4, 5.0, 0.1), 1);
    assert_true(s.next == 6.0);
    assert_int_equal(s.skipped, 4);
    assert_int_equal(s.done, 2);
}

static void
test_fractional_interval_does_not_drift(void **state)
{
    (void)state;
    struct sched s;
    sched_init(&s, 0.1, 0, 0);
    for (int i = 0; i < 100000; i++)
        sched_done(&s, s.next, s.next + 0.01, 0.05);
    /* 100000 slots later the grid is still 0.1 s apart from the start. */
    assert_true(s.next > 10000.0 - 1e-6 && s.next < 10000.0 + 1e-6);
    assert_int_equal(s.skipped, 0);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_aligned_start),
        cmocka_unit_test(test_on_time_polls_keep_the_grid),
        cmocka_unit_test(test_late_poll_does_not_shift_later_ones),
        cmocka_unit_test(test_missed_slots_are_skipped_not_bunched),
        cmocka_unit_test(test_fractional_interval_does_not_drift),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
