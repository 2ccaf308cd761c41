"""Checkpoints written by transformers' own classes, exported by embed2onnx, judged by torch.

usage: hf_reference.py --bin build/embed2onnx --work DIR [--only NAME]

For each case, a tiny model of transformers' own class with random weights is saved with
save_pretrained (bf16 or f32, sharded or not), at the real vocabulary size so that the
SPEC §5 sample ids are real rows. embed2onnx exports it as a user would, then every tier
graph runs in onnxruntime (Python, CPU) on the sample ids and random ids and must equal,
bit for bit, the tier's documented encoding of torch's own embedding output:
`model.get_input_embeddings()(ids)` with the model loaded in float32, then fp16/bf16
rounding, int8 (SPEC §4) or int4 (docs/int4.md) computed in torch. Every splice graph
(SPEC §8) of a Granite Speech case must equal the model's own get_merged_audio_embeddings
(fp32) or masked_scatter over the tier's encoding (the others), and refuse one audio row
too few or too many. Every graph also passes the official checker (check_onnx.py). Exits 1
with one line per failure.
"""

import argparse
import json
import os
import subprocess
import sys

import numpy as np
import onnxruntime as ort
import torch
import transformers

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import check_onnx  # noqa: E402

SAMPLE_IDS = [0, 1, 100, 1024, 50000, 100352, 100351]
TIERS = ["fp32", "fp16w", "bf16w", "int8", "int4"]  # every tier, the default of export


def granite_text_config(vocab):
    return {
        "model_type": "granite",
        "vocab_size": vocab,
        "hidden_size": 32,
        "intermediate_size": 64,
        "num_hidden_layers": 1,
        "num_attention_heads": 2,
        "num_key_value_heads": 1,
        "max_position_embeddings": 64,
        "embedding_multiplier": 12.0,
        "tie_word_embeddings": True,
    }


def speech_kwargs(vocab, audio_id):
    return dict(
        text_config=granite_text_config(vocab),
        encoder_config={
            "input_dim": 16,
            "num_layers": 1,
            "hidden_dim": 32,
            "num_heads": 2,
            "output_dim": 8,
            "context_size": 4,
            "max_pos_emb": 8,
            "feedforward_mult": 2,
        },
        projector_config={
            "model_type": "blip_2_qformer",
            "hidden_size": 32,
            "num_hidden_layers": 1,
            "num_attention_heads": 2,
            "intermediate_size": 64,
            "encoder_hidden_size": 32,
        },
        audio_token_index=audio_id,
        has_lora_adapter=False,
    )


def make_base(dtype):
    cfg = transformers.GraniteSpeechConfig(**speech_kwargs(100353, 100352))
    return transformers.GraniteSpeechForConditionalGeneration(cfg).to(dtype)


def make_plus(dtype):
    cfg = transformers.GraniteSpeechPlusConfig(**speech_kwargs(100353, 100352))
    return transformers.GraniteSpeechPlusForConditionalGeneration(cfg).to(dtype)


def make_llama(dtype):
    cfg = transformers.LlamaConfig(
        vocab_size=32064,
        hidden_size=48,
        intermediate_size=96,
        num_hidden_layers=1,
        num_attention_heads=2,
        num_key_value_heads=1,
        max_position_embeddings=64,
        tie_word_embeddings=False,
    )
    return transformers.LlamaForCausalLM(cfg).to(dtype)


# name, factory, dtype, max_shard_size (None: one file), model class to reload with
CASES = [
    ("granite-speech-base-bf16", make_base, torch.bfloat16, None, "GraniteSpeechForConditionalGeneration"),
    ("granite-speech-base-f32-sharded", make_base, torch.float32, "4MB", "GraniteSpeechForConditionalGeneration"),
    ("granite-speech-plus-bf16-sharded", make_plus, torch.bfloat16, "3MB",
     "GraniteSpeechPlusForConditionalGeneration"),
    ("granite-speech-plus-f32", make_plus, torch.float32, None, "GraniteSpeechPlusForConditionalGeneration"),
    ("llama-bf16-sharded", make_llama, torch.bfloat16, "2MB", "LlamaForCausalLM"),
    ("llama-f32", make_llama, torch.float32, None, "LlamaForCausalLM"),
]


