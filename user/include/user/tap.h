/* TAP output for in-QEMU test programs (user/lib/tap.c): one line per
 * check, "ok - name" or "not ok - name", then a "1..N" plan at the end.
 * A check marked TODO (the ABI leaves the behaviour open) prints
 * "not ok - name # TODO ..." when it fails and does not count as a
 * failure. */
#ifndef USER_TAP_H
#define USER_TAP_H

/* Records and prints one check; returns cond. */
int tap_ok(int cond, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Same, for a behaviour the contract does not pin down; `why` says what
 * is open. */
int tap_todo(int cond, const char *why, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* Prints a "# ..." diagnostic line. */
void tap_diag(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Prints the plan and a summary; returns the exit status: 0 iff every
 * check (TODOs aside) passed. */
int tap_done(const char *prog);

/* 1 when got == want; otherwise prints both (with their error names) as
 * a diagnostic under `what` and returns 0. */
int tap_is(long got, long want, const char *what);
/* A check that a call returns exactly `want`: the call's text names it. */
#define EXPECT(call, want, ...) tap_ok(tap_is((call), (want), #call), __VA_ARGS__)

#endif
