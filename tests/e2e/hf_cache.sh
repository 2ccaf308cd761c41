#!/usr/bin/env bash
# --model ORG/NAME[@REV] reads a checkpoint from the local Hugging Face cache as `hf download`
# leaves it: models--ORG--NAME/{blobs/<hash>, snapshots/<commit>/<file> -> ../../blobs/<hash>,
# refs/<branch or tag>}. By repo id (refs/main), @main, @<commit>, @<tag>; the hub folder from
# HF_HUB_CACHE, else HF_HOME/hub, else XDG_CACHE_HOME/huggingface/hub, else ~/.cache/...; what is
# missing (repo, revision, weights, a blob) is one line naming it with the `hf download` that
# fetches it; a Git LFS pointer is named as such; nothing in the cache is ever written.
# verify and inspect take --model too, and the report records the repo id and the commit.
source "$(dirname "$0")/lib/common.sh" "$@"
PY=${PYTHON:-/usr/bin/python3}

fail() { echo "hf_cache: $*" >&2; exit 1; }
# expect_error RC PATTERN CMD...: CMD exits RC and prints exactly one stderr line matching PATTERN.
expect_error() {
  local want_rc=$1 pattern=$2 rc=0
  shift 2
  "$@" >/dev/null 2>"$WORK/err" || rc=$?
  [[ $rc -eq $want_rc ]] || { cat "$WORK/err" >&2; fail "exit $rc, expected $want_rc: $*"; }
  [[ $(wc -l <"$WORK/err") -eq 1 ]] || { cat "$WORK/err" >&2; fail "expected one error line: $*"; }
  grep -qE -- "$pattern" "$WORK/err" || { cat "$WORK/err" >&2; fail "error does not match '$pattern': $*"; }
}

