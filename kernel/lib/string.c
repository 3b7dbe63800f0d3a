/* Freestanding string functions.  memcpy/memset use `rep movsq`/`rep stosq`
 * semantics through the compiler's builtins being disabled: plain loops,
 * since page zeroing is not on any measured path yet. */
#include <kernel/string.h>

void *memcpy(void *d, const void *s, usize n)
{
    u8 *dp = d;
    const u8 *sp = s;
    while (n >= 8) {
        *(u64 *)(void *)dp = *(const u64 *)(const void *)sp;
        dp += 8;
        sp += 8;
        n -= 8;
    }
    while (n--)
        *dp++ = *sp++;
    return d;
}

void *memmove(void *d, const void *s, usize n)
{
    u8 *dp = d;
    const u8 *sp = s;
    if (dp <= sp || dp >= sp + n)
        return memcpy(d, s, n);
    while (n--)
        dp[n] = sp[n];
    return d;
}

void *memset(void *d, int c, usize n)
{
    u8 *dp = d;
    u64 v = (u8)c * 0x0101010101010101ull;
    while (n >= 8) {
        *(u64 *)(void *)dp = v;
        dp += 8;
        n -= 8;
    }
    while (n--)
        *dp++ = (u8)c;
    return d;
}

int memcmp(const void *a, const void *b, usize n)
{
    const u8 *x = a, *y = b;
    for (usize i = 0; i < n; i++)
        if (x[i] != y[i])
            return x[i] < y[i] ? -1 : 1;
    return 0;
}

usize strlen(const char *s)
{
    usize n = 0;
    while (s[n])
        n++;
    return n;
}

usize strnlen(const char *s, usize max)
{
    usize n = 0;
    while (n < max && s[n])
        n++;
    return n;
}

int strcmp(const char *a, const char *b)
{
    while (*a && *a == *b)
        a++, b++;
    return (u8)*a - (u8)*b;
}

int strncmp(const char *a, const char *b, usize n)
{
    for (; n; n--, a++, b++) {
        if (*a != *b)
            return (u8)*a - (u8)*b;
        if (!*a)
            return 0;
    }
    return 0;
}

usize strlcpy(char *d, const char *s, usize size)
{
    usize n = strlen(s);
    if (size) {
        usize c = n < size - 1 ? n : size - 1;
        memcpy(d, s, c);
        d[c] = 0;
    }
    return n;
}
