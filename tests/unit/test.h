/* test.h — a minimal assertion kit for unit tests: failures are counted and printed. */
#ifndef SR_TEST_H
#define SR_TEST_H

#include <stdio.h>
#include <string.h>

static int t_failed, t_checks;

#define CHECK(cond)                                                                                \
    do {                                                                                           \
        t_checks++;                                                                                \
        if (!(cond)) {                                                                             \
            t_failed++;                                                                            \
            fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #cond);               \
        }                                                                                          \
    } while (0)

#define CHECK_STR(got, want)                                                                       \
    do {                                                                                           \
        const char *g_ = (got), *w_ = (want);                                                      \
        t_checks++;                                                                                \
        if (!g_ || strcmp(g_, w_) != 0) {                                                          \
            t_failed++;                                                                            \
            fprintf(stderr, "%s:%d: got '%s', want '%s'\n", __FILE__, __LINE__,                    \
                    g_ ? g_ : "(null)", w_);                                                       \
        }                                                                                          \
    } while (0)

/* Ends main(): prints the count and returns the exit status. */
#define TEST_END()                                                                                 \
    (printf("%d checks, %d failed\n", t_checks, t_failed), t_failed ? 1 : (t_checks ? 0 : 1))

#endif
