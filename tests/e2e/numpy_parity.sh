#!/usr/bin/env bash
# Every tier's stored bytes and the report's numbers against an independent numpy
# computation of SPEC §4 (tests/numpy/check_numpy.py, the original script's own numpy
# calls): a bf16 Granite-shaped preset export, f16 and sharded f32 generic exports (all
# with edge rows), and every real fixture. Each is exported twice and judged by two
# numpys: the default (numpy 2.4 rules) by the pinned venv's numpy 2.4, and
# `--numpy 1.24` by Debian's numpy 1.24, both to the last bit. Then the checker itself is
# shown to catch a flipped stored byte and a report figure off by more than its tolerance.
set -euo pipefail
WORK=${1:?usage: $0 WORKDIR}
: "${E2O_BIN:?E2O_BIN must name the embed2onnx binary}" "${E2O_GEN:?E2O_GEN must name make_checkpoint}"
: "${E2O_SHARED:?E2O_SHARED must name the shared folder}"
PY=${PYTHON:-/usr/bin/python3}  # numpy 1.24 (Debian 12)
PY24="$(cd "$(dirname "$0")/../python" && pwd)/.venv/bin/python"  # the pinned numpy 2.4
CHECK="$(cd "$(dirname "$0")/../numpy" && pwd)/check_numpy.py"
"$PY" -c 'import numpy' 2>/dev/null || { echo "$PY cannot import numpy: install python3-numpy ('make apt-deps')" >&2; exit 1; }
[[ -x "$PY24" ]] || { echo "the pinned test environment is missing: run 'make venv' (tests/python/requirements.txt)" >&2; exit 1; }
np_minor() { "$1" -c 'import numpy; print(".".join(numpy.__version__.split(".")[:2]))'; }
[[ "$(np_minor "$PY")" == 1.24 ]] || { echo "$PY has numpy $(np_minor "$PY"), expected 1.24" >&2; exit 1; }
[[ "$(np_minor "$PY24")" == 2.4 ]] || { echo "$PY24 has numpy $(np_minor "$PY24"), expected 2.4" >&2; exit 1; }
rm -rf "$WORK" && mkdir -p "$WORK"
source "$(dirname "$0")/lib/official_check.sh"
TIERS=fp32,fp16w,int8  # the three tiers of SPEC §3-4 (the checker skips any others)
FAILED=()
check() {  # label, python, check_numpy.py args...: runs every case, reports all failures at the end
  local label=$1 py=$2
  shift 2
  "$py" "$CHECK" --exact "$@" || FAILED+=("$label")
}
rules_of() {  # report -> the numpy rules it names
  "$PY" -c 'import json, sys; print(json.load(open(sys.argv[1]))["tool"]["numpy"])' "$1"
}
# label, default export dir, --numpy 1.24 export dir, check_numpy.py args...: the first
# judged by numpy 2.4, the second by numpy 1.24, each report naming its rules.
check_both() {
  local label=$1 out24=$2 out124=$3
  shift 3
  check "$label/numpy2.4" "$PY24" --export-dir "$out24" "$@"
  check "$label/numpy1.24" "$PY" --export-dir "$out124" "$@"
  [[ "$(rules_of "$out24/embed_tokens_parity.json")" == 2.4 ]] || FAILED+=("$label/report-says-2.4")
  [[ "$(rules_of "$out124/embed_tokens_parity.json")" == 1.24 ]] || FAILED+=("$label/report-says-1.24")
}

# (a) Granite base preset shape: bf16, V = 100353 (id 100352 is a real row), edge rows.
ROOT="$WORK/root"
echo "--- bf16 granite base preset"
"$E2O_GEN" --out "$ROOT/models/granite-speech-4.1-2b" --vocab 100353 --hidden 64 --edge-rows --seed 21
"$E2O_BIN" export --variant base --root "$ROOT" --tiers $TIERS
ROOT124="$WORK/root124"
mkdir -p "$ROOT124" && ln -s "$ROOT/models" "$ROOT124/models"
"$E2O_BIN" export --variant base --root "$ROOT124" --tiers $TIERS --numpy 1.24
BASE_OUT="$ROOT/exports/granite-speech-4.1-2b"
check_both bf16_base "$BASE_OUT" "$ROOT124/exports/granite-speech-4.1-2b" --model-dir "$ROOT/models/granite-speech-4.1-2b"
# The switch changes the figures (6.4 million values: the two sums differ).
"$PY" - "$BASE_OUT/embed_tokens_parity.json" "$ROOT124/exports/granite-speech-4.1-2b/embed_tokens_parity.json" <<'PY' \
  || FAILED+=("bf16_base/rules-differ")
import json, sys
a, b = (json.load(open(p))["int8_table_quant_stats"] for p in sys.argv[1:])
sys.exit(0 if a["mean_abs_err"] != b["mean_abs_err"] and a["max_abs_err"] == b["max_abs_err"] else 1)
PY

