"""The original script itself against embed2onnx, on checkpoints written by transformers.

usage: compare_original.py --bin build/embed2onnx --seed SEED.txt --work DIR

1. The readable seed (original_export_embed_tokens.py, after its marker line) must equal
   the seed file with all whitespace collapsed: it is the original, not a rewrite.
2. Tiny Granite Speech base and plus models of transformers' own classes are saved with
   save_pretrained (hf_reference.py's cases: bf16 one file, bf16 sharded, f32 sharded) under
   DIR/original/models/<preset folder>, beside the seed at DIR/original/src/, which is the
   layout the seed expects (REPO_ROOT = the parent of its folder).
3. The seed runs in this process, in the pinned environment, for each variant
   (export_variant(variant, its default tiers), what its main() does per variant; nar is
   not run: its loader needs the remote-code NLE class and a local Granite 4.0 base).
   transformers 5 moved the language model under `model.`, so the seed's
   `language_model.model.embed_tokens` no longer resolves on the loaded model; the one
   adaptation is a `_resolve_attr` that, when the seed's path fails, takes
   transformers 5's path to the same module, `model.language_model.embed_tokens`.
4. embed2onnx exports the same checkpoints with the same presets under DIR/ours.
5. Compared, for fp32, fp16w and int8:
   - every initializer of the original's graph: same name, type, shape and bytes in ours;
   - ONNX Runtime outputs on the sample ids and random ids, bit for bit;
   - the report: variant, info, tier paths, parity shapes and figures, and
     int8_table_quant_stats. A figure is exact, or (only while embed2onnx has no switch for
     numpy's rules, i.e. its report follows numpy 1.24, docs/format.md) differs the
     documented way: a mean within 1e-6 relative (8192-value buffers in 1.24, one pairwise
     tree in 2.4), a p99 equal to numpy 1.24's float64 interpolation of the same order
     statistics where 2.4 interpolates in float32. Each difference is printed.
Exits 1 with one line per failure.
"""

import argparse
import importlib.util
import json
import os
import shutil
import subprocess
import sys

import numpy as np
import onnx
import onnxruntime as ort
import torch
from onnx import numpy_helper

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import hf_reference  # noqa: E402

READABLE_SEED = os.path.join(HERE, "original_export_embed_tokens.py")
MARKER = "# ---- seed below ----\n"
TIERS = ["fp32", "fp16w", "int8"]
# root, variant, hf_reference case saved as that variant's checkpoint
RUNS = [
    ("bf16", "base", "granite-speech-base-bf16"),
    ("bf16", "plus", "granite-speech-plus-bf16-sharded"),
    ("f32", "base", "granite-speech-base-f32-sharded"),
]
PRESET_FOLDER = {"base": "granite-speech-4.1-2b", "plus": "granite-speech-4.1-2b-plus"}


def seed_problems(seed_path):
    text = open(READABLE_SEED, encoding="utf-8").read()
    if MARKER not in text:
        return [f"{READABLE_SEED}: no marker line {MARKER.strip()!r}"]
    ours = " ".join(text.split(MARKER, 1)[1].split())
    seed = " ".join(open(seed_path, encoding="utf-8").read().split())
    if ours == seed:
        return []
    k = next((i for i, (a, b) in enumerate(zip(ours, seed)) if a != b), min(len(ours), len(seed)))
    return [f"{READABLE_SEED} is not the seed: from character {k}, {ours[k:k + 60]!r} vs {seed[k:k + 60]!r}"]


def load_seed(path):
    spec = importlib.util.spec_from_file_location("export_embed_tokens", path)
    m = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(m)
    seed_resolve = m._resolve_attr

    def resolve(obj, dotted):
        try:
            return seed_resolve(obj, dotted)
        except AttributeError:
            if dotted != "language_model.model.embed_tokens":
                raise
            print(f" (transformers 5: {dotted} is model.language_model.embed_tokens)")
            return seed_resolve(obj, "model.language_model.embed_tokens")

    m._resolve_attr = resolve
    return m


