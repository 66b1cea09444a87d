#include "helper_check.h"

int th_run_tests(const char *name, const TTest *const *tests, int n)
{
    TCase *tc = tcase_create(name);
    for (int i = 0; i < n; i++) tcase_add_test(tc, tests[i]);
    Suite *s = suite_create(name);
    suite_add_tcase(s, tc);
    SRunner *runner = srunner_create(s);
    srunner_set_fork_status(runner, CK_FORK_GETENV);   /* CK_FORK=yes|no, as tests/run-all sets it */
    srunner_run_all(runner, CK_NORMAL);
    int failures = srunner_ntests_failed(runner);
    srunner_free(runner);
    return failures != 0;
}
