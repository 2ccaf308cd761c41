#!/usr/bin/env python3
"""make_malformed.py OUTDIR: writes one malformed checkpoint folder per case under OUTDIR
and the manifest OUTDIR/cases.tsv that tests/e2e/malformed_corpus.sh runs.

Standard library only. Every byte is written here, independently of the C++ reader and
of tools/make_checkpoint, so a reader bug cannot hide behind a matching writer bug.

Manifest columns (tab-separated, one case a line):
  name     the case folder under OUTDIR
  mode     generic: --model-dir CASE --out-dir OUT
           preset:  the case folder becomes ROOT/models/granite-speech-4.1-2b, then
                    --variant base --root ROOT
           preset_all: the case folder becomes ROOT/models/granite-speech-4.1-2b-plus
                    beside good base and nar checkpoints, then --variant all --root ROOT
  touches  0: the error must come before the output folder is touched at all (its own
              mtime included); 1: found while streaming rows (NaN, inf), so staged
              files may have come and gone: only the export's files must be unchanged
  pattern  extended regex the single error line must match (names the file, tensor or row)
  args     extra export arguments, space-separated (may be empty)
"""
import json
import os
import struct
import sys

V, D = 16, 32  # D a multiple of the int4 tier's default block
TABLE = "model.embed_tokens.weight"
PRESET_TABLE = "language_model.model.embed_tokens.weight"
ST = "model.safetensors"
INDEX = "model.safetensors.index.json"
SHARD1 = "model-00001-of-00002.safetensors"
SHARD2 = "model-00002-of-00002.safetensors"
DSIZE = {"BF16": 2, "F16": 2, "F32": 4}


def values(n, seed=1):
    """n small deterministic floats in [-0.5, 0.5), exactly representable in bf16."""
    out, x = [], seed
    for _ in range(n):
        x = (x * 6364136223846793005 + 1442695040888963407) % (1 << 64)
        out.append(((x >> 40) % 256 - 128) / 256.0)
    return out


def encode(vals, dtype):
    if dtype == "F32":
        return struct.pack("<%df" % len(vals), *vals)
    if dtype == "F16":
        return struct.pack("<%de" % len(vals), *vals)
    # BF16: the top half of the float32 bits (exact for these values; NaN/inf keep their class).
    return b"".join(struct.pack("<f", v)[2:] for v in vals)


def table_bytes(dtype="BF16", rows=V, cols=D, special=None):
    vals = values(rows * cols)
    for (r, c), v in (special or {}).items():
        vals[r * cols + c] = v
    return encode(vals, dtype)


def entry(dtype="BF16", shape=(V, D), offsets=None, nbytes=None):
    if offsets is None:
        n = nbytes
        if n is None:
            n = DSIZE.get(dtype, 2)
            for s in shape:
                n *= s
        offsets = [0, n]
    return {"dtype": dtype, "shape": list(shape), "data_offsets": list(offsets)}


def safetensors(header, data=b"", header_len=None):
    """header: a dict (dumped as JSON) or raw bytes; header_len overrides the prefix."""
    h = header if isinstance(header, bytes) else json.dumps(header).encode()
    return struct.pack("<Q", len(h) if header_len is None else header_len) + h + data


def good_single(name=TABLE, dtype="BF16", special=None):
    data = table_bytes(dtype, special=special)
    return safetensors({"__metadata__": {"format": "pt"}, name: entry(dtype)}, data)


def good_sharded(weight_map=None, shard1=None, shard2=None):
    """The table in shard 1, lm_head in shard 2, and the index naming both."""
    files = {
        SHARD1: shard1 if shard1 is not None else good_single(),
        SHARD2: shard2 if shard2 is not None else safetensors({"lm_head.weight": entry()}, table_bytes()),
    }
    wm = weight_map if weight_map is not None else {TABLE: SHARD1, "lm_head.weight": SHARD2}
    files[INDEX] = json.dumps({"metadata": {"total_size": 2 * V * D * 2}, "weight_map": wm}).encode()
    return files


CASES = []  # (name, mode, touches, pattern, args, files)


def case(name, files, pattern, args="", mode="generic", touches=0):
    CASES.append((name, mode, touches, pattern, args, files))


def single(name, data, pattern, **kw):
    case(name, {ST: data}, pattern, **kw)


