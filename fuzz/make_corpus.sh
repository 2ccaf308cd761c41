#!/usr/bin/env bash
# Writes the seed corpora of the fuzz targets into fuzz/corpus/<target>/, one case per
# file, named after what it is. Deterministic: run it again and git shows no change.
#
#   bash fuzz/make_corpus.sh [path/to/embed2onnx]
#
# Needs: the embed2onnx CLI (default build/embed2onnx) to export the valid ONNX models,
# protoc and Debian's /usr/include/onnx/onnx.proto to rewrite them, and the real
# fixtures in ../shared/fixtures/real (or $E2O_SHARED/fixtures/real).
# Seed bytes are written as printf formats on purpose:
# shellcheck disable=SC2059
set -euo pipefail
export LC_ALL=C  # ${#s} counts bytes, printf passes bytes through

root=$(cd "$(dirname "$0")/.." && pwd)
bin=${1:-$root/build/embed2onnx}
real=${E2O_SHARED:-$root/../shared}/fixtures/real
proto_dir=/usr/include
out=$root/fuzz/corpus

[ -x "$bin" ] || { echo "make_corpus.sh: no embed2onnx at $bin (build it, or pass its path)" >&2; exit 1; }
[ -d "$real" ] || { echo "make_corpus.sh: no real fixtures at $real" >&2; exit 1; }
command -v protoc >/dev/null || { echo "make_corpus.sh: protoc not found (Debian: protobuf-compiler)" >&2; exit 1; }

scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT

# --- helpers -------------------------------------------------------------------------

# The 8 little-endian bytes of $1 (bash arithmetic: 64-bit, -1 is 2^64 - 1).
le64() {
  local v=$1 i
  for i in 0 1 2 3 4 5 6 7; do printf "\\x$(printf %02x $(((v >> (8 * i)) & 255)))"; done
}

# st NAME HEADER DATA_BYTES: a safetensors file with $DATA_BYTES bytes of data (0x11).
st() {
  local file=$out/safetensors_header_fuzz/$1 header=$2 n=$3
  { le64 "${#header}"; printf '%s' "$header"; head -c "$n" /dev/zero | tr '\0' '\021'; } >"$file"
}

# raw NAME BYTES...: a safetensors seed whose bytes are given as printf formats.
raw() {
  local file=$out/safetensors_header_fuzz/$1
  shift
  printf "$@" >"$file"
}

# idx NAME TEXT: an index seed.
idx() { printf '%s' "$2" >"$out/index_fuzz/$1"; }

# Text format <-> binary ONNX.
onnx_decode() { protoc -I"$proto_dir" --decode=onnx.ModelProto onnx/onnx.proto <"$1"; }
onnx_encode() { protoc -I"$proto_dir" --encode=onnx.ModelProto onnx/onnx.proto >"$out/onnx_model_fuzz/$1"; }

# drop_ext KEY: the text model on stdin without its external_data entry for KEY.
drop_ext() {
  awk -v key="key: \"$1\"" '
    /^ *external_data \{$/ { block = $0 "\n"; inside = 1; next }
    inside { block = block $0 "\n"; if ($0 ~ /^ *\}$/) { if (index(block, key) == 0) printf "%s", block; inside = 0 }; next }
    { print }'
}

# flip FILE OFFSET MASK: xors one byte of FILE in place.
flip() {
  local byte
  byte=$(od -An -tu1 -j "$2" -N1 "$1" | tr -d ' ')
  printf "\\x$(printf %02x $((byte ^ $3)))" | dd of="$1" bs=1 seek="$2" conv=notrunc status=none
}

rm -rf "$out"
mkdir -p "$out/safetensors_header_fuzz" "$out/index_fuzz" "$out/onnx_model_fuzz"

# --- safetensors headers ---------------------------------------------------------------
W='"dtype":"F32","shape":[2,2],"data_offsets":[0,16]'

