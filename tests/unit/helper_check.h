/* Shared by the unit tests: running a list of check tests as one suite. */
#ifndef DWS_TEST_HELPER_CHECK_H
#define DWS_TEST_HELPER_CHECK_H

#include <check.h>

/* Runs tests[0..n) (START_TEST names) in one suite and case called name; returns the
 * process's exit status (1 when any failed). */
int th_run_tests(const char *name, const TTest *const *tests, int n);

#endif
