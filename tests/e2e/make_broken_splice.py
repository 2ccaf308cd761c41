"""Writes a wrong splice graph that looks right, for proving that check_splice.mjs fails it.

  make_broken_splice.py total_only IN_image_audio.onnx OUT.onnx
      the rows of both inputs concatenated, the first K_image scattered at the image
      positions and the rest at the audio ones: right whenever both counts are, and it fails
      whenever the total is wrong, but one row moved from one input to the other runs.
  make_broken_splice.py first_rows IN.onnx OUT.onnx
      the last modality's scatter takes only as many of its rows as there are positions:
      one row too many then runs.

The table stays external where it was (OUT goes beside IN's sidecar, or a copy of it).
"""
import sys

import onnx
from onnx import TensorProto, helper


def rows_of(g, src, start, stop, out, tag):
    """Nodes computing out = src[start:stop] with Range + Gather (start/stop int64 scalars)."""
    return [
        helper.make_node("Range", [start, stop, "t.one"], [f"t.{tag}_range"], name=f"t_{tag}_range"),
        helper.make_node("Gather", [src, f"t.{tag}_range"], [out], axis=0, name=f"t_{tag}_gather"),
    ]


def count_of(value, out, tag):
    """Nodes computing the int64 scalar out = value.shape[0]."""
    return [
        helper.make_node("Shape", [value], [f"t.{tag}_1"], end=1, name=f"t_{tag}_shape"),
        helper.make_node("Squeeze", [f"t.{tag}_1", "t.axis0"], [out], name=f"t_{tag}_squeeze"),
    ]


def main(kind, src, dst):
    m = onnx.load(src, load_external_data=False)
    g = m.graph
    g.initializer.extend([helper.make_tensor("t.one", TensorProto.INT64, [], [1]),
                          helper.make_tensor("t.axis0", TensorProto.INT64, [1], [0]),
                          helper.make_tensor("t.zero", TensorProto.INT64, [], [0])])
    scatters = [n for n in g.node if n.op_type == "ScatterND" and n.name.startswith("EmbedTokens_Splice_")]
    nodes = list(g.node)
    if kind == "total_only":
        names = [i.name for i in g.input]
        if names != ["input_ids", "image_features", "audio_features"] or len(scatters) != 2:
            sys.exit(f"{src}: not an image and audio splice graph")
        first = scatters[0]
        added = [helper.make_node("Concat", ["image_features", "audio_features"], ["t.all"], axis=0, name="t_concat")]
        added += count_of(first.input[1], "t.k_image", "k_image") + count_of("t.all", "t.total", "total")
        added += rows_of(g, "t.all", "t.zero", "t.k_image", "t.image_rows", "image")
        added += rows_of(g, "t.all", "t.k_image", "t.total", "t.audio_rows", "audio")
        first.input[2] = "t.image_rows"
        scatters[1].input[2] = "t.audio_rows"
        at = nodes.index(first)
    elif kind == "first_rows":
        last = scatters[-1]
        added = count_of(last.input[1], "t.k", "k")
        added += rows_of(g, last.input[2], "t.zero", "t.k", "t.first_rows", "first")
        last.input[2] = "t.first_rows"
        at = nodes.index(last)
    else:
        sys.exit(f"unknown kind {kind}")
    del g.node[:]
    g.node.extend(nodes[:at] + added + nodes[at:])
    onnx.save(m, dst)


if __name__ == "__main__":
    if len(sys.argv) != 4:
        sys.exit(__doc__)
    main(*sys.argv[1:])
