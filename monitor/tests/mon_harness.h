/* SPDX-License-Identifier: Apache-2.0 */
/*
 * mon_harness.h - what the files of mon-harness share (monitor/tests).
 */
#ifndef HL_MON_HARNESS_H
#define HL_MON_HARNESS_H

/* Checks that failed so far; the exit status of a scenario is 1 if any. */
extern int mh_failures;

/* Prints "PASS|FAIL - @what (status @got)" and counts a failure. */
void mh_check(int cond, const char *what, int got);
/* A new connection to @hostlane of this netns (exits on failure). */
int mh_dial(void);

/* The scenarios of mon_harness_conn.c, on the pod address @ip. Return:
 * the exit status (0: every check passed). */
int mh_slots(const char *ip);
int mh_direct(const char *ip);
int mh_exec(const char *ip);

#endif
