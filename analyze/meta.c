/* Run metadata parser: strict key=value, every key known. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "meta.h"

static const char *const key_names[META_NKEYS] = {
#define KM_META_NAME(key, doc) #key,
    KM_META_KEYS(KM_META_NAME)
#undef KM_META_NAME
};

const char *meta_key_name(enum meta_key k)
{
    return k < META_NKEYS ? key_names[k] : "?";
}

static int fail(struct meta *m, char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static int fail(struct meta *m, char *err, size_t errlen, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
    meta_free(m);
    return -1;
}

static char *trim(char *s, char *end)
{
    while (s < end && (*s == ' ' || *s == '\t'))
        s++;
    while (end > s && (end[-1] == ' ' || end[-1] == '\t' || end[-1] == '\r'))
        end--;
    *end = 0;
    return s;
}

/* Checks and normalises one value; returns NULL if fine, else the reason. */
static const char *check_value(enum meta_key k, char *v)
{
    switch (k) {
    case META_accel:
        if (strcmp(v, "icount") && strcmp(v, "tcg") && strcmp(v, "kvm") && strcmp(v, "bare"))
            return "accel must be icount, tcg, kvm or bare";
        break;
    case META_git_dirty:
        if (!strcmp(v, "1") || !strcmp(v, "true") || !strcmp(v, "yes"))
            strcpy(v, "1");
        else if (!strcmp(v, "0") || !strcmp(v, "false") || !strcmp(v, "no"))
            strcpy(v, "0");
        else
            return "git_dirty must be 0 or 1";
        break;
    case META_smp:
    case META_timeout:
    case META_qemu_exit:
    case META_exit_status:
    case META_duration_ms: {
        char *end;
        errno = 0;
        long n = strtol(v, &end, 10);
        if (errno || *end || v[0] == '+' || v[0] == ' ')
            return "value must be an integer";
        if (k == META_smp && n < 1)
            return "smp must be a positive integer";
        break;
    }
    default:
        break;
    }
    return NULL;
}

int meta_parse(const char *text, const char *name, struct meta *m, char *err, size_t errlen)
{
    char *copy = strdup(text), *line, *next;
    int lineno = 0;
    char seen[META_NKEYS] = { 0 };
    memset(m, 0, sizeof *m);
    if (!copy)
        return fail(m, err, errlen, "%s: out of memory", name);
    for (line = copy; line && *line; line = next) {
        char *nl = strchr(line, '\n');
        next = nl ? nl + 1 : NULL;
        char *end = nl ? nl : line + strlen(line);
        lineno++;
        char *s = trim(line, end);
        if (!*s || *s == '#')
            continue;
        char *eq = strchr(s, '=');
        if (!eq) {
            int rc = fail(m, err, errlen, "%s:%d: expected key=value, got \"%.60s\"", name, lineno, s);
            free(copy);
            return rc;
        }
        char *key = trim(s, eq), *val = trim(eq + 1, eq + 1 + strlen(eq + 1));
        int k;
        for (k = 0; k < META_NKEYS; k++)
            if (!strcmp(key, key_names[k]))
                break;
        const char *why = NULL;
        if (k == META_NKEYS)
            why = "unknown key";
        else if (seen[k])
            why = "key given twice";
        else if (*val)
            why = check_value((enum meta_key)k, val);
        if (!why && k < META_NKEYS) {
            seen[k] = 1;
            if (*val && !(m->value[k] = strdup(val)))
                why = "out of memory";
        }
        if (why) {
            int rc = fail(m, err, errlen, "%s:%d: %s: \"%.40s\"", name, lineno, why, key);
            free(copy);
            return rc;
        }
    }
    free(copy);
    return 0;
}

int meta_read(const char *path, struct meta *m, char *err, size_t errlen)
{
    FILE *f = fopen(path, "r");
    char *text = NULL;
    size_t cap = 0, len = 0, n;
    char buf[4096];
    memset(m, 0, sizeof *m);
    if (!f)
        return fail(m, err, errlen, "%s: %s", path, strerror(errno));
    while ((n = fread(buf, 1, sizeof buf, f)) > 0) {
        if (len + n + 1 > cap) {
            cap = (len + n + 1) * 2;
            char *t = realloc(text, cap);
            if (!t) {
                free(text);
                fclose(f);
                return fail(m, err, errlen, "%s: out of memory", path);
            }
            text = t;
        }
        memcpy(text + len, buf, n);
        len += n;
    }
    int bad = ferror(f);
    fclose(f);
    if (bad) {
        free(text);
        return fail(m, err, errlen, "%s: read error", path);
    }
    if (text && memchr(text, 0, len)) {
        free(text);
        return fail(m, err, errlen, "%s: contains NUL bytes: not a meta file", path);
    }
    int rc = meta_parse(text ? (text[len] = 0, text) : "", path, m, err, errlen);
    free(text);
    return rc;
}

void meta_free(struct meta *m)
{
    for (int k = 0; k < META_NKEYS; k++)
        free(m->value[k]);
    memset(m, 0, sizeof *m);
}
