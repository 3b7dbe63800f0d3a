/* File-system helpers (see files.h). */
#include <errno.h>
#include <limits.h>
#include <string.h>
#include <sys/stat.h>

#include "errmsg.h"
#include "files.h"

int make_dirs_to(const char *path, char *err, size_t errlen)
{
    char buf[PATH_MAX];
    if (strlen(path) >= sizeof buf)
        return errmsg(err, errlen, "%s: path too long", path);
    strcpy(buf, path);
    for (char *p = buf + 1; *p; p++) {
        if (*p != '/')
            continue;
        *p = 0;
        if (mkdir(buf, 0777) != 0 && errno != EEXIST)
            return errmsg(err, errlen, "cannot create directory %s: %s", buf, strerror(errno));
        *p = '/';
    }
    return 0;
}
