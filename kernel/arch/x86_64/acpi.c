/* ACPI table walk: RSDP -> RSDT/XSDT -> MADT -> processor entries. */
#include <arch/acpi.h>
#include <arch/layout.h>
#include <kernel/printk.h>
#include <kernel/string.h>

struct rsdp {
    char sig[8];
    u8 checksum;
    char oem[6];
    u8 revision;
    u32 rsdt;
    u32 length; /* revision >= 2 from here */
    u64 xsdt;
    u8 xchecksum;
    u8 reserved[3];
} __attribute__((packed));

struct sdt_header {
    char sig[4];
    u32 length;
    u8 revision;
    u8 checksum;
    char oem[6];
    char oem_table[8];
    u32 oem_rev;
    u32 creator;
    u32 creator_rev;
} __attribute__((packed));

static bool checksum_ok(const void *p, usize len)
{
    u8 sum = 0;
    for (usize i = 0; i < len; i++)
        sum = (u8)(sum + ((const u8 *)p)[i]);
    return sum == 0;
}

static const struct rsdp *scan(u64 phys, u64 len)
{
    for (u64 a = phys; a + sizeof(struct rsdp) <= phys + len; a += 16) {
        const struct rsdp *r = phys_to_virt(a);
        if (!memcmp(r->sig, "RSD PTR ", 8) && checksum_ok(r, 20))
            return r;
    }
    return NULL;
}

static const struct rsdp *find_rsdp(void)
{
    u64 ebda = (u64)*(const u16 *)phys_to_virt(0x40e) << 4;
    const struct rsdp *r = ebda ? scan(ebda, 1024) : NULL;
    return r ? r : scan(0xe0000, 0x20000);
}

static const struct sdt_header *find_table(const struct rsdp *r, const char *sig)
{
    bool x = r->revision >= 2 && r->xsdt;
    const struct sdt_header *root = phys_to_virt(x ? r->xsdt : r->rsdt);
    if (!checksum_ok(root, root->length))
        return NULL;
    usize esize = x ? 8 : 4;
    usize n = (root->length - sizeof *root) / esize;
    const u8 *ents = (const u8 *)(root + 1);
    for (usize i = 0; i < n; i++) {
        u64 a = 0;
        memcpy(&a, ents + i * esize, esize);
        const struct sdt_header *t = phys_to_virt(a);
        if (!memcmp(t->sig, sig, 4) && checksum_ok(t, t->length))
            return t;
    }
    return NULL;
}

u32 acpi_cpu_list(u32 *apic_ids, u32 max)
{
    const struct rsdp *r = find_rsdp();
    if (!r)
        return 0;
    const struct sdt_header *madt = find_table(r, "APIC");
    if (!madt)
        return 0;
    /* MADT: header, local APIC address (4), flags (4), then entries of
     * (type, length, ...).  Type 0: processor local APIC (acpi id, apic
     * id, flags: bit 0 enabled, bit 1 online capable). */
    const u8 *p = (const u8 *)madt + sizeof *madt + 8;
    const u8 *end = (const u8 *)madt + madt->length;
    u32 n = 0;
    while (p + 2 <= end && p[1] >= 2 && p + p[1] <= end) {
        if (p[0] == 0 && p[1] >= 8) {
            u32 flags;
            memcpy(&flags, p + 4, 4);
            if ((flags & 1) && n < max)
                apic_ids[n++] = p[3];
        }
        p += p[1];
    }
    return n;
}
