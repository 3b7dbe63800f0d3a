/* Kernel command-line parser: "key=value" and "flag" words separated by
 * spaces.  Every word must match an option; unknown options and bad values
 * are reported, never ignored. */
#ifndef KERNEL_CMDLINE_H
#define KERNEL_CMDLINE_H

#include <kernel/types.h>

enum opt_type {
    OPT_U64,  /* decimal or 0x-hex number in [min, max], into u64 */
    OPT_U32,  /* same, into u32 */
    OPT_ENUM, /* one of choices[], index into u32 */
    OPT_FLAG, /* bare word, sets u32 to 1 */
    OPT_U64_LIST, /* 1..CMDLINE_LIST_MAX comma-separated numbers, each in
                     [min, max], into struct cmdline_u64_list */
};

/* Target of an OPT_U64_LIST option.  A bad list leaves it as it was. */
#define CMDLINE_LIST_MAX 4
struct cmdline_u64_list {
    u64 v[CMDLINE_LIST_MAX];
    u32 n;
};

struct cmdline_opt {
    const char *name;
    enum opt_type type;
    void *target;
    const char *const *choices; /* OPT_ENUM: NULL-terminated */
    u64 min, max;               /* OPT_U64/OPT_U32/OPT_U64_LIST bounds */
    bool pow2;                  /* value must be a power of two */
    const char *help;
};

/* Calls report(msg) once per problem.  Returns the number of problems;
 * options before and after a bad word are still applied. */
int cmdline_parse(const char *line, const struct cmdline_opt *opts, usize nopts,
                  void (*report)(const char *msg));

/* Parses a whole decimal or 0x-hex number; returns false on junk/overflow. */
bool parse_u64(const char *s, usize len, u64 *out);

#endif