def quantile_numpy124(x, q=0.99):
    """numpy 1.24's np.quantile(x, q) of float32 data: the same order statistics as 2.4,
    interpolated in float64 (_lerp with a float64 gamma) where 2.4 stays in float32."""
    flat = np.sort(x.ravel())
    idx = (flat.size - 1) * q
    lo = int(np.floor(idx))
    hi = min(lo + 1, flat.size - 1)
    t = idx - lo
    a, b = flat[lo], flat[hi]
    d = np.float64(b - a)  # float32 subtraction, as 1.24 does it on the float32 values
    return float(np.float64(b) - d * (1 - t)) if t >= 0.5 else float(np.float64(a) + d * t)


class Comparison:
    def __init__(self, strict):
        self.strict = strict
        self.failures = []
        self.notes = []
        self.exact = 0

    def figure(self, label, ours, orig, kind, data):
        if ours == orig:
            self.exact += 1
            return
        if not self.strict and kind == "mean" and abs(ours - orig) <= 1e-6 * abs(orig):
            rel = abs(ours - orig) / abs(orig)
            self.notes.append(f"{label}: ours {ours!r}, original {orig!r} (rel {rel:.1e}: "
                              "numpy 1.24's 8192-value buffers vs 2.4's one pairwise tree)")
            return
        if not self.strict and kind == "p99" and ours == quantile_numpy124(data):
            self.notes.append(f"{label}: ours {ours!r} = numpy 1.24 (float64 interpolation), "
                              f"original under numpy {np.__version__} {orig!r} (float32 interpolation)")
            return
        self.failures.append(f"{label}: ours {ours!r}, original {orig!r}")


def run_graph(path, ids):
    sess = ort.InferenceSession(path, providers=["CPUExecutionProvider"])
    return sess.run(None, {"input_ids": np.array([ids], dtype=np.int64)})[0]


def initializers(path):
    return {t.name: numpy_helper.to_array(t) for t in onnx.load(path).graph.initializer}