# Malformed, one problem each.
raw empty ''
raw five_bytes '\x01\x02\x03\x04\x05'
raw header_past_eof '\xe8\x03\x00\x00\x00\x00\x00\x00{}'
raw header_absurd '\x00\x00\x00\x00\x00\x00\x00\x40{}'        # 2^62
raw header_max_u64 '\xff\xff\xff\xff\xff\xff\xff\xff{}'
st header_not_utf8 $'{"w\xff":{'"$W"'}}' 16
st header_overlong_utf8 $'{"w\xc0\xaf":{'"$W"'}}' 16
st not_json '{"w": {"dtype": F32}}' 16
st json_array '[{"dtype":"F32","shape":[1],"data_offsets":[0,4]}]' 4
st json_string '"w"' 0
st entry_not_object '{"w":[1,2,3]}' 0
st missing_dtype '{"w":{"shape":[2,2],"data_offsets":[0,16]}}' 16
st dtype_not_string '{"w":{"dtype":4,"shape":[2,2],"data_offsets":[0,16]}}' 16
st unknown_dtype '{"w":{"dtype":"F4","shape":[2,2],"data_offsets":[0,16]}}' 16
st missing_shape '{"w":{"dtype":"F32","data_offsets":[0,16]}}' 16
st negative_shape '{"w":{"dtype":"F32","shape":[-2,2],"data_offsets":[0,16]}}' 16
st float_shape '{"w":{"dtype":"F32","shape":[2.0,2],"data_offsets":[0,16]}}' 16
st huge_float_shape '{"w":{"dtype":"F32","shape":[1e300,2],"data_offsets":[0,16]}}' 16
st overflowing_shape '{"w":{"dtype":"U8","shape":[4294967296,4294967296,2],"data_offsets":[0,16]}}' 16
st overflowing_bytes '{"w":{"dtype":"F64","shape":[4611686018427387904],"data_offsets":[0,16]}}' 16
st zero_dims '{"w":{"dtype":"F32","shape":[0,4],"data_offsets":[0,0]}}' 0
st scalar_no_dims '{"w":{"dtype":"F32","shape":[],"data_offsets":[0,4]}}' 4
st offsets_reversed '{"w":{"dtype":"F32","shape":[2,2],"data_offsets":[16,0]}}' 16
st offsets_past_end '{"w":{"dtype":"F32","shape":[2,2],"data_offsets":[8,24]}}' 16
st offsets_huge '{"w":{"dtype":"F32","shape":[2,2],"data_offsets":[18446744073709551600,18446744073709551615]}}' 16
st offsets_negative '{"w":{"dtype":"F32","shape":[2,2],"data_offsets":[-16,0]}}' 16
st offsets_three '{"w":{"dtype":"F32","shape":[2,2],"data_offsets":[0,8,16]}}' 16
st offsets_strings '{"w":{"dtype":"F32","shape":[2,2],"data_offsets":["0","16"]}}' 16
st length_not_shape_size '{"w":{"dtype":"F32","shape":[2,2],"data_offsets":[0,12]}}' 16
st truncated_data '{"w":{"dtype":"F32","shape":[2,2],"data_offsets":[0,16]}}' 9
st duplicate_keys '{"w":{'"$W"'},"w":{"dtype":"U8","shape":[1],"data_offsets":[0,1]}}' 16
st duplicate_keys_nested '{"w":{"dtype":"F32","dtype":"F32","shape":[2,2],"data_offsets":[0,16]}}' 16
st overlap '{"a":{'"$W"'},"b":{"dtype":"F32","shape":[2],"data_offsets":[8,16]}}' 16
st metadata_not_object '{"__metadata__":"pt","w":{'"$W"'}}' 16
st metadata_not_strings '{"__metadata__":{"format":1},"w":{'"$W"'}}' 16
st deep_nesting "{\"w\":$(printf '[%.0s' {1..3000})$(printf ']%.0s' {1..3000})}" 0

