#!/usr/bin/env python3
"""make_hostile_onnx.py OUTDIR: writes one small .onnx model per hostile case under OUTDIR
(with its sidecars, folders and symlinks) and the manifest OUTDIR/cases.tsv that
tests/e2e/hostile_onnx.sh runs through both `embed2onnx inspect` and ONNX Runtime.

Standard library only: the protobuf bytes are written here by hand, independently of the
C++ reader and writer, so a bug in ours cannot hide behind a matching one.

Every model is the same lookup graph, Gather(weight FLOAT [16, 16], input_ids) ->
inputs_embeds, whose weight (1024 bytes) is external unless the case says otherwise. The
weight is used by the node, so ONNX Runtime loads it at session creation (it drops unused
initializers before it reads their data).

Manifest columns (tab-separated, one case a line):
  name     the case
  model    the .onnx to open, relative to OUTDIR (may be a symlink)
  expect   accept | refuse: what ONNX Runtime 1.30 was seen to do (the script checks that
           ORT still does it, and that embed2onnx inspect agrees)
  pattern  extended regex our one error line must match (empty for accepted cases)
"""
import os
import struct
import sys

V, D = 16, 16
WEIGHT = "embed_tokens.weight"
FLOAT, INT64 = 1, 7


# --- a minimal protobuf writer -----------------------------------------------------------
def varint(n):
    n &= (1 << 64) - 1  # negative int64 as protobuf writes it: ten bytes, two's complement
    out = bytearray()
    while True:
        b = n & 0x7F
        n >>= 7
        if n:
            out.append(b | 0x80)
        else:
            out.append(b)
            return bytes(out)


def field_varint(num, value):
    return varint(num << 3) + varint(value)


def field_bytes(num, data):
    if isinstance(data, str):
        data = data.encode()
    return varint((num << 3) | 2) + varint(len(data)) + data


def entry(key, value):  # StringStringEntryProto
    return field_bytes(1, key) + field_bytes(2, value)


def dim(d):  # TensorShapeProto.Dimension
    return field_bytes(1, field_bytes(2, d) if isinstance(d, str) else field_varint(1, d))


def value_info(name, elem_type, dims):
    shape = b"".join(dim(d) for d in dims)
    tensor_type = field_varint(1, elem_type) + field_bytes(2, shape)
    return field_bytes(1, name) + field_bytes(2, field_bytes(1, tensor_type))


def tensor(name, dims, raw=None, external=None):
    """A FLOAT TensorProto: inline `raw` bytes, or `external` (key, value) pairs."""
    t = b"".join(field_varint(1, d) for d in dims) + field_varint(2, FLOAT) + field_bytes(8, name)
    if external is None:
        return t + field_bytes(9, raw)
    return t + b"".join(field_bytes(13, entry(k, v)) for k, v in external) + field_varint(14, 1)


def model(initializer, weight=WEIGHT):
    node = field_bytes(1, weight) + field_bytes(1, "input_ids") + field_bytes(2, "inputs_embeds")
    node += field_bytes(3, "EmbedTokens_Gather") + field_bytes(4, "Gather")
    graph = field_bytes(1, node) + field_bytes(2, "hostile") + field_bytes(5, initializer)
    graph += field_bytes(11, value_info("input_ids", INT64, ["B", "N"]))
    graph += field_bytes(12, value_info("inputs_embeds", FLOAT, ["B", "N", D]))
    opset = field_bytes(1, "") + field_varint(2, 20)
    return (field_varint(1, 10) + field_bytes(2, "make_hostile_onnx") + field_bytes(7, graph) +
            field_bytes(8, opset))


def two_input_model(t1, t2):
    """inputs_embeds = Gather(weight + bias, input_ids): both initializers are used."""
    add = field_bytes(1, WEIGHT) + field_bytes(1, "bias") + field_bytes(2, "sum") + field_bytes(4, "Add")
    gather = field_bytes(1, "sum") + field_bytes(1, "input_ids") + field_bytes(2, "inputs_embeds")
    gather += field_bytes(4, "Gather")
    graph = field_bytes(1, add) + field_bytes(1, gather) + field_bytes(2, "two") + field_bytes(5, t1)
    graph += field_bytes(5, t2) + field_bytes(11, value_info("input_ids", INT64, ["B", "N"]))
    graph += field_bytes(12, value_info("inputs_embeds", FLOAT, ["B", "N", D]))
    return field_varint(1, 10) + field_bytes(7, graph) + field_bytes(8, field_bytes(1, "") + field_varint(2, 20))


def weight_bytes():
    return struct.pack("<%df" % (V * D), *[(i % 97) / 64.0 - 0.75 for i in range(V * D)])


NBYTES = V * D * 4


