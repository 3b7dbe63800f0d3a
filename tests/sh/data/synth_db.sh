#!/usr/bin/env bash
# tests/sh/data/synth_db.sh DB GIT_REV OFFSET [ACCEL]: appends one run to DB
# (created if missing) for the report, trend and benchmarks-md tests: a
# synthetic dump (kmtrace synth) imported with a meta file, plus rows the
# kernel does not produce yet, with figures chosen so every derived number
# is known:
#   fault_complex  variants pool_2m kpager_2m kpager_batched_2m pool_1g
#                  kpager_1g kpager_batched_1g; metric fault (cycles): 100
#                  samples base + 10*(idx % 10) + OFFSET, so p10 = base + OFFSET,
#                  p50 = base + 40 + OFFSET, p90 = base + 80 + OFFSET; metric
#                  kfaults (count): constant per variant
#   kmem_usage     tasks sigma0, roottask, fault_complex: pt nt mn tcb utcb
#                  (pages), total_kb (kB), one sample each
#   events         program 1 is fault_complex; marker phase 1: 10 faults of
#                  exception, pagefault +100, map +1100, fault_done +1300;
#                  phase 2: 10 faults with two kernel faults each: exception,
#                  pagefault +100, kfault +600, kpage_import +1000 (a1 150),
#                  kfault_done +1100, kfault +1200, kpage_import +1600 (a1
#                  150), kfault_done +1700, map +2200, fault_done +2400
#                  (event types kfault, kfault_done, kpage_import are added
#                  when the database does not know them yet)
# results rows are computed from the samples with SQL (nearest rank, as
# the importer does).  Prints the new run id.
set -euo pipefail
db=$1 rev=$2 ofs=$3 accel=${4:-icount}
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../../.." && pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
"$ROOT/build/host/kmtrace" synth --events 400 --samples 20 --seed 7 "$tmp/d.bin"
printf 'started_utc=2026-11-26T10:00:0%sZ\ngit_rev=%s\ngit_dirty=0\nsystem=kmemlab\naccel=%s\nprograms=%s\n' \
    "$((ofs % 10))" "$rev" "$accel" build/user/fault_complex.elf >"$tmp/meta"
id=$("$ROOT/build/host/kmemlab" import "$tmp/d.bin" --meta "$tmp/meta" --db "$db")
sqlite3 "$db" <<SQL
WITH RECURSIVE i(x) AS (SELECT 0 UNION ALL SELECT x + 1 FROM i WHERE x < 99),
v(variant, base, kf) AS (VALUES ('pool_2m', 10000, 1), ('kpager_2m', 13000, 3), ('kpager_batched_2m', 11000, 2),
                                ('pool_1g', 12000, 1), ('kpager_1g', 16500, 4), ('kpager_batched_1g', 12500, 2))
INSERT INTO samples SELECT $id, 'fault_complex', variant, 'fault', x, base + 10 * (x % 10) + $ofs FROM v, i
UNION ALL SELECT $id, 'fault_complex', variant, 'kfaults', x, kf FROM v, i;
WITH t(task, pt, nt, mn, tcb, utcb) AS (VALUES ('sigma0', 6, 6, 8, 1, 1), ('roottask', 5, 5, 2, 1, 1),
                                              ('fault_complex', 7, 7, 3, 2, 2))
INSERT INTO samples SELECT $id, 'kmem_usage', task, 'pt', 0, pt FROM t
UNION ALL SELECT $id, 'kmem_usage', task, 'nt', 0, nt FROM t
UNION ALL SELECT $id, 'kmem_usage', task, 'mn', 0, mn FROM t
UNION ALL SELECT $id, 'kmem_usage', task, 'tcb', 0, tcb FROM t
UNION ALL SELECT $id, 'kmem_usage', task, 'utcb', 0, utcb FROM t
UNION ALL SELECT $id, 'kmem_usage', task, 'total_kb', 0, 4 * (pt + nt + mn + tcb + utcb) FROM t;
WITH r AS (SELECT benchmark, variant, metric, value,
                  row_number() OVER (PARTITION BY benchmark, variant, metric ORDER BY value) AS rn,
                  count(*) OVER (PARTITION BY benchmark, variant, metric) AS n
             FROM samples WHERE run_id = $id AND benchmark IN ('fault_complex', 'kmem_usage'))
