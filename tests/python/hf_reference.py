"""Checkpoints written by transformers' own classes, exported by embed2onnx, judged by torch.

usage: hf_reference.py --bin build/embed2onnx --work DIR [--only NAME]

For each case, a tiny model of transformers' own class with random weights is saved with
save_pretrained (bf16 or f32, sharded or not), at the real vocabulary size so that the
SPEC §5 sample ids are real rows. embed2onnx exports it as a user would, then every tier
graph runs in onnxruntime (Python, CPU) on the sample ids and random ids and must equal,
bit for bit, the tier's documented encoding of torch's own embedding output:
`model.get_input_embeddings()(ids)` with the model loaded in float32, then fp16/bf16
rounding or int8 (SPEC §4) computed in torch. int4 (docs/int4.md) is not re-encoded: its
encoder is a search, not a rule a few lines of torch can repeat. Instead the bytes the
export stored (read from the .onnx and its .onnx_data with the onnx package) are decoded
in torch from the format's definition, the graph's output must equal that decoding bit
for bit, and every decoded value of the whole table must lie within the format's bound of
the source value torch loaded (S[scale code] x 173.7). Every splice graph (SPEC §8) of a
Granite Speech case must equal the model's own get_merged_audio_embeddings (fp32) or
masked_scatter over the tier's encoding (the others; int4: the decoding of the splice
graph's own stored bytes), and refuse one audio row too few or too many. A LLaVA case,
exported with --image-token-id, holds its image splice graphs to LlavaModel's own merge
(get_placeholder_mask, masked_scatter) the same way. Every graph also
passes the official checker (check_onnx.py). Exits 1 with one line per failure.
"""

import argparse
import json
import os
import subprocess
import sys

import numpy as np
import onnx
import onnxruntime as ort
from onnx import numpy_helper
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


def encode_tier(tier, table, rows, ids, int4=None):
    """The tier's documented encoding (docs/format.md, SPEC §4) of torch's rows, float32.
    For int4, the decoding of the stored bytes: int4 is load_int4's result for the graph."""
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
    if tier == "int4" and int4 is not None:
        return int4["decoded"][torch.tensor(ids)]
    return None


def default_int4_block(d):
    """export's --int4-block when not given: 32, or the largest even divisor of D below 32."""
    return 32 if d % 32 == 0 else max(b for b in range(2, 32, 2) if d % b == 0)


# docs/int4.md (numerics/int4_quant.h): the three stored initializers, per row
# [block/2, nb] codes, [1, nb] scale codes and [1, nb] offsets, nb = D / block.
INT4_CODES, INT4_SCALE_CODES, INT4_OFFSETS = (
    "embed_tokens.weight_int4", "embed_tokens.scale_codes_int4", "embed_tokens.offsets_int4")
INT4_SCALE_TABLE = "EmbedTokens_int4_scale_table"
INT4_BOUND_UNITS = 173.7  # every value within this many scale units of its source


def int4_scale_table():
    """S from its definition, float32: S[0] = 0; codes 1..15 step by an octave up to
    S[16] = 2^-22; codes 16..239 by 1/16 octave (2^(-22 + (a - 16) / 16), rounded once to
    float32); codes 240..254 by an octave from 2^-8 to 2^6."""
    e = torch.zeros(255, dtype=torch.float64)
    a = torch.arange(255, dtype=torch.float64)
    e[1:16] = -22.0 - (16 - a[1:16])
    e[16:240] = -22.0 + (a[16:240] - 16) / 16
    e[240:] = -8.0 + (a[240:] - 240)
    s = torch.exp2(e).float()
    s[0] = 0.0
    return s


