/* Fixed-width types for the ABI: usable freestanding, in user programs
 * and in host tools alike. */
#ifndef ABI_TYPES_H
#define ABI_TYPES_H

typedef unsigned char km_u8;
typedef unsigned short km_u16;
typedef unsigned int km_u32;
typedef __UINT64_TYPE__ km_u64; /* unsigned long on LP64: %lu prints it */
typedef signed int km_i32;
typedef __INT64_TYPE__ km_i64;

#ifdef __cplusplus
#define KM_STATIC_ASSERT(c, m) static_assert(c, m)
#else
#define KM_STATIC_ASSERT(c, m) _Static_assert(c, m)
#endif

KM_STATIC_ASSERT(sizeof(km_u64) == 8, "km_u64");
KM_STATIC_ASSERT(sizeof(km_u32) == 4, "km_u32");
KM_STATIC_ASSERT(sizeof(km_u16) == 2, "km_u16");

#endif
