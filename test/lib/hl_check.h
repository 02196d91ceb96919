/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The main() of a Check unit test: run every test of @s (verbosity from
 * CK_VERBOSITY; hack/run-tests.sh collects the TAP output through
 * CK_TAP_LOG_FILE_NAME) and turn the result into the exit status.
 */
#ifndef HOSTLANE_TEST_CHECK_H
#define HOSTLANE_TEST_CHECK_H

#include <check.h>
#include <stdlib.h>

static inline int hl_check_run(Suite *s)
{
	SRunner *sr = srunner_create(s);
	int failed;

	srunner_run_all(sr, CK_ENV);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}

#endif