def decode_int4(codes, scale_codes, offsets, d):
    """docs/int4.md, in torch, from the row layout (not the graph's reshapes): byte i of a
    row's D/2 bytes holds the code of value i in its low nibble and of value i + D/2 in its
    high nibble; value j belongs to block j % nb; its value is
    float32(float32(L(q) + 16 * offset) * S[scale code]), L(q) = w * (w * w + 200),
    w = q - 7.5, every step a float32 operation (all exact but the last)."""
    v = codes.shape[0]
    nb = scale_codes.shape[-1]
    packed = codes.reshape(v, d // 2)
    q = torch.cat([packed & 0x0F, packed >> 4], dim=1)  # [V, D]: column j is value j
    block_of = torch.arange(d) % nb
    off = offsets.reshape(v, nb)[:, block_of]
    sc = scale_codes.reshape(v, nb)[:, block_of]
    f32 = lambda x: torch.tensor(x, dtype=torch.float32)  # noqa: E731
    w = q.float() - f32(7.5)
    level = w * (w * w + f32(200.0))
    placed = level + off.float() * f32(16.0)
    return placed, sc


def load_int4(path, table):
    """The int4 graph's stored bytes (the .onnx and its .onnx_data), their layout checked,
    decoded in torch, and every decoded value held to the bound of torch's source table.
    Returns ({"decoded": float32 [V, D]}, failures)."""
    vocab, d = table.shape
    block = default_int4_block(d)
    nb = d // block
    name = os.path.basename(path)
    model = onnx.load(path, load_external_data=True)
    arrays = {t.name: numpy_helper.to_array(t) for t in model.graph.initializer}
    failures = []
    want = {INT4_CODES: (np.uint8, (vocab, block // 2, nb)), INT4_SCALE_CODES: (np.uint8, (vocab, 1, nb)),
            INT4_OFFSETS: (np.int8, (vocab, 1, nb)), INT4_SCALE_TABLE: (np.float32, (255,))}
    for key, (dtype, shape) in want.items():
        a = arrays.get(key)
        if a is None:
            failures.append(f"{name}: no initializer {key}")
        elif a.dtype != dtype or a.shape != shape:
            failures.append(f"{name}: {key} {a.dtype}{list(a.shape)}, expected {np.dtype(dtype)}{list(shape)}")
    stale = sorted(k for k in arrays if k.startswith("embed_tokens.") and k not in want)
    if stale:
        failures.append(f"{name}: initializers outside the int4 format: {stale}")
    if failures:
        return None, failures
    scales = torch.from_numpy(arrays[INT4_SCALE_TABLE].copy())
    spec = int4_scale_table()
    if not torch.equal(scales.view(torch.int32), spec.view(torch.int32)):
        a = int(torch.nonzero(scales.view(torch.int32) != spec.view(torch.int32))[0])
        failures.append(f"{name}: {INT4_SCALE_TABLE}[{a}] = {scales[a].item()!r}, "
                        f"its definition gives {spec[a].item()!r}")
    placed, sc = decode_int4(torch.from_numpy(arrays[INT4_CODES].copy()),
                             torch.from_numpy(arrays[INT4_SCALE_CODES].copy()).long(),
                             torch.from_numpy(arrays[INT4_OFFSETS].copy()), d)
    s = scales[sc]  # the graph's own table: what its output is made of
    decoded = placed * s
    bound = (s * torch.tensor(INT4_BOUND_UNITS, dtype=torch.float32)).double()
    err = (decoded.double() - table.double()).abs()
    bad = ~(err <= bound)  # NaN and inf fail too
    if bad.any():
        r, j = (int(x) for x in torch.nonzero(bad)[0])
        failures.append(f"{name}: id {r} column {j}: decoded {decoded[r, j].item()!r}, source "
                        f"{table[r, j].item()!r}, |error| {err[r, j].item()!r} > bound {bound[r, j].item()!r} "
                        f"(scale code {int(sc[r, j])}; {int(bad.sum())} values out of bound)")
    return {"decoded": decoded}, failures


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
        int4 = None
        if tier == "int4":
            int4, problems = load_int4(path, table)
            failures += [f"{name}: int4: {p}" for p in problems]
        want = encode_tier(tier, table, rows, ids, int4)
        if got.shape != (1, len(ids), table.shape[1]) or got.dtype != np.float32:
            failures.append(f"{name}: {tier}: output {got.dtype} {got.shape}")
            continue
        if want is None:
            if tier != "int4":  # int4: load_int4 said why
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


def token_batch(vocab, audio_id, d, seed):
    """Two rows of ids with the token (audio or image) at the first, a middle and the last
    position, and float32 feature rows holding -0.0, a subnormal and +-inf among random values."""
    rng = np.random.default_rng(seed)
    ids = rng.integers(0, vocab, (2, 9))
    ids[ids == audio_id] = 0
    for b, n in [(0, 0), (0, 4), (1, 5), (1, 8)]:
        ids[b, n] = audio_id
    m = int((ids == audio_id).sum())
    audio = (rng.standard_normal((m, d)) * 0.02).astype(np.float32)
    audio[0, :4] = [-0.0, np.float32(1e-40), np.inf, -np.inf]
    return ids, audio


def wrong_counts_run(sess, ids, input_name, rows, what):
    """One row too few and one too many of `input_name` must each fail the run."""
    failures = []
    for rows_given in (rows[:-1], np.concatenate([rows, rows[:1]])):
        try:
            sess.run(None, {"input_ids": ids, input_name: rows_given})
            failures.append(f"{what}: {len(rows_given)} {input_name} rows for {len(rows)} tokens ran")
        except ort.capi.onnxruntime_pybind11_state.InvalidArgument:
            pass  # ScatterND's shape rule, as the CPU execution provider reports it
    return failures


def check_splices(name, ckpt, cls_name, out, report, table):
    """Every splice graph (SPEC §8) against transformers: for fp32, the model's own
    get_merged_audio_embeddings, loaded in float32; for the other tiers, masked_scatter
    over the tier's encoding of torch's embedding output (what the plain graph outputs;
    for int4, the decoding of the splice graph's stored bytes, held to the bound)."""
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
    ids, audio = token_batch(vocab, audio_id, d, sum(map(ord, name)) + 1)
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
            int4 = None
            if tier == "int4":  # the splice graph's own stored bytes (they share the plain graph's sidecar)
                int4, problems = load_int4(os.path.join(out, rel), table)
                if problems:
                    failures += [f"{name}: splice int4: {p}" for p in problems]
                    continue
            text = encode_tier(tier, table, rows, masked.tolist(), int4).reshape(ids.shape + (d,))
            want = text.masked_scatter(is_audio.unsqueeze(-1), torch.from_numpy(audio)).numpy()
        if got.shape != want.shape or not np.array_equal(got.view(np.uint32), want.view(np.uint32)):
            failures.append(f"{name}: {os.path.basename(rel)}: onnxruntime differs from "
                            f"{'get_merged_audio_embeddings' if tier == 'fp32' else 'masked_scatter'}")
            continue
        # SPEC §8 where torch is silent: masked_scatter ignores surplus rows, the graph refuses them.
        failures += wrong_counts_run(sess, ids, "audio_features", audio, f"{name}: {tier}")
    print(f"hf_reference: {name}: {len(graphs)} splice graphs against get_merged_audio_embeddings "
          f"(fp32) and masked_scatter: {'ok' if not failures else 'FAILED'}")
    return failures


def make_llava(dtype):
    text = transformers.LlamaConfig(vocab_size=32064, hidden_size=48, intermediate_size=96, num_hidden_layers=1,
                                    num_attention_heads=2, num_key_value_heads=1, max_position_embeddings=64)
    vision = transformers.CLIPVisionConfig(hidden_size=16, intermediate_size=32, num_hidden_layers=1,
                                           num_attention_heads=2, image_size=28, patch_size=14)
    cfg = transformers.LlavaConfig(vision_config=vision, text_config=text, image_token_index=32000)
    return transformers.LlavaForConditionalGeneration(cfg).to(dtype)


def check_image_splices(args):
    """--image-token-id on a LLaVA checkpoint: every image splice graph against the merge
    LlavaModel.forward does (get_placeholder_mask, then masked_scatter of the image
    features over the embedding of the raw ids), for fp32 bit for bit with the model's own
    methods, for the other tiers masked_scatter over the tier's encoding; and one image
    row too few or too many must fail the run."""
    name = "llava-bf16"
    ckpt = os.path.join(args.work, "models", name)
    out = os.path.join(args.work, "exports", name)
    save_case(name, make_llava, torch.bfloat16, None, ckpt)
    image_id = json.load(open(os.path.join(ckpt, "config.json")))["image_token_index"]
    tiers = ["fp32", "fp16w", "int8"]
    r = subprocess.run([args.bin, "export", "--model-dir", ckpt, "--out-dir", out, "-q", "--tiers", ",".join(tiers),
                        "--image-token-id", str(image_id)], capture_output=True, text=True)
    if r.returncode != 0:
        return [f"{name}: export failed ({r.returncode}): {r.stderr.strip()}"]
    report = json.load(open(os.path.join(out, "embed_tokens_parity.json")))
    graphs = report.get("splice", {}).get("graphs", {})
    failures = []
    if sorted(graphs) != sorted(tiers) or report["splice"].get("image_token_id") != image_id:
        return [f"{name}: the report's splice entry {report.get('splice')}"]
    top = transformers.LlavaForConditionalGeneration.from_pretrained(ckpt, dtype=torch.float32)
    emb = top.get_input_embeddings()
    table = emb.weight.detach().float()
    vocab, d = table.shape
    ids, image = token_batch(vocab, image_id, d, 11)
    is_image = torch.from_numpy(ids == image_id)
    masked = torch.where(is_image, 0, torch.from_numpy(ids)).reshape(-1)
    with torch.no_grad():
        raw = emb(torch.from_numpy(ids)).float()
        mask = top.model.get_placeholder_mask(torch.from_numpy(ids), inputs_embeds=raw,
                                              image_features=torch.from_numpy(image))
        merged = raw.masked_scatter(mask, torch.from_numpy(image)).numpy()
        rows = emb(masked).float()
    for path, _ in check_onnx.onnx_files([out], []):
        failures += [f"{name}: {os.path.basename(path)}: checker: {p}" for p in check_onnx.check(path, d)]
    for tier, rel in graphs.items():
        if not rel.endswith("_image.onnx"):
            failures.append(f"{name}: {tier}: splice graph {rel}, expected <stem>_image.onnx")
            continue
        so = ort.SessionOptions()
        so.log_severity_level = 4
        sess = ort.InferenceSession(os.path.join(out, rel), so, providers=["CPUExecutionProvider"])
        if [i.name for i in sess.get_inputs()] != ["input_ids", "image_features"]:
            failures.append(f"{name}: {tier}: inputs {[i.name for i in sess.get_inputs()]}")
            continue
        got = sess.run(None, {"input_ids": ids, "image_features": image})[0]
        if tier == "fp32":
            want = merged
        else:
            text = encode_tier(tier, table, rows, masked.tolist()).reshape(ids.shape + (d,))
            want = text.masked_scatter(is_image.unsqueeze(-1), torch.from_numpy(image)).numpy()
        if got.shape != want.shape or not np.array_equal(got.view(np.uint32), want.view(np.uint32)):
            failures.append(f"{name}: {os.path.basename(rel)}: onnxruntime differs from LLaVA's merge")
            continue
        failures += wrong_counts_run(sess, ids, "image_features", image, f"{name}: {tier}")
    print(f"hf_reference: {name}: {len(graphs)} image splice graphs against LlavaModel's get_placeholder_mask + "
          f"masked_scatter: {'ok' if not failures else 'FAILED'}")
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
    if not args.only or args.only == "llava-bf16":
        failures += check_image_splices(args)
    print(f"hf_reference: transformers {transformers.__version__}, torch {torch.__version__}, "
          f"onnxruntime {ort.__version__}")
    for f in failures:
        print("hf_reference: " + f, file=sys.stderr)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
