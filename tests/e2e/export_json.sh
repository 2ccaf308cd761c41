#!/usr/bin/env bash
# export --json and --dry-run. --json prints one JSON document on stdout (files, bytes,
# parity, whole-table figures, timings; one entry per variant under --variant all) and keeps
# notes on stderr; the figures equal the report's. --dry-run says what export would write
# (the planned sizes are what the export then writes), which tiers it leaves out and why,
# and whether it fits, and creates nothing, not even the output folder; --json too.
source "$(dirname "$0")/lib/common.sh" "$@"
ROOT="$WORK/root"
for v in granite-speech-4.1-2b granite-speech-4.1-2b-plus; do
  "$E2O_GEN" --out "$ROOT/models/$v" --vocab 100353 --hidden 64 --seed 31 >/dev/null
done
"$E2O_GEN" --out "$ROOT/models/granite-speech-4.1-2b-nar" --vocab 100352 --hidden 64 --seed 32 \
  --tensor llm.model.embed_tokens.weight >/dev/null

# 1. Dry run of every variant: nothing created.
"$E2O_BIN" export --variant all --root "$ROOT" --dry-run >"$WORK/dry.out"
cat "$WORK/dry.out"
[[ ! -e "$ROOT/exports" ]] || { echo "--dry-run created $ROOT/exports" >&2; find "$ROOT/exports" >&2; exit 1; }
[[ $(grep -c 'fits$' "$WORK/dry.out") -eq 3 ]] || { echo "--dry-run did not say each variant fits" >&2; exit 1; }
"$E2O_BIN" export --variant all --root "$ROOT" --dry-run --json >"$WORK/dry.json"
[[ ! -e "$ROOT/exports" ]] || { echo "--dry-run --json created $ROOT/exports" >&2; exit 1; }

# 2. The real export, as JSON.
"$E2O_BIN" export --variant all --root "$ROOT" --json >"$WORK/all.json" 2>"$WORK/all.err"
python3 - "$WORK/all.json" "$WORK/dry.json" "$ROOT" <<'PY'
import json, os, sys
doc = json.loads(open(sys.argv[1]).read())  # exactly one document on stdout
dry = json.loads(open(sys.argv[2]).read())
root = sys.argv[3]
assert doc["ok"] is True and doc["dry_run"] is False, doc.keys()
assert dry["ok"] is True and dry["dry_run"] is True
assert [e["variant"] for e in doc["exports"]] == ["base", "plus", "nar"]
order = ["fp32", "fp16w", "bf16w", "int8", "int4"]
for e, d in zip(doc["exports"], dry["exports"]):
    report = json.load(open(e["report"]))
    assert e["variant"] == report["variant"] == d["variant"]
    assert e["tensor"] == report["info"]["tensor"]
    assert (e["vocab_size"], e["hidden_size"]) == (report["info"]["vocab_size"], 64)
    assert [t["tier"] for t in e["tiers"]] == order == [t["tier"] for t in d["tiers"]]
    total = 0
    for t, p in zip(e["tiers"], d["tiers"]):
        assert os.path.getsize(t["file"]) == t["onnx_bytes"] == p["onnx_bytes"], t
        assert os.path.getsize(t["sidecar"]) == t["sidecar_bytes"] == p["sidecar_bytes"], t
        assert t["file"] == p["file"] and t["sidecar"] == p["sidecar"]
        total += t["onnx_bytes"] + t["sidecar_bytes"] + t.get("splice_bytes", 0)
        if "splice" in t:  # a preset writes one per tier (SPEC §8)
            assert os.path.getsize(t["splice"]) == t["splice_bytes"] == p["splice_bytes"], t
        rp = report["parity"][t["tier"]]
        for k in ("max_abs_err", "mean_abs_err", "p99_abs_err"):
            assert t["parity"][k] == rp[k], (t["tier"], k)
        assert t["parity"]["shape"] == rp["shape"]
        assert "parity" not in p
    assert e["bytes"] == total == d["bytes"]
    for tier in ("int8", "int4"):
        assert e["table_stats"][tier] == report[f"{tier}_table_quant_stats"], tier
    assert e["tier_params"]["int4"]["block"] == 32 == report["tier_params"]["int4"]["block"]
    assert e["left_out"] == {} == d["left_out"]
    assert set(e["timings_s"]) >= {"stream", "verify", "total"} and e["timings_s"]["total"] > 0
    # The plan counts whole blocks of what is written (a sidecar's alignment gaps are holes):
    # it bounds what the folder now takes on disk.
    used = sum(os.stat(os.path.join(os.path.dirname(e["report"]), f)).st_blocks * 512
               for f in os.listdir(os.path.dirname(e["report"])))
    assert d["fits"] is True and d["bytes_needed"] >= used and d["bytes_free"] > 0, (d["bytes_needed"], used)
    assert d["out_dir_exists"] is False
print("export --json: 3 variants, files, bytes, parity and figures as the reports say; the dry run planned every byte")
PY
# Notes stay on stderr: nothing but the document on stdout (checked by json.loads above).

# 3. Generic mode: a width int4 cannot take; the dry run into an existing export leaves it as it was.
"$E2O_GEN" --out "$WORK/d74" --vocab 400 --hidden 74 --seed 33 >/dev/null
"$E2O_BIN" export --model-dir "$WORK/d74" --out-dir "$WORK/d74-out" --quiet
before=$(cd "$WORK/d74-out" && ls -lA --time-style=full-iso && md5sum ./*)
"$E2O_BIN" export --model-dir "$WORK/d74" --out-dir "$WORK/d74-out" --dry-run --json >"$WORK/d74.json" 2>"$WORK/d74.err"
after=$(cd "$WORK/d74-out" && ls -lA --time-style=full-iso && md5sum ./*)
[[ "$before" == "$after" ]] || { echo "--dry-run changed an existing export" >&2; exit 1; }
grep -q 'leaving out tier int4' "$WORK/d74.err" || { echo "no note on stderr" >&2; exit 1; }
python3 - "$WORK/d74.json" <<'PY'
import json, sys
doc = json.loads(open(sys.argv[1]).read())
e, = doc["exports"]
assert e["variant"] is None
assert [t["tier"] for t in e["tiers"]] == ["fp32", "fp16w", "bf16w", "int8"]
assert e["left_out"]["int4"].startswith("no int4 block fits the table width 74"), e["left_out"]
assert "tier_params" not in e and e["out_dir_exists"] is True
print("dry run, D = 74: int4 left out:", e["left_out"]["int4"])
PY

# 4. A failure under --json: still one document, saying what failed, with the exit status.
rm -rf "$ROOT/models/granite-speech-4.1-2b-plus"
rc=0
"$E2O_BIN" export --variant all --root "$ROOT" --json >"$WORK/fail.json" 2>"$WORK/fail.err" || rc=$?
[[ $rc -eq 1 ]] || { echo "a missing variant: exit $rc" >&2; exit 1; }
python3 - "$WORK/fail.json" "$WORK/fail.err" <<'PY'
import json, sys
doc = json.loads(open(sys.argv[1]).read())
err = open(sys.argv[2]).read().strip().splitlines()[-1]
assert doc["ok"] is False and doc["exit_status"] == 1 and doc["exports"] == [], doc
assert "granite-speech-4.1-2b-plus" in doc["error"] and err == "embed2onnx: error: " + doc["error"], (doc, err)
print("failure as JSON:", doc["error"])
PY
echo "export_json: ok"
