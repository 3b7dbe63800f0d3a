/* Small file-system helpers of the host tools. */
#ifndef ANALYZE_FILES_H
#define ANALYZE_FILES_H

#include <stddef.h>

/* Creates every directory on the way to path: each component before a '/'
 * (so "a/b/c" creates a and a/b; "a/b/" creates a/b too).  Existing ones
 * are fine.  0, or -1 with the reason in err. */
int make_dirs_to(const char *path, char *err, size_t errlen);

#endif
