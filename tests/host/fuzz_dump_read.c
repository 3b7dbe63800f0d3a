/* libFuzzer target for the dump reader (make fuzz-dump).  Half the inputs
 * are decoded as they are, half after their CRCs are repaired, so the
 * fuzzer also explores the frame-order, size, field and count checks that
 * sit behind the CRCs.  An accepted dump must satisfy the invariants the
 * importer relies on. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "dump_read.h"
#include "testutil.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct dump d;
    struct dump_error err;
    if (size < 1)
        return 0;
    int repair = data[0] & 1;
    unsigned char *buf = malloc(size - 1 ? size - 1 : 1);
    memcpy(buf, data + 1, size - 1);
    if (repair)
        repair_crcs(buf, size - 1);
    if (dump_decode(buf, size - 1, &d, &err) == 0) {
        unsigned long long events = 0;
        if (d.ncpus < 1 || d.ncpus > KM_DUMP_MAX_CPUS)
            abort();
        for (unsigned c = 0; c < d.ncpus; c++) {
            const struct dump_cpu_trace *t = &d.cpu[c];
            if (t->info.count + t->info.lost != t->info.written)
                abort();
            for (unsigned long long i = 0; i < t->info.count; i++)
                if (t->recs[i].cpu != c || t->recs[i].event >= 64)
                    abort();
            events += t->info.count;
        }
        if (events != d.events)
            abort();
        dump_free(&d);
    } else if (err.code == DUMP_OK || !err.msg[0] || err.offset > size) {
        abort();
    }
    free(buf);
    return 0;
}