INSERT INTO results (run_id, benchmark, variant, metric, unit, n, min, p50, mean, p90, p99, max, stddev, overhead, cpu)
SELECT $id, benchmark, variant, metric,
       CASE metric WHEN 'fault' THEN 'cycles' WHEN 'kfaults' THEN 'count' WHEN 'total_kb' THEN 'kB' ELSE 'pages' END,
       n, min(value), max(CASE WHEN rn = (50 * n + 99) / 100 THEN value END), avg(value),
       max(CASE WHEN rn = (90 * n + 99) / 100 THEN value END), max(CASE WHEN rn = (99 * n + 99) / 100 THEN value END),
       max(value), NULL, 0, 0
  FROM r GROUP BY benchmark, variant, metric;
INSERT INTO event_types (id, name) SELECT (SELECT max(id) + 1 FROM event_types), 'kfault'
  WHERE NOT EXISTS (SELECT 1 FROM event_types WHERE name = 'kfault');
INSERT INTO event_types (id, name) SELECT (SELECT max(id) + 1 FROM event_types), 'kfault_done'
  WHERE NOT EXISTS (SELECT 1 FROM event_types WHERE name = 'kfault_done');
INSERT INTO event_types (id, name) SELECT (SELECT max(id) + 1 FROM event_types), 'kpage_import'
  WHERE NOT EXISTS (SELECT 1 FROM event_types WHERE name = 'kpage_import');
WITH RECURSIVE f(x) AS (SELECT 0 UNION ALL SELECT x + 1 FROM f WHERE x < 9),
t0(t) AS (SELECT max(tsc) + 100000 FROM events WHERE run_id = $id),
pat(phase, k, dt, name, a0, a1) AS (VALUES
  (1, 0, 0, 'exception', 14, 6), (1, 1, 100, 'pagefault', 4096, 0), (1, 2, 1100, 'map', 4096, 1),
  (1, 3, 1300, 'fault_done', 4096, 0),
  (2, 0, 0, 'exception', 14, 6), (2, 1, 100, 'pagefault', 4096, 0), (2, 2, 600, 'kfault', 8192, 256),
  (2, 3, 1000, 'kpage_import', 8192, 150), (2, 4, 1100, 'kfault_done', 8192, 0), (2, 5, 1200, 'kfault', 12288, 256),
  (2, 6, 1600, 'kpage_import', 12288, 150), (2, 7, 1700, 'kfault_done', 12288, 0), (2, 8, 2200, 'map', 4096, 1),
  (2, 9, 2400, 'fault_done', 4096, 0)),
ev(seq, tsc, name, thread, a0, a1) AS (
  SELECT 1000000, t, 'prog_start', 1, 1, 4194304 FROM t0
  UNION ALL SELECT 1000001 + 200000 * (phase - 1), t + 10 + 1000000 * (phase - 1), 'marker', 4, 1, phase FROM t0, (SELECT 1 AS phase UNION SELECT 2)
  UNION ALL SELECT 1000002 + 200000 * (phase - 1) + 20 * x + k, t + 1000 + 1000000 * (phase - 1) + 10000 * x + dt,
                   name, 6, a0, a1 FROM t0, f, pat
  UNION ALL SELECT 1199999 + 200000 * (phase - 1), t + 900000 + 1000000 * (phase - 1), 'marker', 4, 2, phase FROM t0, (SELECT 1 AS phase UNION SELECT 2))
INSERT INTO events (run_id, cpu, seq, tsc, event_id, thread, a0, a1)
SELECT $id, 0, seq, tsc, (SELECT id FROM event_types WHERE name = ev.name), thread, a0, a1 FROM ev;
SQL
echo "$id"
