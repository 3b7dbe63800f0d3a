/* gnuplot output helpers of the report, trend and other chart writers. */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "errmsg.h"
#include "gp.h"

/* Colours for variants and event types: 16 that stay distinct side by side
 * (the first ten are the common "category10" set). */
const char *const gp_palette[] = {
    "#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f",
    "#bcbd22", "#17becf", "#393b79", "#000000", "#e7ba52", "#6b6ecf", "#637939", "#ad494a",
};
const size_t gp_npalette = sizeof gp_palette / sizeof gp_palette[0];

/* Writes s as a gnuplot single-quoted string (a quote is doubled). */
void gp_str(FILE *f, const char *s)
{
    fputc('\'', f);
    for (; *s; s++) {
        if (*s == '\'')
            fputc('\'', f);
        fputc(*s, f);
    }
    fputc('\'', f);
}

/* Writes s as a gnuplot double-quoted string: newlines become line breaks
 * in the chart; quotes and backslashes escaped (terminals are noenhanced). */
void gp_qstr(FILE *f, const char *s)
{
    fputc('"', f);
    for (; *s; s++) {
        if (*s == '\n')
            fputs("\\n", f);
        else if (*s == '"' || *s == '\\')
            fprintf(f, "\\%c", *s);
        else
            fputc(*s, f);
    }
    fputc('"', f);
}

/* A file-name-safe copy of s: [A-Za-z0-9._-], others become '_'. */
void safe_name(const char *s, char *out, size_t n)
{
    size_t i = 0;
    for (; *s && i + 1 < n; s++)
        out[i++] = (char)((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') ||
                                  (*s >= '0' && *s <= '9') || *s == '.' || *s == '-' || *s == '_'
                              ? *s
                              : '_');
    out[i] = 0;
}

FILE *open_out(const char *dir, const char *name, char *err, size_t errlen)
{
    char path[PATH_MAX];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "w");
    if (!f)
        errmsg(err, errlen, "cannot write %s: %s", path, strerror(errno));
    return f;
}

int close_out(FILE *f, const char *dir, const char *name, char *err, size_t errlen)
{
    int bad = ferror(f);
    if (fclose(f) != 0 || bad)
        return errmsg(err, errlen, "write error on %s/%s", dir, name);
    return 0;
}

/* Runs gnuplot on script in dir; returns 0 if it succeeded. */
int run_gnuplot(const char *dir, const char *script, char *err, size_t errlen)
{
    fflush(NULL);
    pid_t pid = fork();
    if (pid < 0)
        return errmsg(err, errlen, "fork: %s", strerror(errno));
    if (pid == 0) {
        if (chdir(dir) != 0)
            _exit(126);
        execlp("gnuplot", "gnuplot", script, (char *)NULL);
        _exit(127);
    }
    int status;
    while (waitpid(pid, &status, 0) < 0)
        if (errno != EINTR)
            return errmsg(err, errlen, "waitpid: %s", strerror(errno));
    if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
        return 0;
    if (WIFEXITED(status) && WEXITSTATUS(status) == 127)
        return errmsg(err, errlen, "cannot run gnuplot (is it installed?)");
    if (WIFEXITED(status))
        return errmsg(err, errlen, "gnuplot failed on %s/%s (exit status %d; its messages are above)",
                    dir, script, WEXITSTATUS(status));
    return errmsg(err, errlen, "gnuplot was killed by signal %d", WTERMSIG(status));
}


void gp_terminal(FILE *f, const char *file, const char *ext, int width, int height)
{
    int svg = !strcmp(ext, "svg");
    /* noenhanced: names like kpager_2m must not turn into subscripts */
    fprintf(f, "set terminal %s size %d,%d noenhanced font 'Sans,10'%s\n", svg ? "svg" : "pngcairo", width,
            height, svg ? " background '#ffffff'" : "");
    fprintf(f, "set output '%s.%s'\n", file, ext);
}
