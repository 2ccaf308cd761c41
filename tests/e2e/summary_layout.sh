#!/usr/bin/env bash
# The export summary people read: every line but the two that hold a path fits 100 columns
# whatever the paths (non-ASCII, wide East Asian characters, a long Granite root), the tier
# rows line up by display width, plain words instead of report keys, parity said to be on
# the sample ids, the int4 block shown, a tier left out said with its reason, and tiers in
# the tier table's order in the summary, the report and verify's listing. The progress line
# fits the terminal and is absent when stderr is not one.
source "$(dirname "$0")/lib/common.sh" "$@"

check_summary() {  # summary file, expected tier order (space separated), report
  python3 - "$@" <<'PY'
import json, sys, unicodedata
def width(s):
    return sum(0 if unicodedata.combining(c) else 2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in s)
lines = open(sys.argv[1], encoding="utf-8").read().splitlines()
want = sys.argv[2].split()
report = json.load(open(sys.argv[3]))
for l in lines:
    path_line = l.startswith("  from  ") or l.startswith("  into  ") or l.startswith("variant ") or l.startswith("export:")
    assert path_line or width(l) <= 100, f"{width(l)} columns: {l!r}"
assert not any("_table_quant_stats" in l for l in lines), "a report key in the summary"
rows = [l for l in lines if l.split()[:1] and l.split()[0] in ("fp32", "fp16w", "bf16w", "int8", "int4")
        and ".onnx" in l and "_audio.onnx" not in l]
splice_rows = [l for l in lines if "_audio.onnx" in l]
assert len({width(r) for r in splice_rows}) <= 1, "splice rows not aligned:\n" + "\n".join(splice_rows)
assert [r.split()[0] for r in rows] == want, rows
head = [l for l in lines if l.split()[:2] == ["tier", "file"]]
assert len(head) == 1, lines
assert len({width(r) for r in rows + head}) == 1, "rows not aligned:\n" + "\n".join(head + rows)
n = len(report["sample_ids"])
assert any(f"on the {n} sample ids" in l for l in lines), lines
assert list(report["tiers"]) == want and list(report["parity"]) == want and list(report["files"]) == want
stats = [k for k in report if k.endswith("_table_quant_stats")]
assert stats == [f"{t}_table_quant_stats" for t in want if t in ("int8", "int4")], stats
if "int4" in want:
    block = report["tier_params"]["int4"]["block"]
    assert any(l.split()[:3] == ["int4", "(block", f"{block})"] for l in lines), lines
text = " ".join(l.strip() for l in lines)  # a long reason is wrapped
for tier, why in report.get("left_out", {}).items():
    assert f"left out {tier}: {why}" in text, (tier, why, lines)
print(f"summary ok: {len(lines)} lines, widest {max(width(l) for l in lines)} columns, tiers {' '.join(want)}")
PY
}

# 1. Generic mode, paths with wide and accented characters, tiers asked in another order.
CK="$WORK/チェックポイント-modèle"
OUT="$WORK/出力-données/embed"
"$E2O_GEN" --out "$CK" --vocab 3000 --hidden 64 --seed 5 >/dev/null
"$E2O_BIN" export --model-dir "$CK" --out-dir "$OUT" --tiers int4,fp32,int8 >"$WORK/generic.out" 2>"$WORK/generic.err"
cat "$WORK/generic.out"
check_summary "$WORK/generic.out" "fp32 int8 int4" "$OUT/embed_tokens_parity.json"
grep -q "^  into  $OUT\$" "$WORK/generic.out" || { echo "the folder is not on its own line" >&2; exit 1; }
if grep -q $'\r' "$WORK/generic.err"; then echo "progress drawn although stderr is a file" >&2; exit 1; fi
"$E2O_BIN" verify "$OUT" >"$WORK/verify.out"
[[ $(awk '$1 == "ok" { printf "%s ", $2 }' "$WORK/verify.out") == "fp32 int8 int4 " ]] \
  || { echo "verify lists tiers out of table order:" >&2; cat "$WORK/verify.out" >&2; exit 1; }

