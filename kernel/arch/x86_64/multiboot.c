/* Multiboot (version 1) information: command line, memory map, modules. */
#include <arch/layout.h>
#include <kernel/boot.h>
#include <kernel/string.h>

#define MB_LOADER_MAGIC 0x2BADB002
#define MBI_CMDLINE (1u << 2)
#define MBI_MODS (1u << 3)
#define MBI_MMAP (1u << 6)

struct mb_info {
    u32 flags, mem_lower, mem_upper, boot_device, cmdline, mods_count, mods_addr;
    u32 syms[4];
    u32 mmap_length, mmap_addr;
} __attribute__((packed));

struct mb_module {
    u32 start, end, string, reserved;
} __attribute__((packed));

struct mb_mmap {
    u32 size; /* of the rest of the entry */
    u64 base, len;
    u32 type;
} __attribute__((packed));

const char *boot_info_parse(u32 magic, u64 info_phys, struct boot_info *bi)
{
    memset(bi, 0, sizeof *bi);
    if (magic != MB_LOADER_MAGIC)
        return "not started by a multiboot loader (bad magic)";
    const struct mb_info *mi = phys_to_virt(info_phys);
    if (mi->flags & MBI_CMDLINE) {
        /* Loaders (QEMU, GRUB) put the image's path first: skip it. */
        const char *c = phys_to_virt(mi->cmdline);
        while (*c && *c != ' ')
            c++;
        while (*c == ' ')
            c++;
        strlcpy(bi->cmdline, c, sizeof bi->cmdline);
    }
    if (!(mi->flags & MBI_MMAP))
        return "the boot loader gave no memory map";
    for (u64 off = 0; off < mi->mmap_length && bi->nregions < BOOT_MAX_REGIONS;) {
        const struct mb_mmap *e = phys_to_virt(mi->mmap_addr + off);
        bi->regions[bi->nregions++] = (struct boot_region){e->base, e->len, e->type};
        off += e->size + 4;
    }
    if (mi->flags & MBI_MODS) {
        const struct mb_module *m = phys_to_virt(mi->mods_addr);
        for (u32 i = 0; i < mi->mods_count && i < BOOT_MAX_MODULES; i++) {
            struct boot_module *b = &bi->modules[bi->nmodules++];
            b->phys = m[i].start;
            b->size = m[i].end - m[i].start;
            if (m[i].string)
                strlcpy(b->name, phys_to_virt(m[i].string), sizeof b->name);
        }
    }
    return NULL;
}