# Valid.
st valid_one_tensor '{"w":{'"$W"'}}' 16
st valid_metadata_gap_padding '{"__metadata__":{"format":"pt"},"b":{"dtype":"BF16","shape":[3],"data_offsets":[8,14]},"a":{"dtype":"U8","shape":[2],"data_offsets":[0,2]}}      ' 20
dtypes='{'
at=0
for pair in BOOL:1 U8:1 I8:1 F8_E4M3:1 F8_E5M2:1 F8_E8M0:1 I16:2 U16:2 F16:2 BF16:2 I32:4 U32:4 F32:4 I64:8 U64:8 F64:8; do
  dt=${pair%:*}
  dtypes+="\"t_$dt\":{\"dtype\":\"$dt\",\"shape\":[2],\"data_offsets\":[$at,$((at + 2 * ${pair#*:}))]},"
  at=$((at + 2 * ${pair#*:}))
done
st valid_every_dtype "${dtypes%,}}" "$at"
# Headers of real transformers checkpoints, with their data cut off (the target also
# parses the header against a large data area), and one small shard whole.
for f in ferrl-tiny_llama/model.safetensors ferrl-tiny_qwen35/model-00001-of-00002.safetensors \
  loractl-tiny-gpt2/model.safetensors loractl-tiny-qwen3vl/model.safetensors; do
  n=$(od -An -tu8 -N8 "$real/$f" | tr -d ' ')
  head -c $((8 + n)) "$real/$f" >"$out/safetensors_header_fuzz/real_header_$(dirname "$f" | tr - _)"
done
cat "$real/ferrl-tiny_qwen35/model-00002-of-00002.safetensors" >"$out/safetensors_header_fuzz/real_whole_qwen35_shard2"

# --- index -----------------------------------------------------------------------------
idx broken_json '{"weight_map": {"a.weight": '
idx not_utf8 $'{"weight_map": {"a\xfe": "s1.safetensors"}}'
idx not_object '["a.weight"]'
idx weight_map_missing '{"metadata": {"total_size": 16}}'
idx weight_map_not_object '{"weight_map": ["s1.safetensors"]}'
idx weight_map_empty '{"weight_map": {}}'
idx value_not_string '{"weight_map": {"a.weight": 1}}'
idx value_null '{"weight_map": {"a.weight": null}}'
idx duplicate_tensor '{"weight_map": {"a.weight": "s1.safetensors", "a.weight": "s2.safetensors"}}'
idx shard_absolute '{"weight_map": {"a.weight": "/etc/passwd"}}'
idx shard_dotdot '{"weight_map": {"a.weight": "../s1.safetensors"}}'
idx shard_dotdot_alone '{"weight_map": {"a.weight": ".."}}'
idx shard_slash '{"weight_map": {"a.weight": "sub/s1.safetensors"}}'
idx shard_backslash '{"weight_map": {"a.weight": "..\\s1.safetensors"}}'
idx shard_empty '{"weight_map": {"a.weight": ""}}'
idx shard_dot '{"weight_map": {"a.weight": "."}}'
idx shard_nul '{"weight_map": {"a.weight": "s1.safetensors\u0000.txt"}}'
idx valid_two_shards '{"metadata": {"total_size": 20}, "weight_map": {"b.weight": "s2.safetensors", "a.weight": "s1.safetensors", "c.weight": "s2.safetensors"}}'
cat "$real/ferrl-tiny_qwen35/model.safetensors.index.json" >"$out/index_fuzz/valid_real_qwen35"

# --- ONNX models -----------------------------------------------------------------------
"$bin" export --quiet --model-dir "$real/ferrl-tiny_llama" --out-dir "$scratch/export" --threads 1
o=$out/onnx_model_fuzz
for tier in "" _fp16w _int8; do
  src=$scratch/export/embed_tokens$tier.onnx
  name=valid${tier:-_fp32}
  cat "$src" >"$o/$name"
  size=$(stat -c %s "$src")
  head -c $((size / 2)) "$src" >"$o/truncated_half${tier:-_fp32}"
  head -c $((size - 1)) "$src" >"$o/truncated_last_byte${tier:-_fp32}"
  for at in 3 $((size / 3)) $((size - 5)); do
    cat "$src" >"$o/bitflip_${at}${tier:-_fp32}"
    flip "$o/bitflip_${at}${tier:-_fp32}" "$at" 128
  done
  onnx_decode "$src" >"$scratch/text$tier"
done
t=$scratch/text  # the fp32 model as text: one initializer, external, 4096 bytes

# External-data keys wrong, one way each.
sed 's/key: "offset"/key: "checksum"/' "$t" | onnx_encode ext_unknown_key
drop_ext location <"$t" | onnx_encode ext_location_missing
sed 's/key: "location"/key: "basepath"/' "$t" | onnx_encode ext_location_renamed
sed 's/value: "embed_tokens.onnx_data"/value: "..\/embed_tokens.onnx_data"/' "$t" | onnx_encode ext_location_dotdot
sed 's/value: "embed_tokens.onnx_data"/value: "\/etc\/passwd"/' "$t" | onnx_encode ext_location_absolute
sed 's/value: "embed_tokens.onnx_data"/value: "sub\/embed_tokens.onnx_data"/' "$t" | onnx_encode ext_location_slash
sed 's/value: "embed_tokens.onnx_data"/value: ""/' "$t" | onnx_encode ext_location_empty
sed 's/value: "4096"/value: "4095"/' "$t" | onnx_encode ext_length_wrong
drop_ext length <"$t" | onnx_encode ext_length_missing
drop_ext offset <"$t" | onnx_encode valid_ext_offset_omitted
sed 's/value: "4096"/value: "-4096"/' "$t" | onnx_encode ext_length_negative
sed 's/value: "0"/value: "-1"/' "$t" | onnx_encode ext_offset_negative
sed 's/value: "0"/value: "0x10"/' "$t" | onnx_encode ext_offset_hex
sed 's/value: "0"/value: "18446744073709551615"/' "$t" | onnx_encode ext_offset_max_u64
sed 's/value: "0"/value: "18446744073709551616"/' "$t" | onnx_encode ext_offset_past_u64
sed 's/value: "0"/value: "1"/' "$t" | onnx_encode ext_offset_past_sidecar
sed 's/data_location: EXTERNAL/data_location: DEFAULT/' "$t" | onnx_encode ext_keys_but_default_location
# Initializer fields wrong.
sed 's/dims: 32/dims: -32/' "$t" | onnx_encode dims_negative
awk '/dims: 32/ && !done { print "    dims: 4611686018427387904"; print "    dims: 4611686018427387904"; done = 1 } 1' \
  "$t" | onnx_encode dims_overflow
sed 's/data_type: 1$/data_type: 8/' "$t" | onnx_encode type_string
sed 's/data_type: 1$/data_type: 999/' "$t" | onnx_encode type_unknown
# Inline initializers: right size, wrong size, data outside raw_data, the same name twice.
inline_model() {  # $1 = initializer body
  cat <<EOF
ir_version: 10
graph {
  name: "inline"
  initializer { $1 }
}
opset_import { domain: "" version: 20 }
EOF
}
ext() {  # $1 = name, $2 = location, $3 = offset: 4 floats in external data
  echo "dims: 4 data_type: 1 name: \"$1\" data_location: EXTERNAL"
  echo "external_data { key: \"location\" value: \"$2\" }"
  echo "external_data { key: \"offset\" value: \"$3\" } external_data { key: \"length\" value: \"16\" }"
}
inline_model "$(ext a w.onnx_data 0) } initializer { $(ext b w.onnx_data 16)" | onnx_encode valid_ext_two_tensors
inline_model "$(ext a w.onnx_data 0) } initializer { $(ext b other.onnx_data 16)" | onnx_encode ext_two_locations
inline_model "$(ext a w.onnx_data 4080)" | onnx_encode valid_ext_range_ends_at_4096  # the target's sidecar size
inline_model "$(ext a w.onnx_data 4088)" | onnx_encode ext_range_past_4096
inline_model 'dims: 2 data_type: 1 name: "w" raw_data: "\000\000\200?\000\000\000@"' | onnx_encode valid_inline
inline_model 'dims: 3 data_type: 1 name: "w" raw_data: "\000\000\200?\000\000\000@"' | onnx_encode inline_size_wrong
inline_model 'dims: 2 data_type: 1 name: "w" float_data: 1 float_data: 2' | onnx_encode inline_float_data
inline_model 'dims: 1 data_type: 6 name: "w" raw_data: "\001\000\000\000" } initializer { dims: 1 data_type: 6 name: "w" raw_data: "\002\000\000\000"' |
  onnx_encode inline_name_twice

count() { find "$out/$1" -type f | wc -l; }
echo "make_corpus.sh: $(count safetensors_header_fuzz) safetensors, $(count index_fuzz) index," \
  "$(count onnx_model_fuzz) onnx seeds in $out"