# 2. Granite's preset under a long root: every tier, the 100353-row vocabulary.
ROOT="$WORK/a-rather-long-folder-name-for-the-granite-speech-checkpoints-people-keep-in-their-home"
"$E2O_GEN" --out "$ROOT/models/granite-speech-4.1-2b" --vocab 100353 --hidden 64 --seed 6 >/dev/null
"$E2O_BIN" export --variant base --root "$ROOT" >"$WORK/granite.out"
cat "$WORK/granite.out"
check_summary "$WORK/granite.out" "fp32 fp16w bf16w int8 int4" "$ROOT/exports/granite-speech-4.1-2b/embed_tokens_parity.json"

# 3. A width with no int4 block (74 = 2 x 37): int4 left out, the reason in summary and report.
"$E2O_GEN" --out "$WORK/d74" --vocab 500 --hidden 74 --seed 7 >/dev/null
"$E2O_BIN" export --model-dir "$WORK/d74" --out-dir "$WORK/d74-out" >"$WORK/d74.out" 2>"$WORK/d74.err"
cat "$WORK/d74.out"
check_summary "$WORK/d74.out" "fp32 fp16w bf16w int8" "$WORK/d74-out/embed_tokens_parity.json"
grep -q '^  left out int4: no int4 block fits the table width 74' "$WORK/d74.out" || { echo "int4's absence unexplained" >&2; exit 1; }
grep -q 'leaving out tier int4: no int4 block fits the table width 74' "$WORK/d74.err" || { echo "no note on stderr" >&2; exit 1; }

# 4. D = 34 (2 x 17): block 34, never block 2; int4 smaller than bf16w.
"$E2O_GEN" --out "$WORK/d34" --vocab 500 --hidden 34 --seed 8 >/dev/null
"$E2O_BIN" export --model-dir "$WORK/d34" --out-dir "$WORK/d34-out" --tiers bf16w,int4 >"$WORK/d34.out"
check_summary "$WORK/d34.out" "bf16w int4" "$WORK/d34-out/embed_tokens_parity.json"
python3 - "$WORK/d34-out/embed_tokens_parity.json" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
assert r["tier_params"]["int4"]["block"] == 34, r["tier_params"]
assert r["files"]["int4"]["sidecar_bytes"] < r["files"]["bf16w"]["sidecar_bytes"], r["files"]
print("D = 34: int4 block 34,", r["files"]["int4"]["sidecar_bytes"], "bytes against bf16w's", r["files"]["bf16w"]["sidecar_bytes"])
PY
rc=0
"$E2O_BIN" export --model-dir "$WORK/d34" --out-dir "$WORK/d34-b2" --tiers int4 --int4-block 2 2>"$WORK/b2.err" || rc=$?
[[ $rc -eq 1 ]] && grep -q '^embed2onnx: error: --int4-block: 2 would make int4 1.5 bytes a value' "$WORK/b2.err" \
  || { echo "--int4-block 2: exit $rc" >&2; cat "$WORK/b2.err" >&2; exit 1; }
[[ ! -e "$WORK/d34-b2" ]] || { echo "the refused export created its folder" >&2; exit 1; }

# 5. The progress line on a 60-column terminal: every redraw fits in 59 columns.
COLUMNS=60 script -qec "stty cols 60 2>/dev/null; '$E2O_BIN' export --model-dir '$CK' --out-dir '$WORK/tty-out' >/dev/null" \
  "$WORK/tty.log" >/dev/null
python3 - "$WORK/tty.log" <<'PY'
import re, sys
raw = open(sys.argv[1], "rb").read().decode("utf-8", "replace")
draws = [d for d in re.split(r"[\r\n]", raw) if "writing" in d or "p99 pass" in d]
assert draws, "no progress line on a terminal: " + repr(raw[:500])
widest = max(len(d.rstrip()) for d in draws)
assert widest <= 59, f"a progress line of {widest} columns on a 60-column terminal"
print(f"progress: {len(draws)} redraws, widest {widest} columns of 60")
PY
echo "summary_layout: ok"
