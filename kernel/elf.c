/* ELF64 loader for user programs: every header field is checked against the
 * image size and the user address range before anything is mapped.  Pages
 * are kernel-owned root mappings (kernel/mapdb.h): freed with the task. */
#include <abi/l4.h>
#include <arch/layout.h>
#include <kernel/frame.h>
#include <kernel/mapdb.h>
#include <kernel/prog.h>
#include <kernel/string.h>

struct elf64_ehdr {
    u8 ident[16];
    u16 type, machine;
    u32 version;
    u64 entry, phoff, shoff;
    u32 flags;
    u16 ehsize, phentsize, phnum, shentsize, shnum, shstrndx;
};

struct elf64_phdr {
    u32 type, flags;
    u64 offset, vaddr, paddr, filesz, memsz, align;
};

#define PT_LOAD 1
#define PF_X 1
#define PF_W 2
#define ET_EXEC 2
#define EM_X86_64 62
#define USER_LOAD_TOP (PROG_STACK_TOP - PROG_STACK_PAGES * PAGE_SIZE)

static const char *check(const u8 *img, u64 size, u64 *entry_ok)
{
    const struct elf64_ehdr *eh = (const void *)img;
    if (size < sizeof *eh || memcmp(eh->ident, "\x7f" "ELF", 4))
        return "not an ELF file";
    if (eh->ident[4] != 2 || eh->ident[5] != 1)
        return "not a little-endian ELF64 file";
    if (eh->type != ET_EXEC || eh->machine != EM_X86_64)
        return "not an x86-64 executable";
    if (eh->phentsize != sizeof(struct elf64_phdr) || eh->phnum == 0 ||
        eh->phoff > size || (u64)eh->phnum * sizeof(struct elf64_phdr) > size - eh->phoff)
        return "program headers out of bounds";
    *entry_ok = 0;
    for (u16 i = 0; i < eh->phnum; i++) {
        struct elf64_phdr ph;
        memcpy(&ph, img + eh->phoff + i * sizeof ph, sizeof ph);
        if (ph.type != PT_LOAD)
            continue;
        if (ph.offset > size || ph.filesz > size - ph.offset)
            return "segment data out of bounds";
        if (ph.filesz > ph.memsz)
            return "segment file size exceeds memory size";
        if (ph.vaddr < PAGE_SIZE || ph.vaddr >= USER_LOAD_TOP ||
            ph.memsz > USER_LOAD_TOP - ph.vaddr)
            return "segment outside the user address range";
        if (ph.vaddr < KM_UTCB_AREA + KM_UTCB_AREA_SIZE && ph.vaddr + ph.memsz > KM_UTCB_AREA)
            return "segment in the UTCB area";
        if ((ph.flags & PF_X) && eh->entry >= ph.vaddr && eh->entry < ph.vaddr + ph.memsz)
            *entry_ok = 1;
    }
    if (!*entry_ok)
        return "entry point not in an executable segment";
    return NULL;
}

static const char *load_segment(const u8 *img, const struct elf64_phdr *ph, struct task *t)
{
    u64 start = ALIGN_DOWN(ph->vaddr, PAGE_SIZE);
    u64 end = ALIGN_UP(ph->vaddr + ph->memsz, PAGE_SIZE);
    u32 rights = KM_R | ((ph->flags & PF_W) ? KM_W : 0) | ((ph->flags & PF_X) ? KM_X : 0);
    for (u64 va = start; va < end; va += PAGE_SIZE) {
        u64 phys;
        u32 held;
        if (!mapdb_lookup(t, va, &phys, &held)) { /* shared pages keep the first segment's rights */
            phys = frame_alloc();
            if (!phys)
                return "out of memory";
            memset(phys_to_virt(phys), 0, PAGE_SIZE);
            if (mapdb_map_root(t, va, phys, rights, true)) {
                frame_free(phys);
                return "out of memory for page tables";
            }
        }
        /* The part of the file data that lands in this page. */
        u64 lo = MAX(va, ph->vaddr), hi = MIN(va + PAGE_SIZE, ph->vaddr + ph->filesz);
        if (lo < hi)
            memcpy((u8 *)phys_to_virt(phys) + (lo - va), img + ph->offset + (lo - ph->vaddr),
                   hi - lo);
    }
    return NULL;
}

const char *elf_load(const void *image, u64 size, struct task *t, u64 *entry)
{
    const u8 *img = image;
    u64 ok;
    const char *err = check(img, size, &ok);
    if (err)
        return err;
    const struct elf64_ehdr *eh = image;
    for (u16 i = 0; i < eh->phnum; i++) {
        struct elf64_phdr ph;
        memcpy(&ph, img + eh->phoff + i * sizeof ph, sizeof ph);
        if (ph.type == PT_LOAD && (err = load_segment(img, &ph, t)))
            return err;
    }
    *entry = eh->entry;
    return NULL;
}
