/* CRC-32, bitwise-reflected, table-driven (one 1 KiB table built on first
 * use; the dump path is not hot enough to warrant slicing). */
#include "crc32.h"

static km_u32 crc_table[256];
static int crc_table_ready;

static void crc32_init(void)
{
    for (km_u32 i = 0; i < 256; i++) {
        km_u32 c = i;
        for (int k = 0; k < 8; k++)
            c = (c & 1) ? 0xEDB88320u ^ (c >> 1) : c >> 1;
        crc_table[i] = c;
    }
    crc_table_ready = 1;
}

km_u32 crc32_update(km_u32 crc, const void *buf, unsigned long len)
{
    const km_u8 *p = buf;
    if (!crc_table_ready)
        crc32_init();
    crc = ~crc;
    while (len--)
        crc = crc_table[(crc ^ *p++) & 0xff] ^ (crc >> 8);
    return ~crc;
}