# Puts the files of checkpoint $3 into the cache $1 as repo $2 at commit $4: each file a blob
# named by its sha256, linked from the snapshot by a relative symlink, as huggingface_hub does.
add_snapshot() {
  local repo="$1/models--${2/\//--}" commit=$4 f b
  mkdir -p "$repo/blobs" "$repo/refs" "$repo/snapshots/$commit"
  for f in "$3"/*; do
    b=$(sha256sum "$f" | cut -c1-64)
    cp "$f" "$repo/blobs/$b"
    ln -s "../../blobs/$b" "$repo/snapshots/$commit/$(basename "$f")"
  done
}
set_ref() { mkdir -p "$1/models--${2/\//--}/refs" && printf %s "$4" >"$1/models--${2/\//--}/refs/$3"; }

NEW="$WORK/ckpt-new" OLD="$WORK/ckpt-old"
"$E2O_GEN" --out "$NEW" --vocab 300 --hidden 64 --seed 3 >/dev/null
"$E2O_GEN" --out "$OLD" --vocab 200 --hidden 64 --seed 4 --shards 2 >/dev/null
C_NEW=$(printf new | sha1sum | cut -c1-40)
C_OLD=$(printf old | sha1sum | cut -c1-40)
HUB="$WORK/hub"
add_snapshot "$HUB" acme/tiny-lm "$NEW" "$C_NEW"
add_snapshot "$HUB" acme/tiny-lm "$OLD" "$C_OLD"
set_ref "$HUB" acme/tiny-lm main "$C_NEW"
set_ref "$HUB" acme/tiny-lm v1 "$C_OLD"
[[ -L "$HUB/models--acme--tiny-lm/snapshots/$C_NEW/model.safetensors" ]] || fail "the snapshot is not made of links"
snapshot_state() { (cd "$1" && find . -printf '%p %y %s %T@ %l\n' | sort); }
before_tiny=$(snapshot_state "$HUB/models--acme--tiny-lm")

# Only the Hugging Face variables this test sets count.
unset HF_HUB_CACHE HUGGINGFACE_HUB_CACHE HF_HOME XDG_CACHE_HOME
export HF_HUB_CACHE="$HUB"

# check_report OUT COMMIT REVISION VOCAB: the report names the repo, revision, commit and snapshot.
check_report() {
  "$PY" - "$1/embed_tokens_parity.json" "$2" "$3" "$4" "$HUB/models--acme--tiny-lm/snapshots/$2" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
info = r["info"]
assert info["hf_repo"] == "acme/tiny-lm", info
assert info["hf_commit"] == sys.argv[2], info
assert info["hf_revision"] == sys.argv[3], info
assert info["vocab_size"] == int(sys.argv[4]), info
assert sys.argv[5] in info["checkpoint"], info
PY
}

# 1. By repo id (refs/main), @main, @<commit> and @<tag>: each export equals the snapshot's table.
"$E2O_BIN" export --model acme/tiny-lm --out-dir "$WORK/by_id" --tiers fp32,int8 >"$WORK/by_id.txt"
grep -q "Hugging Face cache: acme/tiny-lm@main, commit $C_NEW" "$WORK/by_id.txt" || { cat "$WORK/by_id.txt"; fail "summary"; }
check_report "$WORK/by_id" "$C_NEW" main 300
"$NODE" "$CHECK" --export-dir "$WORK/by_id" --model-dir "$HUB/models--acme--tiny-lm/snapshots/$C_NEW" \
  --report "$WORK/by_id/embed_tokens_parity.json" >/dev/null || fail "check_export on the export by repo id"
"$E2O_BIN" export -q --model acme/tiny-lm@main --out-dir "$WORK/at_main" --tiers fp32,int8
check_report "$WORK/at_main" "$C_NEW" main 300
cmp "$WORK/by_id/embed_tokens.onnx_data" "$WORK/at_main/embed_tokens.onnx_data" || fail "@main differs from the repo id"
"$E2O_BIN" export -q --model "acme/tiny-lm@$C_OLD" --out-dir "$WORK/at_commit"
check_report "$WORK/at_commit" "$C_OLD" "$C_OLD" 200
"$NODE" "$CHECK" --export-dir "$WORK/at_commit" --model-dir "$OLD" \
  --report "$WORK/at_commit/embed_tokens_parity.json" >/dev/null || fail "check_export on the export @commit"
"$E2O_BIN" export -q --model acme/tiny-lm@v1 --out-dir "$WORK/at_tag" --tiers fp16w
check_report "$WORK/at_tag" "$C_OLD" v1 200
official_check --hidden 64 "$WORK/by_id" "$WORK/at_commit" >/dev/null

# 2. verify and inspect with --model.
"$E2O_BIN" verify "$WORK/by_id" --model acme/tiny-lm >/dev/null || fail "verify --model"
"$E2O_BIN" verify "$WORK/at_commit" --model "acme/tiny-lm@$C_OLD" >/dev/null || fail "verify --model @commit"
# The other revision's table is not the one exported: a verdict, exit 1.
rc=0
"$E2O_BIN" verify "$WORK/by_id" --model acme/tiny-lm@v1 >/dev/null 2>&1 || rc=$?
[[ $rc -eq 1 ]] || fail "verify against the wrong revision exited $rc, expected 1"
"$E2O_BIN" inspect --model acme/tiny-lm >"$WORK/inspect.txt"
grep -q "model.embed_tokens.weight" "$WORK/inspect.txt" || { cat "$WORK/inspect.txt"; fail "inspect --model"; }
grep -q "\[300, 64\]\|300 x 64\|300, 64" "$WORK/inspect.txt" || { cat "$WORK/inspect.txt"; fail "inspect --model shape"; }
"$E2O_BIN" inspect --model acme/tiny-lm@v1 --json >"$WORK/inspect.json"
grep -q '200' "$WORK/inspect.json" || fail "inspect --model @v1 --json"

# 3. What is missing, each in one line naming it and the command that fetches it.
expect_error 1 "models--acme--nope: acme/nope is not in the Hugging Face cache; .hf download acme/nope. fetches it" \
  "$E2O_BIN" export --model acme/nope --out-dir "$WORK/x"
expect_error 1 "refs/dev: revision 'dev' of acme/tiny-lm is not in the Hugging Face cache; .hf download acme/tiny-lm --revision dev." \
  "$E2O_BIN" export --model acme/tiny-lm@dev --out-dir "$WORK/x"
expect_error 1 "a commit must be given in full \(40 hex digits\).*acme/tiny-lm@$C_NEW" \
  "$E2O_BIN" export --model "acme/tiny-lm@${C_NEW:0:7}" --out-dir "$WORK/x"
expect_error 2 "acme/nope is not in the Hugging Face cache" "$E2O_BIN" verify "$WORK/by_id" --model acme/nope
expect_error 2 "acme/nope is not in the Hugging Face cache" "$E2O_BIN" inspect --model acme/nope
[[ ! -e "$WORK/x" ]] || fail "a refused export created its output folder"

# A snapshot holding only config.json (a partial download), and one whose weight blob is gone.
mkdir -p "$WORK/cfg-only" && echo '{}' >"$WORK/cfg-only/config.json"
C_PART=$(printf part | sha1sum | cut -c1-40)
add_snapshot "$HUB" acme/partial "$WORK/cfg-only" "$C_PART"
set_ref "$HUB" acme/partial main "$C_PART"
expect_error 1 "snapshots/$C_PART: the snapshot of acme/partial@main holds no model.safetensors.*hf download acme/partial --revision $C_PART" \
  "$E2O_BIN" export --model acme/partial --out-dir "$WORK/x"
C_GONE=$(printf gone | sha1sum | cut -c1-40)
add_snapshot "$HUB" acme/gone "$NEW" "$C_GONE"
set_ref "$HUB" acme/gone main "$C_GONE"
rm "$HUB/models--acme--gone/blobs/$(sha256sum "$NEW/model.safetensors" | cut -c1-64)"
expect_error 1 "snapshots/$C_GONE/model.safetensors: the blob it links to is not in the Hugging Face cache" \
  "$E2O_BIN" export --model acme/gone --out-dir "$WORK/x"

# A Git LFS pointer where the weights should be (a clone without `git lfs pull`, copied in).
mkdir -p "$WORK/lfs"
printf 'version https://git-lfs.github.com/spec/v1\noid sha256:%s\nsize 38400\n' "$(printf x | sha256sum | cut -c1-64)" \
  >"$WORK/lfs/model.safetensors"
C_LFS=$(printf lfs | sha1sum | cut -c1-40)
add_snapshot "$HUB" acme/lfs-lm "$WORK/lfs" "$C_LFS"
set_ref "$HUB" acme/lfs-lm main "$C_LFS"
expect_error 1 "snapshots/$C_LFS/model.safetensors: is a Git LFS pointer, not the weights" \
  "$E2O_BIN" export --model acme/lfs-lm --out-dir "$WORK/x"
before=$(snapshot_state "$HUB")  # the cache as this test left it

# 4. Flags: exactly one of --model-dir and --model; --model needs --out-dir.
expect_error 2 "excludes" "$E2O_BIN" export --model acme/tiny-lm --model-dir "$NEW" --out-dir "$WORK/x"
expect_error 2 "--out-dir" "$E2O_BIN" export --model acme/tiny-lm
expect_error 2 "excludes" "$E2O_BIN" export --model acme/tiny-lm --variant base --out-dir "$WORK/x"
expect_error 2 "excludes" "$E2O_BIN" verify "$WORK/by_id" --model acme/tiny-lm --model-dir "$NEW"
"$E2O_BIN" verify "$WORK/by_id" >/dev/null || fail "verify from the report (the snapshot it records)"
expect_error 2 "excludes" "$E2O_BIN" inspect "$NEW" --model acme/tiny-lm

# 5. Where the hub folder is: HF_HUB_CACHE wins over HF_HOME, which wins over XDG_CACHE_HOME,
# which wins over HOME; each is named in the error when the repo is not there.
OTHER="$WORK/hfhome/hub"
add_snapshot "$OTHER" acme/other-lm "$OLD" "$C_OLD"
set_ref "$OTHER" acme/other-lm main "$C_OLD"
HF_HOME="$WORK/hfhome" "$E2O_BIN" export -q --model acme/tiny-lm --out-dir "$WORK/prec1" --tiers fp32 \
  || fail "HF_HUB_CACHE did not win over HF_HOME"
expect_error 1 "^embed2onnx: error: $HUB/models--acme--other-lm: acme/other-lm is not in the Hugging Face cache" \
  env HF_HOME="$WORK/hfhome" "$E2O_BIN" export --model acme/other-lm --out-dir "$WORK/x"
unset HF_HUB_CACHE
HF_HOME="$WORK/hfhome" XDG_CACHE_HOME="$WORK/nowhere" "$E2O_BIN" export -q --model acme/other-lm \
  --out-dir "$WORK/prec2" --tiers fp32 || fail "HF_HOME/hub was not read"
"$PY" -c 'import json, sys; i = json.load(open(sys.argv[1]))["info"]; assert i["vocab_size"] == 200, i' \
  "$WORK/prec2/embed_tokens_parity.json"
expect_error 1 "^embed2onnx: error: $WORK/hfhome/hub/models--acme--tiny-lm: acme/tiny-lm is not" \
  env HF_HOME="$WORK/hfhome" XDG_CACHE_HOME="$WORK/xdg" "$E2O_BIN" export --model acme/tiny-lm --out-dir "$WORK/x"
mkdir -p "$WORK/xdg/huggingface" && ln -s "$HUB" "$WORK/xdg/huggingface/hub"
XDG_CACHE_HOME="$WORK/xdg" "$E2O_BIN" export -q --model acme/tiny-lm --out-dir "$WORK/prec3" --tiers fp32 \
  || fail "XDG_CACHE_HOME/huggingface/hub was not read"
mkdir -p "$WORK/home/.cache/huggingface" && ln -s "$OTHER" "$WORK/home/.cache/huggingface/hub"
HOME="$WORK/home" "$E2O_BIN" export -q --model acme/other-lm --out-dir "$WORK/prec4" --tiers fp32 \
  || fail "~/.cache/huggingface/hub was not read"
expect_error 1 "^embed2onnx: error: $WORK/home/.cache/huggingface/hub/models--acme--tiny-lm: acme/tiny-lm is not" \
  env HOME="$WORK/home" "$E2O_BIN" export --model acme/tiny-lm --out-dir "$WORK/x"

# 6. Nothing in the cache was written, linked or touched.
[[ "$(snapshot_state "$HUB")" == "$before" ]] || fail "the cache changed"
[[ "$(snapshot_state "$HUB/models--acme--tiny-lm")" == "$before_tiny" ]] || fail "the repo exported from changed"
echo "hf_cache: ok"
