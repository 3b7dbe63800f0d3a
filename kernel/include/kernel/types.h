/* Kernel integer types (freestanding; the host build gets the same names). */
#ifndef KERNEL_TYPES_H
#define KERNEL_TYPES_H

#include <abi/types.h>
#include <kernel/config.h>

typedef km_u8 u8;
typedef km_u16 u16;
typedef km_u32 u32;
typedef km_u64 u64;
typedef km_i32 i32;
typedef km_i64 i64;
typedef signed char i8;
typedef signed short i16;
typedef unsigned long usize;
typedef unsigned long uptr;

#ifndef NULL
#define NULL ((void *)0)
#endif
#ifndef __cplusplus
#ifndef bool
#define bool _Bool
#define true 1
#define false 0
#endif
#endif

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
#define ALIGN_UP(x, a) (((x) + (a)-1) & ~((__typeof__(x))(a)-1))
#define ALIGN_DOWN(x, a) ((x) & ~((__typeof__(x))(a)-1))
#define MIN(a, b) ((a) < (b) ? (a) : (b))
#define MAX(a, b) ((a) > (b) ? (a) : (b))

#endif