def external_model(location, offset=0, length=NBYTES, extra=()):
    kv = [("location", location), ("offset", str(offset)), ("length", str(length))] + list(extra)
    return model(tensor(WEIGHT, [V, D], external=kv))


# --- the cases ---------------------------------------------------------------------------
def main():
    out = os.path.abspath(sys.argv[1])
    os.makedirs(out, exist_ok=True)
    rows = []

    def write(rel, data):
        p = os.path.join(out, rel)
        os.makedirs(os.path.dirname(p), exist_ok=True)
        with open(p, "wb") as f:
            f.write(data)
        return p

    def link(rel, target):
        p = os.path.join(out, rel)
        os.makedirs(os.path.dirname(p), exist_ok=True)
        os.symlink(target, p)

    def case(name, model_rel, expect, pattern=""):
        rows.append((name, model_rel, expect, pattern))

    # A good sidecar for every case to point at, wherever it is.
    data = weight_bytes()

    # Accepted layouts.
    write("valid/m.onnx", external_model("m.onnx_data"))
    write("valid/m.onnx_data", data)
    case("valid", "valid/m.onnx", "accept")

    write("valid_inline/m.onnx", model(tensor(WEIGHT, [V, D], raw=data)))
    case("valid_inline", "valid_inline/m.onnx", "accept")

    write("valid_subfolder/m.onnx", external_model("weights/m.onnx_data"))
    write("valid_subfolder/weights/m.onnx_data", data)
    case("valid_subfolder", "valid_subfolder/m.onnx", "accept")

    write("valid_dot_slash/m.onnx", external_model("./m.onnx_data"))
    write("valid_dot_slash/m.onnx_data", data)
    case("valid_dot_slash", "valid_dot_slash/m.onnx", "accept")

    # A ".." that lands back inside the folder: ORT judges where the path lands.
    write("valid_dotdot_inside/m.onnx", external_model("sub/../m.onnx_data"))
    write("valid_dotdot_inside/m.onnx_data", data)
    os.makedirs(os.path.join(out, "valid_dotdot_inside/sub"))
    case("valid_dotdot_back_inside", "valid_dotdot_inside/m.onnx", "accept")

    write("valid_checksum/m.onnx", external_model("m.onnx_data", extra=[("checksum", "0" * 40)]))
    write("valid_checksum/m.onnx_data", data)
    case("valid_checksum", "valid_checksum/m.onnx", "accept")

    write("valid_unaligned/m.onnx", external_model("m.onnx_data", offset=3))
    write("valid_unaligned/m.onnx_data", b"xyz" + data)
    case("valid_unaligned", "valid_unaligned/m.onnx", "accept")

    # A sidecar that is a symlink to a file inside the model's folder.
    write("valid_sidecar_link_inside/store/blob", data)
    write("valid_sidecar_link_inside/m.onnx", external_model("m.onnx_data"))
    link("valid_sidecar_link_inside/m.onnx_data", "store/blob")
    case("valid_sidecar_link_inside", "valid_sidecar_link_inside/m.onnx", "accept")

    # The Hugging Face cache: snapshot files link into blobs/.
    hf = "hf/models--org--name"
    write(hf + "/blobs/1111", external_model("m.onnx_data"))
    write(hf + "/blobs/2222", data)
    link(hf + "/snapshots/abc/m.onnx", "../../blobs/1111")
    link(hf + "/snapshots/abc/m.onnx_data", "../../blobs/2222")
    case("valid_hf_cache", hf + "/snapshots/abc/m.onnx", "accept")

    # The model is a symlink into another folder that holds the sidecar; nothing beside the
    # link. ORT looks beside the link, not beside the real file.
    write("model_link_far/real/m.onnx", external_model("m.onnx_data"))
    write("model_link_far/real/m.onnx_data", data)
    link("model_link_far/linkdir/m.onnx", "../real/m.onnx")
    case("model_link_sidecar_beside_target", "model_link_far/linkdir/m.onnx", "refuse",
         "model_link_far/linkdir/m.onnx_data: no such file .*'embed_tokens.weight'")

    # The model is a symlink; the sidecar is a regular file beside the link.
    write("model_link_near/real/m.onnx", external_model("m.onnx_data"))
    link("model_link_near/linkdir/m.onnx", "../real/m.onnx")
    write("model_link_near/linkdir/m.onnx_data", data)
    case("valid_model_link_sidecar_beside_link", "model_link_near/linkdir/m.onnx", "accept")

    # Two initializers in two sidecars.
    t1 = tensor(WEIGHT, [V, D], external=[("location", "a.bin"), ("length", str(NBYTES))])
    t2 = tensor("bias", [V, D], external=[("location", "b.bin"), ("offset", "4"), ("length", str(NBYTES))])
    write("valid_two_sidecars/m.onnx", two_input_model(t1, t2))
    write("valid_two_sidecars/a.bin", data)
    write("valid_two_sidecars/b.bin", b"1234" + data)
    case("valid_two_sidecars", "valid_two_sidecars/m.onnx", "accept")

    # A name that is not UTF-8 in an initializer (protobuf proto2 does not check).
    write("name_not_utf8/m.onnx", model(tensor(b"embed\xff\xfe", [V, D], raw=data), weight=b"embed\xff\xfe"))
    case("name_not_utf8", "name_not_utf8/m.onnx", "accept")

    # Escaping locations.
    write("outside/m.onnx_data", data)
    write("loc_absolute/m.onnx", external_model(os.path.join(out, "outside/m.onnx_data")))
    case("loc_absolute", "loc_absolute/m.onnx", "refuse", "loc_absolute/m.onnx: initializer 'embed_tokens.weight'.*absolute")

    write("loc_absolute_etc/m.onnx", external_model("/etc/passwd", length=1024))
    case("loc_absolute_etc_passwd", "loc_absolute_etc/m.onnx", "refuse",
         "loc_absolute_etc/m.onnx: initializer 'embed_tokens.weight': location '/etc/passwd' is an absolute path")

    write("loc_dotdot/m.onnx", external_model("../outside/m.onnx_data"))
    case("loc_dotdot", "loc_dotdot/m.onnx", "refuse",
         "loc_dotdot/\\.\\./outside/m.onnx_data: resolves to .*/outside/m.onnx_data, outside the model's folder.*'embed_tokens.weight'")

    # Enough ".." to reach / from wherever the work folder is.
    write("loc_dotdot_etc/m.onnx", external_model("../" * 40 + "etc/passwd", length=1024))
    case("loc_dotdot_etc_passwd", "loc_dotdot_etc/m.onnx", "refuse",
         "loc_dotdot_etc/(\\.\\./)+etc/passwd: resolves to /etc/passwd, outside .*'embed_tokens.weight'")


    # Sidecars that resolve outside the folder through a symlink.
    write("link_outside/m.onnx", external_model("m.onnx_data"))
    link("link_outside/m.onnx_data", os.path.join(out, "outside/m.onnx_data"))
    case("sidecar_link_outside", "link_outside/m.onnx", "refuse",
         "link_outside/m.onnx_data: resolves to .*/outside/m.onnx_data, outside .*'embed_tokens.weight'")

    write("link_etc/m.onnx", external_model("m.onnx_data", length=1024))
    link("link_etc/m.onnx_data", "/etc/passwd")
    case("sidecar_link_etc_passwd", "link_etc/m.onnx", "refuse",
         "link_etc/m.onnx_data: resolves to /etc/passwd, outside .*'embed_tokens.weight'")

    write("link_dir_outside/m.onnx", external_model("weights/m.onnx_data"))
    link("link_dir_outside/weights", os.path.join(out, "outside"))
    case("subfolder_link_outside", "link_dir_outside/m.onnx", "refuse",
         "link_dir_outside/weights/m.onnx_data: resolves to .*, outside .*'embed_tokens.weight'")

    # The Hugging Face cache whose blobs are sharded in subfolders (hf-xet): the resolved
    # sidecar is not in the resolved model's folder, nor under the snapshot.
    hx = "hf_sharded/models--org--name"
    write(hx + "/blobs/11/1111", external_model("m.onnx_data"))
    write(hx + "/blobs/22/2222", data)
    link(hx + "/snapshots/abc/m.onnx", "../../blobs/11/1111")
    link(hx + "/snapshots/abc/m.onnx_data", "../../blobs/22/2222")
    case("hf_cache_sharded_blobs", hx + "/snapshots/abc/m.onnx", "refuse",
         "snapshots/abc/m.onnx_data: resolves to .*blobs/22/2222, outside .*blobs/11.*'embed_tokens.weight'")

    # Broken files and ranges.
    write("empty/m.onnx", b"")
    case("empty_file", "empty/m.onnx", "refuse", "empty/m.onnx: empty file")

    whole = external_model("m.onnx_data")
    write("truncated/m.onnx", whole[: len(whole) // 2])
    write("truncated/m.onnx_data", data)
    case("truncated", "truncated/m.onnx", "refuse", "truncated/m.onnx: not a valid ONNX model")

    write("not_onnx/m.onnx", b"version https://git-lfs.github.com/spec/v1\noid sha256:00\nsize 12\n")
    case("not_onnx", "not_onnx/m.onnx", "refuse", "not_onnx/m.onnx: not a valid ONNX model")

    write("no_graph/m.onnx", field_varint(1, 10))
    case("no_graph", "no_graph/m.onnx", "refuse", "no_graph/m.onnx: the model has no graph")

    write("missing_sidecar/m.onnx", external_model("m.onnx_data"))
    case("missing_sidecar", "missing_sidecar/m.onnx", "refuse",
         "missing_sidecar/m.onnx_data: no such file .*'embed_tokens.weight' in .*missing_sidecar/m.onnx")

    write("sidecar_is_dir/m.onnx", external_model("m.onnx_data"))
    os.makedirs(os.path.join(out, "sidecar_is_dir/m.onnx_data"))
    case("sidecar_is_folder", "sidecar_is_dir/m.onnx", "refuse",
         "sidecar_is_dir/m.onnx_data: not a regular file .*'embed_tokens.weight'")

    write("range_past_end/m.onnx", external_model("m.onnx_data", offset=8))
    write("range_past_end/m.onnx_data", data)
    case("range_past_end", "range_past_end/m.onnx", "refuse", "range_past_end/m.onnx_data: initializer 'embed_tokens.weight' at offset 8 .*past the end")

    write("short_sidecar/m.onnx", external_model("m.onnx_data"))
    write("short_sidecar/m.onnx_data", data[:100])
    case("sidecar_too_short", "short_sidecar/m.onnx", "refuse", "short_sidecar/m.onnx_data: initializer 'embed_tokens.weight' .*past the end .*100 bytes")

    write("length_wrong/m.onnx", external_model("m.onnx_data", length=NBYTES - 4))
    write("length_wrong/m.onnx_data", data)
    case("length_wrong", "length_wrong/m.onnx", "refuse", "length_wrong/m.onnx: initializer 'embed_tokens.weight': external length 1020")

    write("unknown_key/m.onnx", external_model("m.onnx_data", extra=[("basepath", ".")]))
    write("unknown_key/m.onnx_data", data)
    case("unknown_key", "unknown_key/m.onnx", "refuse", "unknown_key/m.onnx: initializer 'embed_tokens.weight': external-data key 'basepath'")

    write("loc_empty/m.onnx", external_model(""))
    case("location_empty", "loc_empty/m.onnx", "refuse", "loc_empty/m.onnx: initializer 'embed_tokens.weight': external data without a location")

    write("inline_short/m.onnx", model(tensor(WEIGHT, [V, D], raw=data[:-4])))
    case("inline_size_wrong", "inline_short/m.onnx", "refuse", "inline_short/m.onnx: initializer 'embed_tokens.weight' holds 1020 bytes")

    write("no_ir_version/m.onnx", external_model("m.onnx_data")[2:])  # drops field 1
    write("no_ir_version/m.onnx_data", data)
    case("no_ir_version", "no_ir_version/m.onnx", "refuse", "no_ir_version/m.onnx: the model has no ir_version")

    write("loc_twice/m.onnx", external_model("m.onnx_data", extra=[("location", "other")]))
    write("loc_twice/m.onnx_data", data)
    case("location_twice", "loc_twice/m.onnx", "refuse",
         "loc_twice/m.onnx: initializer 'embed_tokens.weight': external-data key 'location' appears twice")

    write("offset_negative/m.onnx", external_model("m.onnx_data", offset=-1))
    write("offset_negative/m.onnx_data", data)
    case("offset_negative", "offset_negative/m.onnx", "refuse",
         "offset_negative/m.onnx: initializer 'embed_tokens.weight': bad offset '-1'")

    write("sidecar_fifo/m.onnx", external_model("m.onnx_data"))
    os.mkfifo(os.path.join(out, "sidecar_fifo/m.onnx_data"))
    case("sidecar_is_fifo", "sidecar_fifo/m.onnx", "refuse", "sidecar_fifo/m.onnx_data: not a regular file")

    # Where we are stricter than ORT, on purpose (src/onnx/onnx_model.h).
    write("loc_nul/m.onnx", external_model("m.onnx_data\0junk"))
    write("loc_nul/m.onnx_data", data)
    case("location_with_nul", "loc_nul/m.onnx", "stricter",
         "loc_nul/m.onnx: initializer 'embed_tokens.weight': location 'm.onnx_data\\\\x00junk' holds a NUL byte")

    t = field_varint(1, V) + field_varint(1, D) + field_varint(2, FLOAT) + field_bytes(8, WEIGHT)
    write("float_data/m.onnx", model(t + field_bytes(4, data)))
    case("typed_float_data", "float_data/m.onnx", "stricter",
         "float_data/m.onnx: initializer 'embed_tokens.weight' stores data outside raw_data")

    with open(os.path.join(out, "cases.tsv"), "w") as f:
        for r in rows:
            f.write("\t".join(r) + "\n")


if __name__ == "__main__":
    main()
