/* Import of one run: check every input, then write in one transaction. */
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "errmsg.h"
#include "db.h"
#include "dump_read.h"
#include "import.h"
#include "meta.h"

/* A serial log without a meta file comes from a machine nobody described:
 * the run mode is "bare" when the CPU said it runs on no hypervisor;
 * under one, the mode is unknown and left empty (say it with --meta). */
static int log_run_mode(const struct dump *d, struct meta *m)
{
    if (d->run.flags & KM_RUN_F_HYPERVISOR) {
        fprintf(stderr, "kmemlab: import: warning: the CPU reports a hypervisor, so this is no "
                        "bare-metal run; the run mode stays unknown (give --meta FILE with accel=)\n");
        return 0;
    }
    m->value[META_accel] = strdup("bare");
    return m->value[META_accel] ? 0 : -1;
}

int import_run(const char *dump_path, const char *meta_path, const char *db_path, long long *id,
               char *err, size_t errlen)
{
    struct meta m;
    struct dump d;
    struct dump_error derr;
    char msg[512], abs[PATH_MAX];

    *id = -1;
    memset(&m, 0, sizeof m);
    if (meta_path && meta_read(meta_path, &m, msg, sizeof msg))
        return errmsg(err, errlen, "%s (nothing imported; %s unchanged)", msg, db_path);
    if (dump_read_file(dump_path, &d, &derr)) {
        meta_free(&m);
        return errmsg(err, errlen, "%s: %s (nothing imported; %s unchanged)", dump_path, derr.msg,
                    db_path);
    }
    if (d.log_begin)
        fprintf(stderr, "kmemlab: import: %s: a serial log; the dump is on its lines %lu-%lu\n",
                dump_path, d.log_begin, d.log_end);
    if (d.log_begin && !meta_path && log_run_mode(&d, &m)) {
        dump_free(&d);
        return errmsg(err, errlen, "out of memory (nothing imported)");
    }
    if (m.value[META_smp] && atoi(m.value[META_smp]) != (int)d.ncpus)
        fprintf(stderr, "kmemlab: import: warning: %s CPUs requested (smp), %u came up\n",
                m.value[META_smp], d.ncpus);
    if (m.value[META_exit_status] && atoi(m.value[META_exit_status]) != d.run.exit_status)
        fprintf(stderr, "kmemlab: import: warning: the runner saw exit status %s, the dump says %d\n",
                m.value[META_exit_status], d.run.exit_status);
    int progress = d.events >= IMPORT_PROGRESS_EVENTS;
    if (progress)
        fprintf(stderr, "kmemlab: import: %s verified: %llu events, %llu samples; importing into %s\n",
                dump_path, d.events, d.samples, db_path);
    *id = db_import(db_path, &d, meta_path || m.value[META_accel] ? &m : NULL, realpath(dump_path, abs) ? abs : dump_path,
                    progress, msg, sizeof msg);
    dump_free(&d);
    meta_free(&m);
    if (*id < 0)
        return errmsg(err, errlen, "%s: %s (nothing imported)", db_path, msg);
    return 0;
}
