/* Minimal <string.h> for ring-3 programs: the kernel's own functions
 * (kernel/lib/string.c, declared there in kernel/include/kernel/string.h). */
#ifndef USER_STRING_H
#define USER_STRING_H

#include <stddef.h>

void *memcpy(void *dst, const void *src, size_t n);
void *memmove(void *dst, const void *src, size_t n);
void *memset(void *dst, int c, size_t n);
int memcmp(const void *a, const void *b, size_t n);
size_t strlen(const char *s);
size_t strnlen(const char *s, size_t max);
int strcmp(const char *a, const char *b);
int strncmp(const char *a, const char *b, size_t n);
/* Copies at most size-1 bytes and always terminates (size > 0); returns
 * strlen(src), so a result >= size means truncation. */
size_t strlcpy(char *dst, const char *src, size_t size);

#endif