generic() {  # label, tensor, make_checkpoint flags...
  local label=$1 tensor=$2
  shift 2
  echo "--- $label"
  "$E2O_GEN" --out "$WORK/$label/ckpt" --tensor "$tensor" --edge-rows "$@"
  "$E2O_BIN" export --model-dir "$WORK/$label/ckpt" --out-dir "$WORK/$label/out" --tensor "$tensor" --tiers $TIERS
  "$E2O_BIN" export --model-dir "$WORK/$label/ckpt" --out-dir "$WORK/$label/out124" --tensor "$tensor" \
    --tiers $TIERS --numpy 1.24
  check_both "$label" "$WORK/$label/out" "$WORK/$label/out124" --model-dir "$WORK/$label/ckpt" --tensor "$tensor"
}
# (b) f16, one file; (c) f32 in 3 shards, values beyond fp16's range. D = 80 gives a
# virtual quantile index where numpy's (n - 1) * q and n * q + (1 - q) - 1 differ.
generic f16_single model.embed_tokens.weight --dtype f16 --vocab 5003 --hidden 96 --seed 22 --std 0.5
generic f32_sharded decoder.embedding.table.weight --dtype f32 --shards 3 --vocab 3001 --hidden 80 --seed 23 --std 1.0
# (e) The p99 in one pass or two: the exporter guesses each p99 from 512 evenly spaced
# rows and counts exactly around the guess while it writes, re-reading the table only
# when the guess was wrong. With V = 1024 every sampled row is even, and the odd rows are
# 25x wider, so the guess is far off and the second pass must run; (a) takes one.
generic odd_rows_wide model.embed_tokens.weight --dtype bf16 --vocab 1024 --hidden 64 --seed 24 --odd-row-std 0.5
p99_pass_s() {  # report: the seconds of the second (p99) pass; 0 when it was not needed
  "$PY" -c 'import json, sys; print(json.load(open(sys.argv[1]))["timings_s"]["stream_p99_pass"])' "$1"
}
wide=$(p99_pass_s "$WORK/odd_rows_wide/out/embed_tokens_parity.json")
base=$(p99_pass_s "$BASE_OUT/embed_tokens_parity.json")
"$PY" -c 'import sys; sys.exit(0 if float(sys.argv[1]) > 0 else 1)' "$wide" \
  || { echo "odd_rows_wide: expected the second p99 pass to run (stream_p99_pass = $wide)" >&2; exit 1; }
[[ "$base" == 0.0 ]] || { echo "bf16_base: expected the p99 in one pass (stream_p99_pass = $base)" >&2; exit 1; }

# (d) The real checkpoints, table auto-detected.
count=0
for src in "$E2O_SHARED"/fixtures/real/*/; do
  src=${src%/}
  name=$(basename "$src")
  echo "--- real $name"
  "$E2O_BIN" export --model-dir "$src" --out-dir "$WORK/real/$name" --tiers $TIERS
  "$E2O_BIN" export --model-dir "$src" --out-dir "$WORK/real124/$name" --tiers $TIERS --numpy 1.24
  check_both "real/$name" "$WORK/real/$name" "$WORK/real124/$name" --model-dir "$src"
  count=$((count + 1))
done
[[ $count -ge 4 ]] || { echo "expected at least 4 real fixtures, found $count" >&2; exit 1; }

# The checker must fail on a changed stored byte (naming the row) and on a report mean off
# by 1e-5 relative.
echo "--- negative checks"
BAD="$WORK/tampered"
cp -r "$BASE_OUT" "$BAD"
"$PY" - "$CHECK" "$BAD" <<'PY'
import importlib.util, os, sys
spec = importlib.util.spec_from_file_location("check_numpy", sys.argv[1])
c = importlib.util.module_from_spec(spec); spec.loader.exec_module(c)
path = os.path.join(sys.argv[2], "embed_tokens_int8.onnx")
t = c.load_initializers(path)["embed_tokens.weight_int8"]
off = int(t["external"]["offset"]) + 4242 * t["dims"][1] + 7  # row 4242, col 7
with open(os.path.join(sys.argv[2], t["external"]["location"]), "r+b") as f:
    f.seek(off); b = f.read(1); f.seek(off); f.write(bytes([b[0] ^ 1]))
PY
if "$PY24" "$CHECK" --export-dir "$BAD" --model-dir "$ROOT/models/granite-speech-4.1-2b" >"$WORK/neg1.log" 2>&1; then
  echo "check_numpy.py accepted a flipped int8 byte" >&2; exit 1
fi
grep -q "embed_tokens.weight_int8' differs from numpy at row 4242 col 7" "$WORK/neg1.log" \
  || { echo "check_numpy.py did not name row 4242 col 7:" >&2; cat "$WORK/neg1.log" >&2; exit 1; }
rm -rf "$BAD" && cp -r "$BASE_OUT" "$BAD"
"$PY" - "$BAD/embed_tokens_parity.json" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
r["int8_table_quant_stats"]["mean_abs_err"] *= 1 + 1e-5
json.dump(r, open(sys.argv[1], "w"), indent=2)
PY
if "$PY24" "$CHECK" --export-dir "$BAD" --model-dir "$ROOT/models/granite-speech-4.1-2b" >"$WORK/neg2.log" 2>&1; then
  echo "check_numpy.py accepted a mean_abs_err off by 1e-5 relative" >&2; exit 1
fi
grep -q "int8_table_quant_stats.mean_abs_err" "$WORK/neg2.log" \
  || { echo "check_numpy.py did not name the mean:" >&2; cat "$WORK/neg2.log" >&2; exit 1; }
if [[ ${#FAILED[@]} -gt 0 ]]; then
  echo "numpy_parity: FAILED: the export disagrees with numpy for: ${FAILED[*]}" >&2
  exit 1
fi
# tampered/ holds a flipped byte on purpose.
official_check --exclude "tampered/*" "$WORK"
echo "numpy_parity: ok (4 synthetic, $count real checkpoints, each under numpy 2.4 and 1.24 rules; numpy catches tampering)"
