/* Kernel command-line parser (see kernel/cmdline.h). */
#include <kernel/cmdline.h>
#include <kernel/printk.h>
#include <kernel/string.h>

bool parse_u64(const char *s, usize len, u64 *out)
{
    unsigned base = 10;
    u64 v = 0;
    if (len > 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
        base = 16;
        s += 2;
        len -= 2;
    }
    if (len == 0)
        return false;
    for (usize i = 0; i < len; i++) {
        char c = s[i];
        unsigned d;
        if (c >= '0' && c <= '9')
            d = (unsigned)(c - '0');
        else if (base == 16 && c >= 'a' && c <= 'f')
            d = (unsigned)(c - 'a' + 10);
        else if (base == 16 && c >= 'A' && c <= 'F')
            d = (unsigned)(c - 'A' + 10);
        else
            return false;
        if (v > (~0ull - d) / base)
            return false;
        v = v * base + d;
    }
    *out = v;
    return true;
}

static const struct cmdline_opt *find_opt(const struct cmdline_opt *opts, usize n,
                                          const char *key, usize klen)
{
    for (usize i = 0; i < n; i++)
        if (strlen(opts[i].name) == klen && !strncmp(opts[i].name, key, klen))
            return &opts[i];
    return NULL;
}

static int apply(const struct cmdline_opt *o, const char *val, usize vlen, bool has_val,
                 void (*report)(const char *))
{
    char msg[160];
    u64 v;
    if (o->type == OPT_FLAG) {
        if (has_val) {
            ksnprintf(msg, sizeof msg, "option '%s' takes no value", o->name);
            report(msg);
            return 1;
        }
        *(u32 *)o->target = 1;
        return 0;
    }
    if (!has_val) {
        ksnprintf(msg, sizeof msg, "option '%s' needs a value (%s)", o->name, o->help);
        report(msg);
        return 1;
    }
    if (o->type == OPT_ENUM) {
        for (u32 i = 0; o->choices[i]; i++)
            if (strlen(o->choices[i]) == vlen && !strncmp(o->choices[i], val, vlen)) {
                *(u32 *)o->target = i;
                return 0;
            }
        ksnprintf(msg, sizeof msg, "option '%s': bad value (%s)", o->name, o->help);
        report(msg);
        return 1;
    }
    if (o->type == OPT_U64_LIST) {
        /* Parsed whole into a copy first: a bad element rejects the list
         * without leaving half of it applied. */
        struct cmdline_u64_list l = {.n = 0};
        usize i = 0;
        for (;;) {
            usize j = i;
            while (j < vlen && val[j] != ',')
                j++;
            if (l.n == CMDLINE_LIST_MAX || !parse_u64(val + i, j - i, &v) || v < o->min ||
                v > o->max) {
                ksnprintf(msg, sizeof msg, "option '%s': bad value (%s)", o->name, o->help);
                report(msg);
                return 1;
            }
            l.v[l.n++] = v;
            if (j == vlen)
                break;
            i = j + 1;
        }
        *(struct cmdline_u64_list *)o->target = l;
        return 0;
    }
    if (!parse_u64(val, vlen, &v) || v < o->min || v > o->max ||
        (o->pow2 && (v & (v - 1)))) {
        ksnprintf(msg, sizeof msg, "option '%s': bad value (%s)", o->name, o->help);
        report(msg);
        return 1;
    }
    if (o->type == OPT_U32)
        *(u32 *)o->target = (u32)v;
    else
        *(u64 *)o->target = v;
    return 0;
}

int cmdline_parse(const char *line, const struct cmdline_opt *opts, usize nopts,
                  void (*report)(const char *msg))
{
    int errors = 0;
    const char *p = line;
    while (*p) {
        while (*p == ' ' || *p == '\t')
            p++;
        if (!*p)
            break;
        const char *w = p;
        while (*p && *p != ' ' && *p != '\t')
            p++;
        usize wlen = (usize)(p - w), klen = 0;
        while (klen < wlen && w[klen] != '=')
            klen++;
        const struct cmdline_opt *o = find_opt(opts, nopts, w, klen);
        if (!o) {
            char msg[160];
            char name[64];
            usize n = klen < sizeof name - 1 ? klen : sizeof name - 1;
            memcpy(name, w, n);
            name[n] = 0;
            ksnprintf(msg, sizeof msg, "unknown option '%s'", name);
            report(msg);
            errors++;
            continue;
        }
        bool has_val = klen < wlen;
        errors += apply(o, w + klen + 1, has_val ? wlen - klen - 1 : 0, has_val, report);
    }
    return errors;
}
