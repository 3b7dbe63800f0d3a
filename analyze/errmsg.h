/* The host tools' error convention: functions write what went wrong into a
 * caller's buffer and return -1. */
#ifndef ANALYZE_ERRMSG_H
#define ANALYZE_ERRMSG_H

#include <stddef.h>

/* Formats the message into err (errlen bytes, always terminated when
 * errlen > 0); returns -1, so that `return errmsg(...)` reports failure. */
int errmsg(char *err, size_t errlen, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

#endif