def save_case(name, factory, dtype, shard, out_dir):
    torch.manual_seed(sum(map(ord, name)))
    model = factory(dtype)
    with torch.no_grad():
        # Random, not the init's: heavy enough tails that int8/int4 rounding is exercised.
        w = model.get_input_embeddings().weight
        w.copy_((torch.randn(w.shape) * 0.02 * torch.exp(0.5 * torch.randn(w.shape[0], 1))).to(dtype))
    kw = {"max_shard_size": shard} if shard else {}
    model.save_pretrained(out_dir, **kw)


def reference(model_dir, cls_name, ids):
    cls = getattr(transformers, cls_name)
    model = cls.from_pretrained(model_dir, dtype=torch.float32)
    emb = model.get_input_embeddings()
    with torch.no_grad():
        table = emb.weight.detach().float()
        rows = emb(torch.tensor(ids, dtype=torch.int64)).float()
    return table, rows


def encode_tier(tier, table, rows, ids):
    """The tier's documented encoding (docs/format.md, SPEC §4) of torch's rows, float32."""
    if tier == "fp32":
        return rows
    if tier == "fp16w":
        return rows.half().float()
    if tier == "bf16w":
        return rows.bfloat16().float()
    if tier == "int8":
        w = table[torch.tensor(ids)]
        absmax = torch.clamp(w.abs().amax(dim=1), min=1e-12)
        s = absmax / torch.tensor(127.0, dtype=torch.float32)
        # q is stored as an integer: a code of 0 has no sign, so -0.0 never comes back.
        q = torch.clamp(torch.round(rows / s[:, None]), -127, 127).to(torch.int8).float()
        return q * s[:, None]
    if tier == "int4":
        return encode_int4(rows, default_int4_block(rows.shape[1]))
    return None


def default_int4_block(d):
    """export's --int4-block when not given: 32, or the largest even divisor of D below 32."""
    return 32 if d % 32 == 0 else max(b for b in range(2, 32, 2) if d % b == 0)