def main():
    if len(sys.argv) != 2:
        sys.exit("usage: make_malformed.py OUTDIR")
    out = sys.argv[1]
    nan, inf = float("nan"), float("inf")
    good = table_bytes()
    ST_RE = r"model\.safetensors"

    # --- The 8-byte header length and the header bytes.
    single("empty_file", b"", ST_RE + r".*(too short|0 bytes)")
    single("short_file", b"\x10\x00\x00", ST_RE + r".*(too short|3 bytes)")
    single("header_len_past_eof", safetensors(b'{"a":1}', header_len=1000), ST_RE + r".*header length 1000")
    single("header_len_huge", safetensors(b"{}", header_len=(1 << 64) - 1), ST_RE + r".*header length")
    single("header_len_zero", safetensors(b"", header_len=0) + good, ST_RE + r".*(JSON|header)")
    single("header_not_utf8", safetensors(b'{"model.embed\xff\xfe": 1}'), ST_RE + r".*UTF-8")
    single("header_not_json", safetensors(b'{"model.embed_tokens.weight": {"dtype": "BF16",'), ST_RE + r".*JSON")
    single("header_json_array", safetensors(b"[1, 2, 3]"), ST_RE + r".*not a JSON object")
    single("header_json_string", safetensors(b'"model"'), ST_RE + r".*not a JSON object")
    single("header_duplicate_key", safetensors(
        b'{"' + TABLE.encode() + b'": ' + json.dumps(entry()).encode() + b', "' + TABLE.encode() + b'": ' +
        json.dumps(entry()).encode() + b"}", good), ST_RE + r".*duplicate key")
    single("metadata_not_strings", safetensors({"__metadata__": {"format": 1}, TABLE: entry()}, good),
           ST_RE + r".*__metadata__")

    # --- One header entry.
    single("entry_not_object", safetensors({TABLE: [1, 2]}, good), ST_RE + r".*" + TABLE + r".*not an object")
    single("entry_no_dtype", safetensors({TABLE: {"shape": [V, D], "data_offsets": [0, len(good)]}}, good),
           ST_RE + r".*" + TABLE + r".*dtype")
    single("dtype_unknown", safetensors({TABLE: entry("Q4_K", nbytes=len(good))}, good),
           ST_RE + r".*" + TABLE + r".*unknown dtype 'Q4_K'")
    single("dtype_not_a_table", safetensors({TABLE: entry("I16")}, good),
           ST_RE + r".*" + TABLE + r".*(BF16, F16 or F32|I16)")
    single("offsets_reversed", safetensors({TABLE: entry(offsets=[len(good), 0])}, good),
           ST_RE + r".*" + TABLE + r".*data_offsets")
    single("offsets_past_end", safetensors({TABLE: entry(offsets=[64, 64 + len(good)])}, good),
           ST_RE + r".*" + TABLE + r".*past the end")
    single("offsets_negative", safetensors({TABLE: entry(offsets=[-2, len(good) - 2])}, good),
           ST_RE + r".*" + TABLE + r".*data_offsets")
    single("offsets_missing", safetensors({TABLE: {"dtype": "BF16", "shape": [V, D]}}, good),
           ST_RE + r".*" + TABLE + r".*data_offsets")
    single("length_not_shape_times_dtype", safetensors({TABLE: entry(shape=(V, D + 1), offsets=[0, len(good)])}, good),
           ST_RE + r".*" + TABLE + r".*needs")
    single("shape_negative", safetensors({TABLE: entry(shape=(-V, D), offsets=[0, len(good)])}, good),
           ST_RE + r".*" + TABLE + r".*shape")
    single("shape_overflow", safetensors({TABLE: entry(shape=(1 << 62, 1 << 62), offsets=[0, len(good)])}, good),
           ST_RE + r".*" + TABLE + r".*overflow")
    single("shape_bytes_overflow", safetensors({TABLE: entry(shape=(1 << 62, 2), offsets=[0, len(good)])}, good),
           ST_RE + r".*" + TABLE + r".*overflow")
    single("shape_past_2_64", safetensors(
        b'{"' + TABLE.encode() + b'": {"dtype": "BF16", "shape": [18446744073709551617, 8], "data_offsets": [0, 256]}}',
        good), ST_RE + r".*" + TABLE + r".*shape")
    single("shape_float", safetensors({TABLE: entry(shape=(16.0, D), offsets=[0, len(good)])}, good),
           ST_RE + r".*" + TABLE + r".*shape")
    single("shape_zero_rows", safetensors({TABLE: entry(shape=(0, D))}), ST_RE + r".*" + TABLE + r".*empty",
           args="--tensor " + TABLE)
    single("shape_zero_cols", safetensors({TABLE: entry(shape=(V, 0))}), ST_RE + r".*" + TABLE + r".*empty",
           args="--tensor " + TABLE)
    single("shape_rank1", safetensors({TABLE: entry(shape=(V * D,))}, good), ST_RE + r".*" + TABLE + r".*rank 1",
           args="--tensor " + TABLE)
    single("shape_rank3", safetensors({TABLE: entry(shape=(2, V, D // 2))}, good),
           ST_RE + r".*" + TABLE + r".*rank 3", args="--tensor " + TABLE)
    single("shape_rank1_autodetect", safetensors({TABLE: entry(shape=(V * D,))}, good),
           ST_RE + r".*" + TABLE + r".* is BF16 \[%d\] \(rank 1\), not a 2-D table" % (V * D))
    single("tensors_overlap", safetensors({TABLE: entry(), "lm_head.weight": entry(offsets=[8, 8 + len(good)])},
                                          good + b"\0" * 8), ST_RE + r".*overlap")

    # --- The data itself.
    single("data_truncated", good_single()[:-37], ST_RE + r".*" + TABLE + r".*past the end")
    single("nan_bf16", good_single(special={(5, 3): nan}), ST_RE + r".*" + TABLE + r".*row 5 ", touches=1)
    single("inf_bf16", good_single(special={(11, 0): inf}), ST_RE + r".*" + TABLE + r".*row 11 ", touches=1)
    single("neg_inf_f16", good_single(dtype="F16", special={(0, 7): -inf}), ST_RE + r".*" + TABLE + r".*row 0 ",
           touches=1)
    single("nan_f32_last_row", good_single(dtype="F32", special={(V - 1, D - 1): nan}),
           ST_RE + r".*" + TABLE + r".*row 15 ", touches=1)

    # --- Finding the table.
    single("tensor_absent_generic", good_single(), ST_RE + r".*'model\.embed_tokens\.weights' not found",
           args="--tensor model.embed_tokens.weights")
    single("tensor_absent_autodetect", safetensors({"lm_head.weight": entry(), "model.norm.weight": entry(shape=(D,),
                                                    offsets=[len(good), len(good) + 2 * D])}, good + b"\0" * 2 * D),
           ST_RE + r".*no embedding table.*lm_head\.weight")
    single("tensor_ambiguous_autodetect", safetensors({"a.embed_tokens.weight": entry(),
                                                       "b.embed_tokens.weight": entry(offsets=[len(good), 2 * len(good)])},
                                                      good + good), ST_RE + r".*several.*a\.embed_tokens\.weight")
    single("no_tensors", safetensors({"__metadata__": {"format": "pt"}}), ST_RE + r".*no tensors")

    # --- The folder.
    case("no_checkpoint", {"config.json": b"{}", "README.md": b"hi"}, r"no_checkpoint.*no checkpoint")
    case("several_safetensors", {"a.safetensors": good_single(), "b.safetensors": good_single()},
         r"several_safetensors.*a\.safetensors")
    case("checkpoint_is_fifo", {ST: "fifo"}, r"checkpoint_is_fifo/" + ST_RE + r": not a regular file")
    case("checkpoint_is_folder", {ST + "/x": b""}, r"checkpoint_is_folder/" + ST_RE + r": not a regular file")
    case("checkpoint_dangling_link", {ST: "symlink:gone.safetensors"},
         r"checkpoint_dangling_link/" + ST_RE + r": no such file")
    case("index_is_folder", {INDEX + "/x": b"", SHARD1: good_single()},
         r"index_is_folder/model\.safetensors\.index\.json: not a regular file")

    # --- Sharded checkpoints.
    IDX_RE = r"model\.safetensors\.index\.json"
    files = good_sharded()
    files[INDEX] = b'{"weight_map": {"model.embed_tokens.weight": "' + SHARD1.encode() + b'",'
    case("index_broken_json", files, IDX_RE + r".*JSON")
    files = good_sharded()
    files[INDEX] = b""
    case("index_empty", files, IDX_RE + r".*JSON")
    files = good_sharded()
    files[INDEX] = json.dumps({"weight_map": [[TABLE, SHARD1]]}).encode()
    case("index_weight_map_not_object", files, IDX_RE + r".*weight_map is not an object")
    files = good_sharded()
    files[INDEX] = json.dumps({"metadata": {}}).encode()
    case("index_no_weight_map", files, IDX_RE + r".*weight_map")
    case("index_value_not_string", good_sharded(weight_map={TABLE: 1}), IDX_RE + r".*" + TABLE + r".*not a string")
    files = good_sharded()
    del files[SHARD2]
    case("shard_missing", files, r"model-00002-of-00002\.safetensors.*no such file")
    case("shard_truncated", good_sharded(shard1=good_single()[:-100]),
         r"model-00001-of-00002\.safetensors.*" + TABLE + r".*past the end")
    case("shard_header_not_json", good_sharded(shard2=safetensors(b"{oops")), r"model-00002-of-00002\.safetensors.*JSON")
    case("shard_without_its_tensor", good_sharded(weight_map={TABLE: SHARD2, "lm_head.weight": SHARD2}),
         IDX_RE + r".*" + TABLE + r".*model-00002-of-00002\.safetensors")
    case("shard_name_absolute", good_sharded(weight_map={TABLE: "/etc/passwd", "lm_head.weight": SHARD2}),
         IDX_RE + r".*'/etc/passwd'.*absolute")
    case("shard_name_dotdot", good_sharded(weight_map={TABLE: "../" + SHARD1, "lm_head.weight": SHARD2}),
         IDX_RE + r".*\.\./" + SHARD1)
    case("shard_name_dotdot_alone", good_sharded(weight_map={TABLE: "..", "lm_head.weight": SHARD2}),
         IDX_RE + r".*shard name '\.\.' .*'\.\.'")
    case("shard_name_backslash", good_sharded(weight_map={TABLE: "..\\" + SHARD1, "lm_head.weight": SHARD2}),
         IDX_RE + r".*is not a plain file name")
    sub = good_sharded(weight_map={TABLE: "sub/" + SHARD1, "lm_head.weight": SHARD2})
    sub["sub/" + SHARD1] = good_single()
    case("shard_name_slash", sub, IDX_RE + r".*'sub/" + SHARD1 + r"'.*'/'")
    case("nan_in_shard", good_sharded(shard1=good_single(special={(9, 1): nan})),
         r"model-00001-of-00002\.safetensors.*" + TABLE + r".*row 9 ", touches=1)

    # --- Preset mode (--variant base --root ROOT).
    case("preset_header_not_json", {ST: safetensors(b"{not json")}, r"granite-speech-4\.1-2b/model\.safetensors.*JSON",
         mode="preset")
    case("preset_wrong_table_name", {ST: good_single(TABLE)},
         r"granite-speech-4\.1-2b/model\.safetensors.*language_model\.model\.embed_tokens\.weight", mode="preset")
    case("preset_nan", {ST: good_single(PRESET_TABLE, special={(2, 2): nan})},
         r"granite-speech-4\.1-2b/model\.safetensors.*row 2 ", mode="preset", touches=1)
    case("preset_no_model_folder", None, r"models/granite-speech-4\.1-2b.*no such folder", mode="preset")

    # --- --variant all: base and nar are good, plus is broken. Every checkpoint is
    # checked before the first export starts, so nothing may be written at all.
    PLUS_RE = r"granite-speech-4\.1-2b-plus/model\.safetensors"
    case("all_plus_header_not_json", {ST: safetensors(b"[")}, PLUS_RE + r".*JSON", mode="preset_all")
    case("all_plus_rank3", {ST: safetensors({PRESET_TABLE: entry(shape=(2, V, D // 2))}, good)},
         PLUS_RE + r".*rank 3", mode="preset_all")
    case("all_plus_dtype_i16", {ST: safetensors({PRESET_TABLE: entry("I16")}, good)},
         PLUS_RE + r".*BF16, F16 or F32", mode="preset_all")
    case("all_plus_tensor_absent", {ST: good_single(TABLE)},
         PLUS_RE + r".*'" + PRESET_TABLE + r"' not found", args="--tensor " + PRESET_TABLE, mode="preset_all")

    os.makedirs(out, exist_ok=True)
    with open(os.path.join(out, "cases.tsv"), "w") as manifest:
        for name, mode, touches, pattern, args, files in CASES:
            folder = os.path.join(out, name)
            if files is not None:
                os.makedirs(folder, exist_ok=True)
                for rel, data in files.items():
                    path = os.path.join(folder, rel)
                    os.makedirs(os.path.dirname(path), exist_ok=True)
                    if data == "fifo":
                        os.mkfifo(path)
                    elif isinstance(data, str) and data.startswith("symlink:"):
                        os.symlink(data[len("symlink:"):], path)
                    else:
                        with open(path, "wb") as f:
                            f.write(data)
            manifest.write("\t".join([name, mode, str(touches), pattern, args]) + "\n")
    print("make_malformed: %d cases in %s" % (len(CASES), out))


if __name__ == "__main__":
    main()
