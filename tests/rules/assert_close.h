/*
 * assert_close.h — a cmocka assertion for doubles. cmocka 1.1's
 * assert_float_equal narrows to float, too coarse for engineering values.
 */
#ifndef SAFETYGW_TEST_ASSERT_CLOSE_H
#define SAFETYGW_TEST_ASSERT_CLOSE_H

#include <math.h>

#define assert_close(actual, expected, tolerance)                                                  \
    do {                                                                                           \
        double actual_ = (actual);                                                                 \
        double expected_ = (expected);                                                             \
        if (!(fabs(actual_ - expected_) <= (tolerance)))                                           \
            fail_msg("%s is %.10g, expected %.10g", #actual, actual_, expected_);                  \
    } while (0)

#endif
