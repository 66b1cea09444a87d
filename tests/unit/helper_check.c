#include "helper_check.h"

int th_run_tests(const char *name, const TTest *const *tests, int n)
{
    Suite *s = suite_create(name);
    TCase *tc = tcase_create(name);
    for (int i = 0; i < n; i++) tcase_add_test(tc, tests[i]);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? 1 : 0;
}
