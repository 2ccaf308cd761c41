#!/usr/bin/env bash
# One coherent export per folder: export checkpoint A with every tier, then checkpoint B
# with --tiers int8 into the same folder. Afterwards the folder holds B's export alone
# (verify against B passes, no graph of A is left), and a user's file in it is left
# alone and named in one note. The same holds over an export of the original Python
# script (its report has no "tool" key and lists three tiers).
source "$(dirname "$0")/lib/common.sh" "$@"
die() { echo "FAIL $*" >&2; exit 1; }
A="$WORK/ckpt_a"
B="$WORK/ckpt_b"
"$E2O_GEN" --out "$A" --vocab 3000 --hidden 64 --seed 81 >/dev/null
"$E2O_GEN" --out "$B" --vocab 2000 --hidden 64 --seed 82 >/dev/null
B_FILES="embed_tokens_int8.onnx embed_tokens_int8.onnx_data embed_tokens_parity.json notes.txt "
listing() { (cd "$1" && ls -A | sort | tr '\n' ' '); }

# Exports B's int8 into $1 (which holds an earlier export and notes.txt), then checks it.
export_b_and_check() {  # folder, label
  local out=$1 label=$2
  "$E2O_BIN" export --model-dir "$B" --out-dir "$out" --tiers int8 >/dev/null 2>"$WORK/$label.err" ||
    die "$label: export of B failed: $(cat "$WORK/$label.err")"
  [[ $(listing "$out") == "$B_FILES" ]] || die "$label: the folder holds [$(listing "$out")], expected [$B_FILES]"
  [[ $(cat "$out/notes.txt") == "my notes" ]] || die "$label: notes.txt changed"
  local note
  note=$(grep -F 'left alone, not from an earlier export' "$WORK/$label.err") ||
    die "$label: no note names the files left alone; stderr: $(cat "$WORK/$label.err")"
  [[ $note == "embed2onnx: $out: left alone, not from an earlier export: notes.txt" ]] || die "$label: note: $note"
  grep -qF "embed2onnx: $out: removed what the earlier export had and this one does not: " "$WORK/$label.err" ||
    die "$label: no note names what was removed"
  "$E2O_BIN" verify "$out" --model-dir "$B" >"$WORK/$label.verify" 2>&1 ||
    die "$label: verify against B failed: $(cat "$WORK/$label.verify")"
  "$NODE" "$CHECK" --export-dir "$out" --model-dir "$B" --report "$out/embed_tokens_parity.json" --producer embed2onnx \
    >"$WORK/$label.ort" || die "$label: the ONNX Runtime check failed: $(cat "$WORK/$label.ort")"
  grep -qx 'tiers (from the report and the files present): int8' "$WORK/$label.ort" ||
    die "$label: the checker found other tiers: $(grep 'tiers (' "$WORK/$label.ort")"
  echo "$label: $(listing "$out")"
  echo "$label: $note"
}

# 1. Over an export of ours.
OUT="$WORK/out"
"$E2O_BIN" export --quiet --model-dir "$A" --out-dir "$OUT"
echo "my notes" >"$OUT/notes.txt"
export_b_and_check "$OUT" ours

# 2. Over the original script's export: its three tiers under our file names, each with
# a sidecar "<file>_data", and its report (tiers relative to the repository root).
ORIG="$WORK/orig_out"
"$E2O_BIN" export --quiet --model-dir "$A" --out-dir "$ORIG" --tiers fp32,fp16w,int8
cat >"$ORIG/embed_tokens_parity.json" <<'EOF'
{
  "variant": "base",
  "info": {"variant": "base", "embed_attr": "language_model.model.embed_tokens", "vocab_size": 3000,
           "hidden_size": 64},
  "tiers": {"fp32": "exports/granite-speech-4.1-2b/embed_tokens.onnx",
            "int8": "exports/granite-speech-4.1-2b/embed_tokens_int8.onnx",
            "fp16w": "exports/granite-speech-4.1-2b/embed_tokens_fp16w.onnx"},
  "parity": {},
  "int8_table_quant_stats": {"max_abs_err": 0.0, "mean_abs_err": 0.0, "p99_abs_err": 0.0}
}
EOF
echo "my notes" >"$ORIG/notes.txt"
export_b_and_check "$ORIG" original

# 3. A report of some other tool lists nothing we may remove: its graphs stay, named.
OTHER="$WORK/other_out"
"$E2O_BIN" export --quiet --model-dir "$A" --out-dir "$OTHER" --tiers fp32
echo '{"tool": {"name": "another-exporter"}, "tiers": {"fp32": "embed_tokens.onnx"}}' >"$OTHER/embed_tokens_parity.json"
"$E2O_BIN" export --model-dir "$B" --out-dir "$OTHER" --tiers int8 >/dev/null 2>"$WORK/other.err"
grep -qF "left alone, not from an earlier export: embed_tokens.onnx, embed_tokens.onnx_data" "$WORK/other.err" ||
  die "other: stderr: $(cat "$WORK/other.err")"
[[ -f $OTHER/embed_tokens.onnx && -f $OTHER/embed_tokens.onnx_data ]] || die "other: a file it does not list was removed"
echo "other: $(grep -F 'left alone' "$WORK/other.err")"
official_check "$WORK"
echo "coherent_folder: ok"
