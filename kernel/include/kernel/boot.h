/* What the boot loader told us, copied into kernel memory early so the
 * loader's structures need not be kept. */
#ifndef KERNEL_BOOT_H
#define KERNEL_BOOT_H

#include <kernel/types.h>

#define BOOT_MAX_MODULES 32
#define BOOT_MAX_REGIONS 64
#define BOOT_CMDLINE_MAX 256

struct boot_module {
    u64 phys, size;
    char name[64]; /* the module's command line: path and arguments */
};

struct boot_region {
    u64 base, len;
    u32 type; /* 1 = usable RAM (multiboot/e820 numbering) */
};

struct boot_info {
    char cmdline[BOOT_CMDLINE_MAX];
    u32 nmodules, nregions;
    struct boot_module modules[BOOT_MAX_MODULES];
    struct boot_region regions[BOOT_MAX_REGIONS];
};

/* Fills bi from the loader's data; returns an error message or NULL. */
const char *boot_info_parse(u32 magic, u64 info_phys, struct boot_info *bi);

#endif
