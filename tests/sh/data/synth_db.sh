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
# results rows are computed from the samples with SQL (nearest rank, as
# the importer does).  Prints the new run id.
set -euo pipefail
db=$1 rev=$2 ofs=$3 accel=${4:-icount}
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../../.." && pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
"$ROOT/build/host/kmtrace" synth --events 400 --samples 20 --seed 7 "$tmp/d.bin"
printf 'started_utc=2026-11-26T10:00:0%sZ\ngit_rev=%s\ngit_dirty=0\nsystem=kmemlab\naccel=%s\n' \
    "$((ofs % 10))" "$rev" "$accel" >"$tmp/meta"
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
SQL
echo "$id"
