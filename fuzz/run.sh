#!/usr/bin/env bash
# Fuzz the KQL front end (outside .ci/run): `bash fuzz/run.sh [SECONDS_PER_TARGET]`.
# Needs a nightly toolchain and cargo-fuzz (`cargo install cargo-fuzz`). Seeds each target's
# corpus (fuzz/corpus/, not committed) from the shared corpus of real queries when present,
# runs each target for the given time on one core, and prints executions and time per target.
# Crashers land in fuzz/artifacts/<target>/; commit each as a regression case in
# tests/data/fuzz/ (tests/kql_fuzz_regressions.rs replays them).
set -euo pipefail
cd "$(dirname "$0")"
secs="${1:-1800}"
corpus="${VIGIL_CORPUS:-../../shared/corpus}"
for t in kql_lexer kql_parser kql_binder; do
  mkdir -p "corpus/$t"
  if [ -f "$corpus/kql/queries.jsonl" ] && [ -z "$(ls -A "corpus/$t")" ]; then
    python3 - "$corpus/kql/queries.jsonl" "corpus/$t" <<'PY'
import json, sys, hashlib, os
src, out = sys.argv[1], sys.argv[2]
for line in open(src, encoding="utf-8"):
    q = json.loads(line)["query"].encode("utf-8")
    open(os.path.join(out, hashlib.sha1(q).hexdigest()), "wb").write(q)
PY
  fi
done
cargo +nightly fuzz build --release >/dev/null
for t in kql_lexer kql_parser kql_binder; do
  echo "==> $t for ${secs}s"
  cargo +nightly fuzz run --release "$t" "corpus/$t" -- \
    -dict=kql.dict -max_total_time="$secs" -max_len=65536 -timeout=10 -rss_limit_mb=2048 \
    -print_final_stats=1 2>&1 | grep -E 'stat::number_of_executed_units|stat::average_exec_per_sec|stat::peak_rss_mb|Done|ERROR|SUMMARY|crash-|timeout-|oom-' || true
done
