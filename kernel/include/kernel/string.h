/* The C string functions the kernel uses (kernel/lib/string.c). */
#ifndef KERNEL_STRING_H
#define KERNEL_STRING_H

#include <kernel/types.h>

void *memcpy(void *d, const void *s, usize n);
void *memset(void *d, int c, usize n);
void *memmove(void *d, const void *s, usize n);
int memcmp(const void *a, const void *b, usize n);
usize strlen(const char *s);
usize strnlen(const char *s, usize max);
int strcmp(const char *a, const char *b);
int strncmp(const char *a, const char *b, usize n);
/* Copies at most size-1 bytes and always terminates (size > 0). */
usize strlcpy(char *d, const char *s, usize size);

#endif
