/* Unit tests of the sample queue: single pushes, batches, the limit, and
 * one wake of the main loop per empty-to-queued change. */
#include <poll.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "drivers/sampleq.h"

static int
readable(int fd)
{
    struct pollfd p = {fd, POLLIN, 0};
    return poll(&p, 1, 0) == 1;
}

static void
test_batches_arrive_whole_with_one_wake(void **state)
{
    (void)state;
    struct sampleq q;
    struct sampleq_buf batch = {0}, out = {0};
    struct sample s[3] = {{.meter = 1}, {.meter = 2}, {.meter = 3}};
    struct meter_event ev = {.meter = 2, .online = 1};

    assert_int_equal(sampleq_init(&q, 100), 0);
    sampleq_push_batch(&q, &batch); /* empty: nothing, no wake */
    assert_false(readable(q.efd));

    assert_int_equal(sampleq_buf_add(&batch, s, 2, NULL), 0);
    assert_int_equal(sampleq_buf_add(&batch, s + 2, 1, &ev), 0);
    sampleq_push_batch(&q, &batch);
    assert_int_equal(batch.nsamples, 0);
    assert_int_equal(batch.nevents, 0);
    assert_true(readable(q.efd));

    /* Another batch and a single push while queued: appended. */
    sampleq_buf_add(&batch, s, 1, NULL);
    sampleq_push_batch(&q, &batch);
    sampleq_push(&q, s + 1, 1, NULL);

    sampleq_take(&q, &out);
    assert_false(readable(q.efd));
    assert_int_equal(out.nsamples, 5);
    assert_int_equal(out.samples[2].meter, 3);
    assert_int_equal(out.samples[3].meter, 1);
    assert_int_equal(out.samples[4].meter, 2);
    assert_int_equal(out.nevents, 1);
    assert_int_equal(out.events[0].meter, 2);

    /* The buffers keep circulating without losing their memory. */
    for (int i = 0; i < 100; i++) {
        sampleq_buf_add(&batch, s, 3, NULL);
        sampleq_push_batch(&q, &batch);
        sampleq_take(&q, &out);
        assert_int_equal(out.nsamples, 3);
        assert_int_equal(out.nevents, 0);
    }
    sampleq_buf_free(&batch);
    sampleq_buf_free(&out);
    sampleq_destroy(&q);
}

static void
test_limit_drops_whole_batches(void **state)
{
    (void)state;
    struct sampleq q;
    struct sampleq_buf batch = {0}, out = {0};
    struct sample s[4] = {{0}};
    struct meter_event ev = {.meter = 7};

    sampleq_init(&q, 5);
    sampleq_buf_add(&batch, s, 4, NULL);
    sampleq_push_batch(&q, &batch);
    sampleq_buf_add(&batch, s, 4, &ev); /* 8 > 5: samples dropped */
    sampleq_push_batch(&q, &batch);
    assert_int_equal(sampleq_dropped(&q), 4);
    sampleq_take(&q, &out);
    assert_int_equal(out.nsamples, 4);
    assert_int_equal(out.nevents, 1); /* events are never dropped */

    sampleq_buf_add(&batch, s, 4, NULL);
    sampleq_buf_add(&batch, s, 4, NULL);
    sampleq_push_batch(&q, &batch); /* 8 > 5 even into an empty queue */
    assert_int_equal(sampleq_dropped(&q), 12);
    sampleq_buf_free(&batch);
    sampleq_buf_free(&out);
    sampleq_destroy(&q);
}

/* The buffers that grew while the main loop was held up give their memory
 * back once batches are small again. */
static void
test_big_buffers_shrink_again(void **state)
{
    (void)state;
    struct sampleq q;
    struct sampleq_buf batch = {0}, out = {0};
    struct sample s[3] = {{.meter = 1}, {.meter = 2}, {.meter = 3}};
    struct meter_event ev = {.meter = 9};
    size_t i;

    assert_int_equal(sampleq_init(&q, 1u << 20), 0);
    for (i = 0; i < 100000; i++)
        assert_int_equal(
            sampleq_buf_add(&batch, s + i % 3, 1, i % 50 == 0 ? &ev : NULL), 0);
    sampleq_push_batch(&q, &batch);
    sampleq_take(&q, &out);
    assert_int_equal(out.nsamples, 100000);
    assert_int_equal(out.nevents, 2000);
    assert_int_equal(out.samples[99999].meter, 1 + 99999 % 3);
    assert_true(out.capsamples >= 100000);

    for (i = 0; i < 10; i++) {
        sampleq_buf_add(&batch, s, 3, &ev);
        sampleq_push_batch(&q, &batch);
        sampleq_take(&q, &out);
        assert_int_equal(out.nsamples, 3);
        assert_int_equal(out.samples[2].meter, 3);
        assert_int_equal(out.nevents, 1);
        assert_int_equal(out.events[0].meter, 9);
    }
    assert_true(batch.capsamples <= 16384 && batch.capevents <= 1024);
    assert_true(q.in.capsamples <= 16384 && q.in.capevents <= 1024);
    assert_true(out.capsamples <= 16384 && out.capevents <= 1024);
    sampleq_buf_free(&batch);
    sampleq_buf_free(&out);
    sampleq_destroy(&q);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_batches_arrive_whole_with_one_wake),
        cmocka_unit_test(test_limit_drops_whole_batches),
        cmocka_unit_test(test_big_buffers_shrink_again),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
