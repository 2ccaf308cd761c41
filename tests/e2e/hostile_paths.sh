#!/usr/bin/env bash
# Paths are bytes: folders whose names are not UTF-8 ($'\xff\xfe') export, verify and
# inspect normally (issue 9: export died with rc 134 in the report's JSON and left nine
# staged files). Every JSON we print parses strictly as UTF-8 (python3), and a path that is
# not UTF-8 is recorded twice, readable (U+FFFD) and exactly as "<key>_hex", whose bytes
# name the real file. Also an initializer name holding \xff in inspect --json.
source "$(dirname "$0")/lib/common.sh"
HERE="$(cd "$(dirname "$0")" && pwd)"
PYTHON=${PYTHON:-python3}
cd "$WORK"
CK=$'ck\xff\xfe'
OUT=$'out\xff\xfe'
ROOT=$'root\xff\xfe'

"$E2O_GEN" --out "$CK" --vocab 300 --hidden 32 --seed 11 >/dev/null
"$E2O_BIN" export --quiet --model-dir "$CK" --out-dir "$OUT"
if compgen -G "$OUT/.embed2onnx-tmp-*" >/dev/null; then
  echo "FAIL: staged files left in the output folder" >&2
  exit 1
fi

# The report: parses, readable form plus the exact bytes of the checkpoint's path.
"$PYTHON" - "$OUT/embed_tokens_parity.json" "$WORK/$CK/model.safetensors" <<'EOF'
import json, os, sys
raw = open(sys.argv[1], "rb").read()
report = json.loads(raw.decode("utf-8"))  # strict: the file must be UTF-8
info = report["info"]
real = os.fsencode(sys.argv[2])
got = bytes.fromhex(info["checkpoint_hex"])
assert os.path.exists(got), got
assert os.path.samefile(got, real), (got, real)
assert info["checkpoint"] == got.decode("utf-8", "replace"), info["checkpoint"]
assert "\ufffd" in info["checkpoint"]
# Paths that are UTF-8 get no hex twin: the tier paths are relative to the (non-UTF-8) folder.
assert report["tiers"]["fp32"] == "embed_tokens.onnx", report["tiers"]
assert "tiers_hex" not in report and "tensor_hex" not in info
EOF

# Preset mode under a root whose name is not UTF-8: tier paths relative to the root.
mkdir -p "$ROOT/models"
"$E2O_GEN" --out "$ROOT/models/granite-speech-4.1-2b" --vocab 300 --hidden 32 --seed 12 \
  --tensor language_model.model.embed_tokens.weight >/dev/null
"$E2O_BIN" export --quiet --variant base --root "$ROOT" --tiers fp16w,int8
"$PYTHON" - "$ROOT/exports/granite-speech-4.1-2b/embed_tokens_parity.json" "$ROOT" <<'EOF'
import json, os, sys
report = json.loads(open(sys.argv[1], "rb").read().decode("utf-8"))
path = bytes.fromhex(report["info"]["checkpoint_hex"])
assert os.path.isfile(path), path
assert path.startswith(os.fsencode(sys.argv[2])), path
assert report["tiers"]["int8"] == "exports/granite-speech-4.1-2b/embed_tokens_int8.onnx", report["tiers"]
EOF

# verify, text and JSON.
"$E2O_BIN" verify "$OUT" --model-dir "$CK" --random 16 >verify.txt
"$E2O_BIN" verify "$OUT" --model-dir "$CK" --random 16 --json >verify.json
"$PYTHON" - verify.json "$WORK/$OUT" <<'EOF'
import json, os, sys
j = json.loads(open(sys.argv[1], "rb").read().decode("utf-8"))
assert j["ok"] is True, j
assert len(j["files"]) == 5, j["files"]
for f in j["files"]:
    assert f["ok"], f
    exact = bytes.fromhex(f["file_hex"])
    assert os.path.samefile(exact, os.path.join(os.fsencode(sys.argv[2]), os.path.basename(exact))), exact
EOF

# inspect, text and JSON, on a tier inside the folder.
"$E2O_BIN" inspect "$OUT/embed_tokens_int8.onnx" | grep -q "every external range fits"
"$E2O_BIN" inspect --json "$OUT/embed_tokens_int8.onnx" >inspect.json
"$PYTHON" - inspect.json "$WORK/$OUT/embed_tokens_int8.onnx_data" <<'EOF'
import json, os, sys
j = json.loads(open(sys.argv[1], "rb").read().decode("utf-8"))
assert j["ok"] is True, j
assert os.path.isfile(bytes.fromhex(j["file_hex"]))
sidecar = bytes.fromhex(j["sidecar"]["path_hex"])
assert os.path.samefile(sidecar, os.fsencode(sys.argv[2])), sidecar
assert j["sidecar"]["ranges_fit"] is True
EOF

# An initializer whose name holds \xff \xfe.
"$PYTHON" "$HERE/make_hostile_onnx.py" onnx >/dev/null
"$E2O_BIN" inspect --json onnx/name_not_utf8/m.onnx >name.json
"$E2O_BIN" inspect onnx/name_not_utf8/m.onnx >/dev/null
"$PYTHON" - name.json <<'EOF'
import json, sys
j = json.loads(open(sys.argv[1], "rb").read().decode("utf-8"))
init = j["initializers"][0]
assert bytes.fromhex(init["name_hex"]) == b"embed\xff\xfe", init
assert init["name"] == "embed\ufffd\ufffd"
EOF
# onnx/ holds the hostile models of make_hostile_onnx.py, not exports.
official_check --exclude "onnx/*" "$WORK"
echo "hostile_paths: export, verify and inspect work on folders and names that are not UTF-8"
