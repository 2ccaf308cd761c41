#!/usr/bin/env bash
# The output does not depend on the thread count: --threads 1 and --threads 2 write the
# same files, byte for byte (the report's timings aside), for every tier.
set -euo pipefail
WORK=${1:?usage: $0 WORKDIR}
: "${E2O_BIN:?E2O_BIN must name the embed2onnx binary}" "${E2O_GEN:?E2O_GEN must name make_checkpoint}"
NODE=${NODE:-node}
rm -rf "$WORK" && mkdir -p "$WORK"
CKPT="$WORK/ckpt"
"$E2O_GEN" --out "$CKPT" --vocab 100353 --hidden 128 --edge-rows --seed 51 --std 0.05 --shards 2

"$E2O_BIN" export --model-dir "$CKPT" --out-dir "$WORK/t1" --threads 1
"$E2O_BIN" export --model-dir "$CKPT" --out-dir "$WORK/t2" --threads 2

files1=$(cd "$WORK/t1" && ls -A | sort)
files2=$(cd "$WORK/t2" && ls -A | sort)
if [[ "$files1" != "$files2" ]]; then
  echo "different file sets:" >&2
  diff <(echo "$files1") <(echo "$files2") >&2 || true
  exit 1
fi
status=0
for f in $files1; do
  if [[ "$f" == embed_tokens_parity.json ]]; then
    # Timings are the one thing allowed to differ between two runs.
    strip='const r = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8")); delete r.timings_s; process.stdout.write(JSON.stringify(r, null, 1));'
    if ! cmp -s <("$NODE" -e "$strip" "$WORK/t1/$f") <("$NODE" -e "$strip" "$WORK/t2/$f"); then
      echo "$f differs (beyond timings_s):" >&2
      diff <("$NODE" -e "$strip" "$WORK/t1/$f") <("$NODE" -e "$strip" "$WORK/t2/$f") >&2 || true
      status=1
    fi
  elif ! cmp "$WORK/t1/$f" "$WORK/t2/$f"; then
    status=1
  fi
done
[[ $status -eq 0 ]] || exit 1
echo "threads_identical: ok ($(echo "$files1" | wc -l) files)"