def compare_run(c, args, seed, root, variant, weight):
    label = f"{root}/{variant}"
    folder = PRESET_FOLDER[variant]
    orig_root = os.path.join(args.work, root, "original")
    ours_root = os.path.join(args.work, root, "ours")
    orig_report = json.load(open(os.path.join(orig_root, "exports", folder, "embed_tokens_parity.json")))
    ours_report = json.load(open(os.path.join(ours_root, "exports", folder, "embed_tokens_parity.json")))
    v = weight.shape[0]
    rng = np.random.default_rng(7)
    sample = [i for i in hf_reference.SAMPLE_IDS + [v - 1] if i < v]  # the seed's candidates, in its order
    ids = sample + rng.integers(0, v, 256).tolist()
    for tier in TIERS:
        o_path = os.path.join(orig_root, orig_report["tiers"][tier])
        u_path = os.path.join(ours_root, ours_report["tiers"].get(tier, "missing"))
        if orig_report["tiers"][tier] != ours_report["tiers"].get(tier):
            c.failures.append(f"{label}: tiers.{tier}: ours {ours_report['tiers'].get(tier)!r}, "
                              f"original {orig_report['tiers'][tier]!r}")
            continue
        o_init, u_init = initializers(o_path), initializers(u_path)
        for name, a in o_init.items():
            b = u_init.get(name)
            if b is None or a.dtype != b.dtype or a.shape != b.shape or a.tobytes() != b.tobytes():
                theirs = "missing" if b is None else f"{b.dtype}{list(b.shape)}"
                c.failures.append(f"{label}: {tier}: initializer {name} {a.dtype}{list(a.shape)} "
                                  f"differs in ours ({theirs})")
        got_o, got_u = run_graph(o_path, ids), run_graph(u_path, ids)
        if got_o.shape != got_u.shape or got_o.tobytes() != got_u.tobytes():
            c.failures.append(f"{label}: {tier}: ONNX Runtime outputs differ on {len(ids)} ids")
        po, pu = orig_report["parity"][tier], ours_report["parity"].get(tier, {})
        for key in ["shape", "dtype"]:
            if po[key] != pu.get(key):
                c.failures.append(f"{label}: parity.{tier}.{key}: ours {pu.get(key)!r}, original {po[key]!r}")
        diff = np.abs(got_o[:, :len(sample)] - weight[sample][None])  # what the seed's parity_check measures
        for key, kind in [("max_abs_err", "max"), ("mean_abs_err", "mean"), ("p99_abs_err", "p99")]:
            c.figure(f"{label}: parity.{tier}.{key}", pu.get(key), po[key], kind, diff)
    for key in ["variant"]:
        if orig_report[key] != ours_report.get(key):
            c.failures.append(f"{label}: {key}: ours {ours_report.get(key)!r}, original {orig_report[key]!r}")
    for key, want in orig_report["info"].items():
        if ours_report["info"].get(key) != want:
            got = ours_report["info"].get(key)
            c.failures.append(f"{label}: info.{key}: ours {got!r}, original {want!r}")
    q, s = seed._per_row_int8_quantise(weight)
    err = np.abs(q.astype(np.float32) * s[:, None] - weight.astype(np.float32))
    so, su = orig_report["int8_table_quant_stats"], ours_report["int8_table_quant_stats"]
    for key, kind in [("max_abs_err", "max"), ("mean_abs_err", "mean"), ("p99_abs_err", "p99")]:
        c.figure(f"{label}: int8_table_quant_stats.{key}", su.get(key), so[key], kind, err)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bin", required=True)
    ap.add_argument("--seed", required=True, help="the seed file (shared/seed/*.txt)")
    ap.add_argument("--work", required=True)
    args = ap.parse_args()
    torch.set_num_threads(1)
    problems = seed_problems(args.seed)
    if problems:
        print("compare_original: " + problems[0], file=sys.stderr)
        return 1
    help_text = subprocess.run([args.bin, "export", "--help"], capture_output=True, text=True).stdout
    strict = "numpy" in help_text.lower()
    c = Comparison(strict)
    cases = {case[0]: case for case in hf_reference.CASES}
    seeds = {}
    for root in sorted({r[0] for r in RUNS}):
        src = os.path.join(args.work, root, "original", "src")
        os.makedirs(src, exist_ok=True)
        shutil.copy(READABLE_SEED, os.path.join(src, "export_embed_tokens.py"))
        seeds[root] = load_seed(os.path.join(src, "export_embed_tokens.py"))
        os.makedirs(os.path.join(args.work, root, "ours", "models"), exist_ok=True)
    for root, variant, case in RUNS:
        name, factory, dtype, shard, _ = cases[case]
        folder = PRESET_FOLDER[variant]
        ckpt = os.path.join(args.work, root, "original", "models", folder)
        hf_reference.save_case(name, factory, dtype, shard, ckpt)
        os.symlink(ckpt, os.path.join(args.work, root, "ours", "models", folder))
        seed = seeds[root]
        captured = {}
        seed_load = seed.load_embed_tokens

        def load(v, seed_load=seed_load, captured=captured):
            weight, info = seed_load(v)
            captured["weight"] = weight
            return weight, info

        seed.load_embed_tokens = load
        seed.export_variant(variant, TIERS)
        seed.load_embed_tokens = seed_load
        ours_root = os.path.join(args.work, root, "ours")
        r = subprocess.run([args.bin, "export", "--variant", variant, "--root", ours_root, "-q"],
                           capture_output=True, text=True)
        if r.returncode != 0:
            c.failures.append(f"{root}/{variant}: embed2onnx export failed ({r.returncode}): "
                              f"{r.stderr.strip()}")
            continue
        before = (len(c.failures), c.exact)
        compare_run(c, args, seed, root, variant, captured["weight"])
        print(f"compare_original: {root}/{variant} ({case}): {c.exact - before[1]} figures exact, "
              f"{'ok' if len(c.failures) == before[0] else 'FAILED'}")
    print(f"compare_original: numpy {np.__version__}, transformers {hf_reference.transformers.__version__}, "
          f"embed2onnx with{'' if strict else 'out'} a numpy-rules switch: {c.exact} figures exact, "
          f"{len(c.notes)} differ the documented way")
    for n in c.notes:
        print("compare_original: difference: " + n)
    for f in c.failures:
        print("compare_original: " + f, file=sys.stderr)
    return 1 if c.failures else 0


if __name__ == "__main__":
    sys.exit(main())
