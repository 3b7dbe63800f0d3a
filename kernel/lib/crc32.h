/* CRC-32 (IEEE 802.3 / zlib), shared by the kernel's dump writer and the
 * host's dump reader. */
#ifndef KM_LIB_CRC32_H
#define KM_LIB_CRC32_H

#include <abi/types.h>

/* Continue a CRC over len bytes: start with crc = 0; returns the new CRC.
 * crc32_update(crc32_update(0, a, n), b, m) == crc32 of a||b. */
km_u32 crc32_update(km_u32 crc, const void *buf, unsigned long len);

#endif
