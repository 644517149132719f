/* Unit tests of the timer heap: order, moves, removals, against a sorted
 * reference. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include <cmocka.h>

#include "drivers/theap.h"

static void
test_pops_in_order(void **state)
{
    (void)state;
    struct theap h;
    struct theap_node t[5] = {{0}};
    const double at[5] = {3, 1, 4, 1.5, 0.5};

    assert_int_equal(theap_init(&h, 5), 0);
    assert_null(theap_top(&h));
    for (int i = 0; i < 5; i++)
        assert_int_equal(theap_set(&h, &t[i], at[i]), 0);
    assert_int_equal(theap_set(&h, &(struct theap_node){0}, 9), -1);
    const int order[5] = {4, 1, 3, 0, 2};
    for (int i = 0; i < 5; i++) {
        struct theap_node *top = theap_top(&h);
        assert_ptr_equal(top, &t[order[i]]);
        theap_del(&h, top);
        assert_false(theap_queued(top));
    }
    assert_null(theap_top(&h));
    theap_free(&h);
}

static void
test_move_and_delete(void **state)
{
    (void)state;
    struct theap h;
    struct theap_node a = {0}, b = {0}, c = {0};

    theap_init(&h, 3);
    theap_set(&h, &a, 10);
    theap_set(&h, &b, 20);
    theap_set(&h, &c, 30);
    theap_set(&h, &c, 5); /* earlier */
    assert_ptr_equal(theap_top(&h), &c);
    theap_set(&h, &c, 25); /* later again */
    assert_ptr_equal(theap_top(&h), &a);
    theap_del(&h, &a);
    theap_del(&h, &a); /* not queued: nothing */
    assert_ptr_equal(theap_top(&h), &b);
    assert_int_equal(h.n, 2);
    theap_free(&h);
}

/* Random sets, moves and deletions keep the heap property and pop in
 * deadline order. */
static void
test_random_against_reference(void **state)
{
    (void)state;
    enum { N = 500 };
    static struct theap_node t[N];
    struct theap h;

    srand(7);
    theap_init(&h, N);
    for (int step = 0; step < 20000; step++) {
        struct theap_node *x = &t[rand() % N];
        if (rand() % 4 == 0)
            theap_del(&h, x);
        else
            theap_set(&h, x, (double)(rand() % 1000));
        for (size_t i = 1; i < h.n; i++) {
            const struct theap_node *p = h.v[(i - 1) / 2], *c = h.v[i];
            assert_true(p->at < c->at || (p->at == c->at && p < c));
        }
        for (size_t i = 0; i < h.n; i++)
            assert_int_equal(h.v[i]->pos, i + 1);
    }
    double last = -1;
    size_t n = h.n;
    for (size_t i = 0; i < n; i++) {
        struct theap_node *top = theap_top(&h);
        assert_true(top->at >= last);
        last = top->at;
        theap_del(&h, top);
    }
    assert_int_equal(h.n, 0);
    theap_free(&h);
}

static void
test_equal_deadlines_pop_in_array_order(void **state)
{
    (void)state;
    enum { N = 64 };
    static struct theap_node t[N];
    struct theap h;

    theap_init(&h, N);
    for (int i = N - 1; i >= 0; i--)
        theap_set(&h, &t[(i * 37) % N], 5.0);
    for (int i = 0; i < N; i++) {
        struct theap_node *top = theap_top(&h);
        assert_ptr_equal(top, &t[i]);
        theap_del(&h, top);
    }
    theap_free(&h);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_pops_in_order),
        cmocka_unit_test(test_move_and_delete),
        cmocka_unit_test(test_random_against_reference),
        cmocka_unit_test(test_equal_deadlines_pop_in_array_order),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