def encode_int4(rows, block):
    """docs/int4.md: per block of `block` values, asymmetric 4-bit codes against an fp16
    scale, every step one float32 operation; codes and zero points are integers on disk."""
    k, d = rows.shape
    x = rows.reshape(k, d // block, block)
    zero = torch.zeros((), dtype=torch.float32)
    mn = torch.minimum(x.amin(dim=2), zero)
    mx = torch.maximum(x.amax(dim=2), zero)
    s = torch.clamp((mx - mn) / torch.tensor(15.0, dtype=torch.float32), max=65504.0).half().float()
    safe = torch.where(s == 0, torch.ones_like(s), s)
    z = torch.where(s == 0, zero, torch.clamp(torch.round(-mn / safe), 0, 15)).to(torch.uint8)
    codes = torch.clamp(torch.round(x / safe[:, :, None]) + z.float()[:, :, None], 0, 15)
    codes = torch.where((s == 0)[:, :, None], z.float()[:, :, None], codes).to(torch.uint8)
    out = (codes.float() - z.float()[:, :, None]) * s[:, :, None]
    return out.reshape(k, d)


def run_graph(path, ids):
    sess = ort.InferenceSession(path, providers=["CPUExecutionProvider"])
    return sess.run(None, {"input_ids": np.array([ids], dtype=np.int64)})[0]


def check_case(args, name, factory, dtype, shard, cls_name):
    failures = []
    ckpt = os.path.join(args.work, "models", name)
    out = os.path.join(args.work, "exports", name)
    save_case(name, factory, dtype, shard, ckpt)
    files = sorted(os.listdir(ckpt))
    sharded = "model.safetensors.index.json" in files
    if bool(shard) != sharded:
        failures.append(f"{name}: save_pretrained wrote {files}, sharded={sharded}")
    r = subprocess.run([args.bin, "export", "--model-dir", ckpt, "--out-dir", out, "-q"], capture_output=True,
                       text=True)
    if r.returncode != 0:
        return [f"{name}: export failed ({r.returncode}): {r.stderr.strip()}"]
    report = json.load(open(os.path.join(out, "embed_tokens_parity.json")))
    vocab = report["info"]["vocab_size"]
    rng = np.random.default_rng(sum(map(ord, name)))
    ids = [i for i in SAMPLE_IDS if i < vocab] + [vocab - 1] + rng.integers(0, vocab, 64).tolist()
    table, rows = reference(ckpt, cls_name, ids)
    if sorted(report["tiers"]) != sorted(TIERS):
        failures.append(f"{name}: the report lists tiers {sorted(report['tiers'])}, expected {sorted(TIERS)}")
    # Every graph in the folder, not only the tiers: splice graphs too, once they exist.
    for path, _ in check_onnx.onnx_files([out], []):
        problems = check_onnx.check(path, table.shape[1])
        failures += [f"{name}: {os.path.basename(path)}: checker: {p}" for p in problems]
    for tier, rel in report["tiers"].items():
        path = os.path.join(out, rel)
        got = run_graph(path, ids)
        want = encode_tier(tier, table, rows, ids)
        if got.shape != (1, len(ids), table.shape[1]) or got.dtype != np.float32:
            failures.append(f"{name}: {tier}: output {got.dtype} {got.shape}")
            continue
        if want is None:
            failures.append(f"{name}: {tier}: no torch reference for this tier")
            continue
        want = want.numpy().reshape(got.shape)
        diff = np.nonzero(got.view(np.uint32) != want.view(np.uint32))
        if diff[0].size:
            k, j = int(diff[1][0]), int(diff[2][0])
            failures.append(f"{name}: {tier}: id {ids[k]} column {j}: onnxruntime {got[0, k, j]!r}, "
                            f"torch reference {want[0, k, j]!r} ({diff[0].size} values differ)")
    failures += check_splices(name, ckpt, cls_name, out, report, table)
    print(f"hf_reference: {name}: {report['info']['tensor']} [{vocab} x {table.shape[1]}] "
          f"{report['info']['dtype']}, {'sharded' if sharded else 'one file'}, tiers "
          f"{','.join(report['tiers'])}: {'ok' if not failures else 'FAILED'}")
    return failures


def audio_batch(vocab, audio_id, d, seed):
    """Two rows of ids with the audio token at the first, a middle and the last position,
    and float32 audio rows holding -0.0, a subnormal and +-inf among random values."""
    rng = np.random.default_rng(seed)
    ids = rng.integers(0, vocab, (2, 9))
    ids[ids == audio_id] = 0
    for b, n in [(0, 0), (0, 4), (1, 5), (1, 8)]:
        ids[b, n] = audio_id
    m = int((ids == audio_id).sum())
    audio = (rng.standard_normal((m, d)) * 0.02).astype(np.float32)
    audio[0, :4] = [-0.0, np.float32(1e-40), np.inf, -np.inf]
    return ids, audio


def check_splices(name, ckpt, cls_name, out, report, table):
    """Every splice graph (SPEC §8) against transformers: for fp32, the model's own
    get_merged_audio_embeddings, loaded in float32; for the other tiers, masked_scatter
    over the tier's encoding of torch's embedding output (what the plain graph outputs)."""
    graphs = report.get("splice", {}).get("graphs", {})
    cls = getattr(transformers, cls_name)
    if "GraniteSpeech" not in cls_name:
        return [f"{name}: splice graphs {sorted(graphs)} for a model without audio"] if graphs else []
    if sorted(graphs) != sorted(TIERS):
        return [f"{name}: the report lists splice graphs {sorted(graphs)}, expected {sorted(TIERS)}"]
    top = cls.from_pretrained(ckpt, dtype=torch.float32)
    # transformers 5 keeps the merge on the inner GraniteSpeechModel (`top.model`).
    model = top if hasattr(top, "get_merged_audio_embeddings") else top.model
    audio_id = report["splice"]["audio_token_id"]
    if audio_id != model.config.audio_token_id:
        return [f"{name}: splice audio token {audio_id}, config.json says {model.config.audio_token_id}"]
    vocab, d = table.shape
    ids, audio = audio_batch(vocab, audio_id, d, sum(map(ord, name)) + 1)
    is_audio = torch.from_numpy(ids == audio_id)
    masked = torch.where(is_audio, 0, torch.from_numpy(ids)).reshape(-1)
    emb = model.get_input_embeddings()
    failures = []
    with torch.no_grad():
        merged = model.get_merged_audio_embeddings(torch.from_numpy(ids), torch.from_numpy(audio)).float()
        rows = emb(masked).float()
    for tier, rel in graphs.items():
        so = ort.SessionOptions()
        so.log_severity_level = 4  # the mismatch runs below fail on purpose: no error log for them
        sess = ort.InferenceSession(os.path.join(out, rel), so, providers=["CPUExecutionProvider"])
        got = sess.run(None, {"input_ids": ids, "audio_features": audio})[0]
        if tier == "fp32":
            want = merged.numpy()
        else:
            text = encode_tier(tier, table, rows, masked.tolist()).reshape(ids.shape + (d,))
            want = text.masked_scatter(is_audio.unsqueeze(-1), torch.from_numpy(audio)).numpy()
        if got.shape != want.shape or not np.array_equal(got.view(np.uint32), want.view(np.uint32)):
            failures.append(f"{name}: {os.path.basename(rel)}: onnxruntime differs from "
                            f"{'get_merged_audio_embeddings' if tier == 'fp32' else 'masked_scatter'}")
            continue
        # SPEC §8 where torch is silent: masked_scatter ignores surplus rows, the graph refuses them.
        for rows_given in (audio[:-1], np.concatenate([audio, audio[:1]])):
            try:
                sess.run(None, {"input_ids": ids, "audio_features": rows_given})
                failures.append(f"{name}: {tier}: {len(rows_given)} audio rows for {len(audio)} tokens ran")
            except ort.capi.onnxruntime_pybind11_state.InvalidArgument:
                pass  # ScatterND's shape rule, as the CPU execution provider reports it
    print(f"hf_reference: {name}: {len(graphs)} splice graphs against get_merged_audio_embeddings "
          f"(fp32) and masked_scatter: {'ok' if not failures else 'FAILED'}")
    return failures


def check_presets(args):
    """The Granite presets read the same checkpoints as a user's root/models/<name>."""
    failures = []
    root = os.path.join(args.work, "preset-root")
    os.makedirs(os.path.join(root, "models"), exist_ok=True)
    for variant, folder, case in [("base", "granite-speech-4.1-2b", "granite-speech-base-bf16"),
                                  ("plus", "granite-speech-4.1-2b-plus", "granite-speech-plus-bf16-sharded")]:
        link = os.path.join(root, "models", folder)
        if not os.path.lexists(link):
            os.symlink(os.path.join(args.work, "models", case), link)
        r = subprocess.run([args.bin, "export", "--variant", variant, "--root", root, "--tiers", "fp16w", "-q"],
                           capture_output=True, text=True)
        if r.returncode != 0:
            failures.append(f"preset {variant}: export failed ({r.returncode}): {r.stderr.strip()}")
            continue
        report = json.load(open(os.path.join(root, "exports", folder, "embed_tokens_parity.json")))
        ids = SAMPLE_IDS + [100352]
        cls = dict((c[0], c[4]) for c in CASES)[case]
        table, rows = reference(link, cls, ids)
        got = run_graph(os.path.join(root, report["tiers"]["fp16w"]), ids)
        want = rows.half().float().numpy().reshape(got.shape)
        ok = np.array_equal(got.view(np.uint32), want.view(np.uint32))
        if not ok:
            failures.append(f"preset {variant}: fp16w differs from torch's embedding rounded to fp16")
        print(f"hf_reference: preset {variant}: {report['info']['embed_attr']}: {'ok' if ok else 'FAILED'}")
    return failures


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bin", required=True)
    ap.add_argument("--work", required=True)
    ap.add_argument("--only", default="")
    args = ap.parse_args()
    torch.set_num_threads(1)
    failures = []
    for case in CASES:
        if args.only and args.only != case[0]:
            continue
        failures += check_case(args, *case)
    if not args.only:
        failures += check_presets(args)
    print(f"hf_reference: transformers {transformers.__version__}, torch {torch.__version__}, "
          f"onnxruntime {ort.__version__}")
    for f in failures:
        print("hf_reference: " + f, file=sys.stderr)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
