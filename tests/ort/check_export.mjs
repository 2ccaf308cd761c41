#!/usr/bin/env node
// check_export.mjs: judges one embed2onnx export folder against the checkpoint it came
// from, independently of the C++ code. Everything here is written from SPEC §2-5:
//   1. read the table straight from the safetensors files (single file or index + shards)
//      and widen it to float32 W;
//   2. compute every tier's reference (fp16 and bf16 round-to-nearest-even, numpy-style
//      int8; int4 decoded from its stored bytes as docs/int4.md defines it, within its bound);
//   3. parse each .onnx file with a minimal protobuf reader, check the graph contract and
//      the external-data layout, and compare the STORED BYTES with the reference;
//   4. run each tier in ONNX Runtime (onnxruntime-node, CPU) and compare the output bits;
//   5. optionally check embed_tokens_parity.json.
// Without --tiers it checks every tier the report lists or whose .onnx file is present.
//
// Usage:
//   node check_export.mjs --export-dir DIR --model-dir CKPT [--tensor NAME]
//        [--tiers fp32,fp16w,bf16w,int8,int4] [--int4-block N] [--random K] [--seed S]
//        [--report PATH] [--tiers-base DIR] [--variant NAME] [--producer NAME[/VERSION]]
//        [--output-dtype float32|float16]
// Prints one line per tier and exits 0 only if every check holds.
// --output-dtype float16 (default: the report's output_dtype, else float32) checks an
// export made for fp16 bundles: every graph outputs FLOAT16, the tier's float32 result
// rounded to nearest even (fp16w: its stored rows, no Cast), compared bit for bit with
// this file's own float32 -> float16 rounding, which checks itself on edge values first.

import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';

// ---------------------------------------------------------------------------------------
// Command line.

const USAGE = `usage: node check_export.mjs --export-dir DIR --model-dir CKPT [--tensor NAME]
       [--tiers fp32,fp16w,bf16w,int8,int4] [--int4-block N] [--random K] [--seed S]
       [--report PATH] [--tiers-base DIR] [--variant NAME] [--producer NAME[/VERSION]]
       [--output-dtype float32|float16]
  --tiers       default: every tier the report lists or whose .onnx file is in DIR
  --int4-block  values per int4 block the export must use (default: read from the
                scale codes' shape [V, 1, nb], D / nb)`;

function parseArgs(argv) {
  const opts = {
    exportDir: null, modelDir: null, tensor: null, tiers: null, int4Block: null,
    random: 256, seed: 20240601, report: null, tiersBase: null, variant: null, producer: null,
    outputDtype: null,
  };
  const takesValue = {
    '--export-dir': (v) => { opts.exportDir = v; },
    '--model-dir': (v) => { opts.modelDir = v; },
    '--tensor': (v) => { opts.tensor = v; },
    '--tiers': (v) => { opts.tiers = v.split(',').filter((t) => t.length > 0); },
    '--int4-block': (v) => { opts.int4Block = Number(v); },
    '--random': (v) => { opts.random = Number(v); },
    '--seed': (v) => { opts.seed = Number(v); },
    '--report': (v) => { opts.report = v; },
    '--tiers-base': (v) => { opts.tiersBase = v; },
    '--variant': (v) => { opts.variant = v; },
    '--producer': (v) => { opts.producer = v; },
    '--output-dtype': (v) => { opts.outputDtype = v; },
  };
  for (let i = 0; i < argv.length; i++) {
    let arg = argv[i];
    let value;
    const eq = arg.indexOf('=');
    if (arg.startsWith('--') && eq > 0) { value = arg.slice(eq + 1); arg = arg.slice(0, eq); }
    if (arg === '--help' || arg === '-h') { console.log(USAGE); process.exit(0); }
    const set = takesValue[arg];
    if (!set) usageError(`unknown argument '${arg}'`);
    if (value === undefined) {
      if (i + 1 >= argv.length) usageError(`${arg} needs a value`);
      value = argv[++i];
    }
    set(value);
  }
  if (!opts.exportDir || !opts.modelDir) usageError('--export-dir and --model-dir are required');
  if (opts.tiers !== null && opts.tiers.length === 0) usageError('--tiers is empty');
  for (const t of opts.tiers ?? []) if (!TIERS[t]) usageError(`unknown tier '${t}' (known: ${Object.keys(TIERS).join(', ')})`);
  if (!Number.isInteger(opts.random) || opts.random < 2 || opts.random % 2 !== 0) usageError('--random must be an even integer >= 2');
  if (!Number.isInteger(opts.seed)) usageError('--seed must be an integer');
  if (opts.outputDtype !== null && !OUTPUT_ELEM[opts.outputDtype]) usageError('--output-dtype must be float32 or float16');
  if (opts.int4Block !== null && !(Number.isSafeInteger(opts.int4Block) && opts.int4Block >= 2 && opts.int4Block % 2 === 0))
    usageError('--int4-block must be an even integer >= 2');
  return opts;
}

function usageError(message) {
  console.error(`check_export: ${message}\n${USAGE}`);
  process.exit(2);
}

// ---------------------------------------------------------------------------------------
// The contract (SPEC §2-3). ONNX TensorProto element types used here.

const FLOAT = 1, UINT8 = 2, INT8 = 3, INT64 = 7, FLOAT16 = 10, BFLOAT16 = 16;
const ELEM_BYTES = { [FLOAT]: 4, [UINT8]: 1, [INT8]: 1, [INT64]: 8, [FLOAT16]: 2, [BFLOAT16]: 2 };
const ELEM_NAME = { [FLOAT]: 'FLOAT', [UINT8]: 'UINT8', [INT8]: 'INT8', [INT64]: 'INT64', [FLOAT16]: 'FLOAT16', [BFLOAT16]: 'BFLOAT16' };
const EXTERNAL_MIN_BYTES = 1024;
const EXTERNAL_ALIGN = 65536;

// Per tier: file, graph name, nodes in order (op type, name in the original, inputs with
// '$k' standing for the k-th intermediate value), and initializers. A tier with
// `freeGraph` has no fixed node list: any graph built from the allowed ai.onnx ops that
// gathers each table initializer by input_ids before anything else touches it, whose
// output ONNX Runtime proves bit for bit; small extra constant initializers are allowed.
const TIERS = {
  fp32: {
    file: 'embed_tokens.onnx',
    graphName: 'embed_tokens_fp32',
    nodes: [
      { op: 'Gather', name: 'EmbedTokens_Gather', inputs: ['embed_tokens.weight', 'input_ids'], output: 'inputs_embeds' },
    ],
    initializers: (V, D) => [{ name: 'embed_tokens.weight', type: FLOAT, dims: [V, D] }],
  },
  fp16w: {
    file: 'embed_tokens_fp16w.onnx',
    graphName: 'embed_tokens_fp16w',
    nodes: [
      { op: 'Gather', name: 'EmbedTokens_Gather', inputs: ['embed_tokens.weight', 'input_ids'], output: '$0' },
      { op: 'Cast', name: 'EmbedTokens_Cast_fp16w', inputs: ['$0'], output: 'inputs_embeds' },
    ],
    initializers: (V, D) => [{ name: 'embed_tokens.weight', type: FLOAT16, dims: [V, D] }],
  },
  bf16w: {
    file: 'embed_tokens_bf16w.onnx',
    graphName: 'embed_tokens_bf16w',
    nodes: [
      { op: 'Gather', name: 'EmbedTokens_Gather', inputs: ['embed_tokens.weight', 'input_ids'], output: '$0' },
      { op: 'Cast', name: 'EmbedTokens_Cast_bf16w', inputs: ['$0'], output: 'inputs_embeds' },
    ],
    initializers: (V, D) => [{ name: 'embed_tokens.weight', type: BFLOAT16, dims: [V, D] }],
  },
  int8: {
    file: 'embed_tokens_int8.onnx',
    graphName: 'embed_tokens_int8',
    nodes: [
      { op: 'Gather', name: 'EmbedTokens_Gather_weight', inputs: ['embed_tokens.weight_int8', 'input_ids'], output: '$0' },
      { op: 'Cast', name: 'EmbedTokens_Cast_int8_to_fp32', inputs: ['$0'], output: '$1' },
      { op: 'Gather', name: 'EmbedTokens_Gather_scales', inputs: ['embed_tokens.scales', 'input_ids'], output: '$2' },
      { op: 'Unsqueeze', name: 'EmbedTokens_Unsqueeze_scales', inputs: ['$2', 'EmbedTokens_unsqueeze_axes'], output: '$3' },
      { op: 'Mul', name: 'EmbedTokens_Mul', inputs: ['$1', '$3'], output: 'inputs_embeds', commutative: true },
    ],
    initializers: (V, D) => [
      { name: 'embed_tokens.weight_int8', type: INT8, dims: [V, D] },
      { name: 'embed_tokens.scales', type: FLOAT, dims: [V] },
      { name: 'EmbedTokens_unsqueeze_axes', type: INT64, dims: [1] },
    ],
  },
  int4: {
    file: 'embed_tokens_int4.onnx',
    graphName: 'embed_tokens_int4',
    freeGraph: true,
    // docs/int4.md: only ai.onnx opset-20 operators, and these are the ones it needs.
    allowedOps: {
      Gather: ['axis'], Reshape: ['allowzero'], BitwiseAnd: [], BitShift: ['direction'], Concat: ['axis'],
      Cast: ['to', 'saturate'], Unsqueeze: [], Sub: [], Mul: [], Add: [],
    },
    // Extra (constant) initializers must be small: the table lives only in these three.
    initializers: (V, D, block) => [
      { name: 'embed_tokens.weight_int4', type: UINT8, dims: [V, block / 2, D / block], table: true },
      { name: 'embed_tokens.scale_codes_int4', type: UINT8, dims: [V, 1, D / block], table: true },
      { name: 'embed_tokens.offsets_int4', type: INT8, dims: [V, 1, D / block], table: true },
    ],
  },
};
const TIER_ORDER = Object.keys(TIERS);

// --output-dtype: the element type of inputs_embeds.
const OUTPUT_ELEM = { float32: FLOAT, float16: FLOAT16 };

// The node list a tier's graph has for an output type. float16: fp16w's gathered rows
// are the output (no Cast); every other tier appends one Cast of its float32 result.
function tierNodes(tier, outputDtype) {
  const spec = TIERS[tier];
  if (outputDtype !== 'float16') return spec.nodes;
  if (tier === 'fp16w') return [{ ...spec.nodes[0], output: 'inputs_embeds' }];
  const k = `$${spec.nodes.length}`;
  const nodes = spec.nodes.map((n) => (n.output === 'inputs_embeds' ? { ...n, output: k } : n));
  nodes.push({ op: 'Cast', name: 'EmbedTokens_Cast_output_fp16', inputs: [k], output: 'inputs_embeds', to: FLOAT16 });
  return nodes;
}
const INT4_SIDECAR_RATIO_MAX = 0.30;  // of the fp16w sidecar, checked when D >= 1024
const INT4_RATIO_MIN_D = 1024;

const SAMPLE_IDS = [0, 1, 100, 1024, 50000, 100352, 100351];  // then V-1 (SPEC §5)

// Well-known names of token-embedding tables, for --tensor auto-detection.
const KNOWN_TABLE_NAMES = [
  'language_model.model.embed_tokens.weight',
  'llm.model.embed_tokens.weight',
  'model.embed_tokens.weight',
  'model.language_model.embed_tokens.weight',
  'language_model.embed_tokens.weight',
  'transformer.wte.weight',
  'model.decoder.embed_tokens.weight',
  'gpt_neox.embed_in.weight',
  'transformer.word_embeddings.weight',
  'model.tok_embeddings.weight',
  'tok_embeddings.weight',
  'embed_tokens.weight',
];

// ---------------------------------------------------------------------------------------
// Number formats.

// Round half to even, for doubles that hold exact values.
function roundHalfEven(x) {
  const r = Math.round(x);  // halves go toward +inf
  return (r - x === 0.5 && r % 2 !== 0) ? r - 1 : r;
}

function f16BitsToNumber(h) {
  const exp = (h >> 10) & 0x1f;
  const mant = h & 0x3ff;
  let v;
  if (exp === 0) v = mant * 2 ** -24;
  else if (exp === 31) v = mant ? NaN : Infinity;
  else v = (1024 + mant) * 2 ** (exp - 25);
  return (h & 0x8000) ? -v : v;
}

// float32 value (as a JS number) -> fp16 bits, round to nearest, ties to even; subnormals
// kept, overflow to +-inf. Works on the exact value in double arithmetic: scaling by
// powers of two is exact, so only roundHalfEven rounds.
function numberToF16Bits(x) {
  if (Number.isNaN(x)) return 0x7e00;
  const sign = (x < 0 || Object.is(x, -0)) ? 0x8000 : 0;
  const a = Math.abs(x);
  if (a >= 65520) return sign | 0x7c00;  // 65520 is the tie between 65504 and 2^16
  if (a < 2 ** -14) return sign | roundHalfEven(a * 2 ** 24);  // 1024 lands on the smallest normal
  let e = Math.floor(Math.log2(a));
  if (2 ** e > a) e--;
  else if (2 ** (e + 1) <= a) e++;
  let m = roundHalfEven(a / 2 ** (e - 10));  // in [1024, 2048]
  if (m === 2048) { m = 1024; e++; }
  return sign | ((e + 15) << 10) | (m - 1024);
}

// numberToF16Bits checked on its edge values and against a second, integer-only rounding
// of the float32 bits (the usual add-half-minus-one-plus-lsb of the bits shifted out),
// over every float32 exponent: throws on the first disagreement.
function checkF16Rounding() {
  const p2 = (e) => 2 ** e;
  const cases = [
    [1 + p2(-11), 0x3c00], [1 + 3 * p2(-11), 0x3c02], [-(1 + p2(-11)), 0xbc00],  // ties to even
    [1 + p2(-11) + p2(-23), 0x3c01], [2049, 0x6800], [2051, 0x6802],
    [p2(-24), 0x0001], [p2(-25), 0x0000], [3 * p2(-25), 0x0002], [-p2(-25), 0x8000],  // subnormals, ties
    [p2(-14) - p2(-25), 0x0400], [1023 * p2(-24), 0x03ff], [p2(-14), 0x0400], [1e-8, 0x0000],
    [65504, 0x7bff], [65519.99609375, 0x7bff], [65520, 0x7c00], [-65520, 0xfc00], [3e38, 0x7c00],  // overflow
    [Infinity, 0x7c00], [-Infinity, 0xfc00],
    [0, 0x0000], [-0, 0x8000],
  ];
  for (const [x, want] of cases) {
    const got = numberToF16Bits(Math.fround(x));
    if (got !== want) throw new Error(`float16 rounding of ${showNumber(x)} gives ${hex(got, 2)}, expected ${hex(want, 2)}`);
  }
  const nan = numberToF16Bits(NaN);
  if ((nan & 0x7c00) !== 0x7c00 || (nan & 0x03ff) === 0) throw new Error(`float16 rounding of NaN gives ${hex(nan, 2)}, not a NaN`);
  const byBits = (u) => {
    const sign = (u >>> 16) & 0x8000, e = (u >>> 23) & 0xff, m = u & 0x7fffff;
    if (e === 0xff) return sign | 0x7c00 | (m ? 0x200 : 0);
    const full = e ? m | 0x800000 : m;   // 24-bit significand of x = full * 2^(max(e,1) - 150)
    let shift = 126 - Math.max(e, 1);   // to units of 2^-24 (subnormal fp16) when e < 113
    let h;
    if (e >= 113) { shift = 13; h = ((e - 112) << 10) + (full >>> 13) - 1024; } else h = shift < 32 ? full >>> shift : 0;
    const rest = shift < 32 ? full & ((2 ** shift) - 1) : full, half = shift < 33 ? 2 ** (shift - 1) : Infinity;
    if (rest > half || (rest === half && (h & 1))) h++;  // a carry moves into the exponent, as it should
    return sign | Math.min(h, 0x7c00);
  };
  const f = new Float32Array(1), u = new Uint32Array(f.buffer);
  let seed = 12345;
  for (let e = 0; e < 255; e++) {
    for (let k = 0; k < 64; k++) {
      seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
      const m = k < 4 ? [0, 0x1000, 0x2000, 0x7fffff][k] : seed & 0x7fffff;
      u[0] = ((seed & 0x80000000) | (e << 23) | m) >>> 0;
      const a = numberToF16Bits(f[0]), b = byBits(u[0]);
      if (a !== b) throw new Error(`float16 rounding of float32 ${hex(u[0], 4)}: ${hex(a, 2)} by value, ${hex(b, 2)} by bits`);
    }
  }
}

// float32 value -> bfloat16 bits, round to nearest, ties to even, from the float32 bit
// pattern: add 0x7fff plus the lowest kept bit, keep the top 16 bits. A carry out of the
// mantissa bumps the exponent, which is exactly the rounding up to the next binade (and
// to +-inf past the largest bf16). Only finite inputs reach here (loadTable refuses others).
const f32Scratch = new Float32Array(1);
const u32Scratch = new Uint32Array(f32Scratch.buffer);
function f32ToBf16Bits(x) {
  f32Scratch[0] = x;
  const b = u32Scratch[0];
  if ((b & 0x7f800000) === 0x7f800000 && (b & 0x7fffff) !== 0) return ((b >>> 16) | 0x40) & 0xffff;  // NaN stays NaN
  return Math.floor((b + 0x7fff + ((b >>> 16) & 1)) / 65536) & 0xffff;
}
function bf16BitsToNumber(h) {
  u32Scratch[0] = (h & 0xffff) << 16;
  return f32Scratch[0];
}

const F32_EPS_CLAMP = Math.fround(1e-12);

// numpy's per-row symmetric int8 quantisation, all in float32 (SPEC §4). Division of two
// float32 values done in double and rounded once to float32 is correctly rounded.
function quantizeInt8(W, V, D) {
  const q = new Int8Array(V * D);
  const s = new Float32Array(V);
  for (let r = 0; r < V; r++) {
    const base = r * D;
    let absmax = 0;
    for (let j = 0; j < D; j++) absmax = Math.max(absmax, Math.abs(W[base + j]));
    absmax = Math.max(absmax, F32_EPS_CLAMP);
    const scale = Math.fround(absmax / 127);
    s[r] = scale;
    for (let j = 0; j < D; j++) {
      const v = roundHalfEven(Math.fround(W[base + j] / scale));
      q[base + j] = Math.min(127, Math.max(-127, v));  // Int8Array turns -0 into 0
    }
  }
  return { q, s };
}

// docs/int4.md: the scale table, computed here from its rule, independently of the file:
// code 0 is 0; codes 16..239 are 2^(-22 + (a - 16) / 16), each 2^(r/16) rounded to float32
// and scaled by a power of two (exact); codes 1..15 and 240..254 step by whole octaves.
function int4ScaleTable() {
  const t = new Float32Array(255);
  for (let a = 1; a < 255; a++) {
    let e;
    if (a < 16) e = -22 - (16 - a);
    else if (a <= 239) e = null;
    else e = -22 + 14 + (a - 240);
    if (e !== null) t[a] = 2 ** e;
    else { const k = a - 16; t[a] = Math.fround(2 ** ((k % 16) / 16)) * 2 ** (-22 + Math.floor(k / 16)); }
  }
  return t;
}
// Level(q) = w * (w*w + 200), w = q - 7.5: exact in float32.
const INT4_LEVELS = Float32Array.from({ length: 16 }, (_, q) => { const w = q - 7.5; return w * (w * w + 200); });
// Every decoded value is within this many scale units of its source (docs/int4.md).
const INT4_BOUND_UNITS = Math.fround(173.7);

// What the int4 graph must compute from stored bytes, as docs/int4.md defines it: value j of
// a row sits in block j % nb; byte i of the row's D/2 code bytes holds value i (low nibble)
// and value i + D/2 (high nibble); value = fround(fround(Level(q) + 16 * o) * S[a]).
function decodeInt4(packed, scaleCodes, offsets, scaleTable, V, D, block) {
  const nb = D / block, half = D / 2;
  const out = new Float32Array(V * D);
  for (let r = 0; r < V; r++) {
    for (let j = 0; j < D; j++) {
      const byte = packed[r * half + (j % half)];
      const q = j < half ? byte & 15 : byte >> 4;
      const b = r * nb + (j % nb);
      const s = scaleTable[scaleCodes[b]];
      out[r * D + j] = Math.fround(Math.fround(INT4_LEVELS[q] + 16 * offsets[b]) * s);
    }
  }
  return out;
}

// The int4 reference, from the bytes the file stores (the encoder is a search: docs/int4.md).
// Checks the scale table against its rule, the scale codes' range and every value's bound.
function int4Reference(bytes, table, block, fail) {
  const { W, V, D } = table;
  const p = bytes['embed_tokens.weight_int4'], sc = bytes['embed_tokens.scale_codes_int4'];
  const offRaw = bytes['embed_tokens.offsets_int4'], st = bytes.EmbedTokens_int4_scale_table;
  const nb = D / block;
  if (!fail.expect(p && sc && offRaw && p.length === V * D / 2 && sc.length === V * nb && offRaw.length === V * nb,
    'int4: the three table initializers are missing or have the wrong sizes')) return null;
  if (!fail.expect(st && st.length === 255 * 4, `initializer 'EmbedTokens_int4_scale_table' ${st ? `holds ${st.length} bytes` : 'is missing'}, expected 255 floats`)) return null;
  const stored = new Float32Array(st.buffer.slice(st.byteOffset, st.byteOffset + st.length));
  const rule = int4ScaleTable();
  const i = rule.findIndex((v, k) => !Object.is(v, stored[k]));
  fail.expect(i < 0, `EmbedTokens_int4_scale_table[${i}] is ${stored[i]}, the rule gives ${rule[i]}`);
  const bad = sc.findIndex((a) => a > 254);
  fail.expect(bad < 0, `embed_tokens.scale_codes_int4: row ${Math.floor(bad / nb)} block ${bad % nb} holds ${sc[bad]}, beyond 254`);
  const offsets = new Int8Array(offRaw.buffer, offRaw.byteOffset, offRaw.length);
  const out = decodeInt4(p, sc, offsets, rule, V, D, block);
  let worst = -1;
  for (let r = 0; r < V && worst < 0; r++) {
    for (let j = 0; j < D; j++) {
      const bound = Math.fround(rule[sc[r * nb + (j % nb)]] * INT4_BOUND_UNITS);
      if (!(Math.abs(Math.fround(out[r * D + j] - W[r * D + j])) <= bound)) { worst = r * D + j; break; }
    }
  }
  if (worst >= 0) {
    const r = Math.floor(worst / D), j = worst % D;
    fail.add(`int4: row ${r} col ${j} decodes to ${out[worst]}, source ${W[worst]}: beyond the bound of ` +
      `${INT4_BOUND_UNITS} x scale ${rule[sc[r * nb + (j % nb)]]}`);
  }
  return { block, out };
}

function referenceTier(tier, W, V, D, cache, ctx = {}) {
  if (cache[tier]) return cache[tier];
  let ref;
  if (tier === 'fp32') {
    ref = { out: W };
  } else if (tier === 'fp16w') {
    const h = new Uint16Array(V * D);
    const out = new Float32Array(V * D);
    for (let i = 0; i < V * D; i++) { h[i] = numberToF16Bits(W[i]); out[i] = f16BitsToNumber(h[i]); }
    ref = { h, out };
  } else if (tier === 'bf16w') {
    const h = new Uint16Array(V * D);
    const out = new Float32Array(V * D);
    for (let i = 0; i < V * D; i++) { h[i] = f32ToBf16Bits(W[i]); out[i] = bf16BitsToNumber(h[i]); }
    ref = { h, out };
  } else if (tier === 'int4') {
    throw new Error('the int4 reference comes from the stored bytes (int4Reference)');
  } else {
    const { q, s } = quantizeInt8(W, V, D);
    const out = new Float32Array(V * D);
    for (let r = 0; r < V; r++) for (let j = 0; j < D; j++) out[r * D + j] = q[r * D + j] * s[r];  // exact in double, one rounding
    ref = { q, s, out };
  }
  cache[tier] = ref;
  return ref;
}

// ---------------------------------------------------------------------------------------
// safetensors (SPEC §7).

const ST_DTYPES = { BF16: 2, F16: 2, F32: 4 };

function readSafetensorsHeader(file) {
  const fd = fs.openSync(file, 'r');
  try {
    const size = fs.fstatSync(fd).size;
    if (size < 8) throw new Error(`${file}: ${size} bytes, too short for a safetensors header`);
    const lenBuf = Buffer.alloc(8);
    fs.readSync(fd, lenBuf, 0, 8, 0);
    const n = lenBuf.readBigUInt64LE(0);
    if (n > BigInt(size - 8) || n > 100000000n) throw new Error(`${file}: header length ${n} exceeds the file (${size} bytes)`);
    const headerBuf = Buffer.alloc(Number(n));
    fs.readSync(fd, headerBuf, 0, Number(n), 8);
    const header = JSON.parse(headerBuf.toString('utf8'));
    if (typeof header !== 'object' || header === null || Array.isArray(header)) throw new Error(`${file}: header is not a JSON object`);
    return { file, size, dataStart: 8 + Number(n), header };
  } finally {
    fs.closeSync(fd);
  }
}

function listCheckpoint(modelDir) {
  const indexPath = path.join(modelDir, 'model.safetensors.index.json');
  if (fs.existsSync(indexPath)) {
    const index = JSON.parse(fs.readFileSync(indexPath, 'utf8'));
    if (!index.weight_map || typeof index.weight_map !== 'object') throw new Error(`${indexPath}: no weight_map`);
    return { names: Object.keys(index.weight_map), fileOf: (name) => path.join(modelDir, index.weight_map[name]) };
  }
  let single = path.join(modelDir, 'model.safetensors');
  if (!fs.existsSync(single)) {
    const found = fs.readdirSync(modelDir).filter((f) => f.endsWith('.safetensors'));
    if (found.length !== 1) throw new Error(`${modelDir}: no model.safetensors, no index, ${found.length} .safetensors files`);
    single = path.join(modelDir, found[0]);
  }
  const names = Object.keys(readSafetensorsHeader(single).header).filter((k) => k !== '__metadata__');
  return { names, fileOf: () => single };
}

function loadTable(modelDir, tensorName) {
  const ckpt = listCheckpoint(modelDir);
  let name = tensorName;
  if (!name) {
    const present = KNOWN_TABLE_NAMES.filter((n) => ckpt.names.includes(n));
    if (present.length !== 1) throw new Error(`${modelDir}: cannot pick the table (well-known names present: ${JSON.stringify(present)}); pass --tensor`);
    name = present[0];
  }
  if (!ckpt.names.includes(name)) throw new Error(`${modelDir}: no tensor '${name}'`);
  const file = ckpt.fileOf(name);
  const { header, size, dataStart } = readSafetensorsHeader(file);
  const entry = header[name];
  if (!entry) throw new Error(`${file}: tensor '${name}' is not in this shard's header`);
  const elem = ST_DTYPES[entry.dtype];
  if (!elem) throw new Error(`${file}: tensor '${name}' has dtype ${entry.dtype}, expected BF16, F16 or F32`);
  if (!Array.isArray(entry.shape) || entry.shape.length !== 2 || !entry.shape.every((x) => Number.isSafeInteger(x) && x > 0))
    throw new Error(`${file}: tensor '${name}' has shape ${JSON.stringify(entry.shape)}, expected [V, D]`);
  const [V, D] = entry.shape;
  const [begin, end] = entry.data_offsets;
  if (!(Number.isSafeInteger(begin) && Number.isSafeInteger(end) && begin >= 0 && end - begin === V * D * elem && dataStart + end <= size))
    throw new Error(`${file}: tensor '${name}' has data_offsets ${JSON.stringify(entry.data_offsets)} not matching ${V}x${D}x${elem} bytes inside the file`);
  const raw = Buffer.alloc(end - begin);
  const fd = fs.openSync(file, 'r');
  try { fs.readSync(fd, raw, 0, raw.length, dataStart + begin); } finally { fs.closeSync(fd); }

  const W = new Float32Array(V * D);
  let srcBits = null;  // a 16-bit source's own bit patterns
  if (entry.dtype === 'F32') {
    new Uint8Array(W.buffer).set(raw);
  } else {
    const bits = new Uint16Array(raw.buffer, raw.byteOffset, V * D).slice();  // raw is a fresh, aligned Buffer
    srcBits = bits;
    if (entry.dtype === 'BF16') {
      const w32 = new Uint32Array(W.buffer);
      for (let i = 0; i < bits.length; i++) w32[i] = bits[i] << 16;
    } else {
      for (let i = 0; i < bits.length; i++) W[i] = f16BitsToNumber(bits[i]);
    }
  }
  for (let i = 0; i < W.length; i++) if (!Number.isFinite(W[i])) throw new Error(`${file}: '${name}' row ${Math.floor(i / D)} col ${i % D} is not finite`);
  return { name, dtype: entry.dtype, V, D, W, file, srcBits };
}

// ---------------------------------------------------------------------------------------
// Minimal protobuf wire-format reader.

// Returns [{field, wire, value}] for one message; value is a BigInt (varint, fixed64), a
// number (fixed32 bits) or a Buffer (length-delimited).
function decodeMessage(buf) {
  const out = [];
  let pos = 0;
  const varint = () => {
    let result = 0n, shift = 0n;
    for (;;) {
      if (pos >= buf.length) throw new Error('truncated varint');
      const b = buf[pos++];
      result |= BigInt(b & 0x7f) << shift;
      if (!(b & 0x80)) return result;
      shift += 7n;
      if (shift > 63n) throw new Error('varint longer than 10 bytes');
    }
  };
  while (pos < buf.length) {
    const key = varint();
    const field = Number(key >> 3n);
    const wire = Number(key & 7n);
    let value;
    if (wire === 0) value = varint();
    else if (wire === 1) { if (pos + 8 > buf.length) throw new Error('truncated fixed64'); value = buf.readBigUInt64LE(pos); pos += 8; }
    else if (wire === 2) {
      const len = Number(varint());
      if (len > buf.length - pos) throw new Error(`length ${len} overruns the message`);
      value = buf.subarray(pos, pos + len); pos += len;
    } else if (wire === 5) { if (pos + 4 > buf.length) throw new Error('truncated fixed32'); value = buf.readUInt32LE(pos); pos += 4; }
    else throw new Error(`unsupported wire type ${wire} (field ${field})`);
    if (field === 0) throw new Error('field number 0');
    out.push({ field, wire, value });
  }
  return out;
}

const int64Of = (v) => Number(BigInt.asIntN(64, v));
const str = (b) => b.toString('utf8');

// Repeated int64 fields may arrive packed (one length-delimited blob) or one per key.
function repeatedInt64(entries) {
  const out = [];
  for (const e of entries) {
    if (e.wire === 0) out.push(int64Of(e.value));
    else if (e.wire === 2) {
      for (const { value } of decodeMessage(packedAsVarints(e.value))) out.push(int64Of(value));
    } else throw new Error(`bad wire type ${e.wire} for a repeated int64`);
  }
  return out;
}
// Re-tags a packed run of varints as field-1 varints so decodeMessage can read them.
function packedAsVarints(blob) {
  const parts = [];
  let start = 0;
  for (let i = 0; i < blob.length; i++) {
    if (!(blob[i] & 0x80)) { parts.push(Buffer.from([0x08]), blob.subarray(start, i + 1)); start = i + 1; }
  }
  if (start !== blob.length) throw new Error('truncated packed varints');
  return Buffer.concat(parts);
}

function fieldsOf(buf) {
  const map = new Map();
  for (const e of decodeMessage(buf)) {
    if (!map.has(e.field)) map.set(e.field, []);
    map.get(e.field).push(e);
  }
  const all = (f) => map.get(f) || [];
  const one = (f, what) => {
    const list = all(f);
    if (list.length > 1) throw new Error(`${what}: field ${f} appears ${list.length} times`);
    return list.length ? list[0] : undefined;
  };
  return { map, all, one };
}

function parseTensor(buf) {
  const f = fieldsOf(buf);
  const name = f.one(8, 'TensorProto') ? str(f.one(8).value) : '';
  const t = {
    name,
    dims: repeatedInt64(f.all(1)),
    dataType: f.one(2, name) ? Number(f.one(2).value) : 0,
    raw: f.one(9, name) ? f.one(9).value : null,
    external: f.all(13).map((e) => {
      const kv = fieldsOf(e.value);
      return { key: kv.one(1) ? str(kv.one(1).value) : '', value: kv.one(2) ? str(kv.one(2).value) : '' };
    }),
    dataLocation: f.one(14, name) ? Number(f.one(14).value) : 0,
    typedFields: [3, 4, 5, 6, 7, 10, 11].filter((k) => f.all(k).length > 0),
  };
  return t;
}

function parseValueInfo(buf) {
  const f = fieldsOf(buf);
  const vi = { name: f.one(1, 'ValueInfoProto') ? str(f.one(1).value) : '', elemType: null, dims: null };
  const type = f.one(2, vi.name);
  if (!type) return vi;
  const tensorType = fieldsOf(type.value).one(1, `${vi.name} type`);
  if (!tensorType) return vi;
  const tt = fieldsOf(tensorType.value);
  vi.elemType = tt.one(1, vi.name) ? Number(tt.one(1).value) : null;
  const shape = tt.one(2, vi.name);
  if (shape) {
    vi.dims = fieldsOf(shape.value).all(1).map((d) => {
      const df = fieldsOf(d.value);
      return {
        value: df.one(1, vi.name) ? int64Of(df.one(1).value) : null,
        param: df.one(2, vi.name) ? str(df.one(2).value) : null,
      };
    });
  }
  return vi;
}

function parseAttribute(buf) {
  const f = fieldsOf(buf);
  return {
    name: f.one(1, 'AttributeProto') ? str(f.one(1).value) : '',
    i: f.one(3, 'AttributeProto') ? int64Of(f.one(3).value) : null,
    s: f.one(4, 'AttributeProto') ? str(f.one(4).value) : null,
    type: f.one(20, 'AttributeProto') ? Number(f.one(20).value) : null,
    other: [2, 4, 5, 6, 7, 8, 9, 10, 11, 13, 14, 21].filter((k) => f.all(k).length > 0),
  };
}

function parseNode(buf) {
  const f = fieldsOf(buf);
  return {
    inputs: f.all(1).map((e) => str(e.value)),
    outputs: f.all(2).map((e) => str(e.value)),
    name: f.one(3, 'NodeProto') ? str(f.one(3).value) : '',
    op: f.one(4, 'NodeProto') ? str(f.one(4).value) : '',
    attrs: f.all(5).map((e) => parseAttribute(e.value)),
    domain: f.one(7, 'NodeProto') ? str(f.one(7).value) : '',
  };
}

function parseModel(buf) {
  const m = fieldsOf(buf);
  const graphEntry = m.one(7, 'ModelProto');
  if (!graphEntry) throw new Error('ModelProto has no graph');
  const g = fieldsOf(graphEntry.value);
  return {
    irVersion: m.one(1, 'ModelProto') ? int64Of(m.one(1).value) : null,
    opsets: m.all(8).map((e) => {
      const o = fieldsOf(e.value);
      return { domain: o.one(1, 'opset') ? str(o.one(1).value) : '', version: o.one(2, 'opset') ? int64Of(o.one(2).value) : null };
    }),
    producerName: m.one(2, 'ModelProto') ? str(m.one(2).value) : '',
    producerVersion: m.one(3, 'ModelProto') ? str(m.one(3).value) : '',
    functions: m.all(25).length,
    graph: {
      name: g.one(2, 'GraphProto') ? str(g.one(2).value) : '',
      nodes: g.all(1).map((e) => parseNode(e.value)),
      initializers: g.all(5).map((e) => parseTensor(e.value)),
      sparseInitializers: g.all(15).length,
      inputs: g.all(11).map((e) => parseValueInfo(e.value)),
      outputs: g.all(12).map((e) => parseValueInfo(e.value)),
    },
  };
}

// ---------------------------------------------------------------------------------------
// Checking one tier.

class Failures {
  constructor() { this.list = []; this.notes = []; }
  add(msg) { this.list.push(msg); }
  note(msg) { this.notes.push(msg); }
  expect(cond, msg) { if (!cond) this.add(msg); return cond; }
  get ok() { return this.list.length === 0; }
}

const sameArray = (a, b) => a.length === b.length && a.every((x, i) => x === b[i]);

function checkModelContract(model, tier, table, onnxFile, fail, producer, ctx = {}) {
  const spec = TIERS[tier];
  const { V, D } = table;
  fail.expect(model.irVersion === 10, `ir_version is ${model.irVersion}, expected 10`);
  fail.expect(model.opsets.length === 1 && model.opsets[0].domain === '' && model.opsets[0].version === 20,
    `opset_import is ${JSON.stringify(model.opsets)}, expected exactly [{domain: "", version: 20}]`);
  fail.expect(model.functions === 0, `model holds ${model.functions} local functions`);
  if (producer) {
    const [name, version] = producer.split('/');
    fail.expect(model.producerName === name, `producer_name is '${model.producerName}', expected '${name}'`);
    if (version !== undefined) fail.expect(model.producerVersion === version, `producer_version is '${model.producerVersion}', expected '${version}'`);
    else fail.expect(model.producerVersion.length > 0, 'producer_version is empty');
  } else {
    fail.expect(model.producerName.length > 0, 'producer_name is empty');
  }
  const g = model.graph;
  if (g.name !== spec.graphName) fail.note(`graph name '${g.name}' (the original's is '${spec.graphName}')`);

  // Input and output.
  if (fail.expect(g.inputs.length === 1, `graph has ${g.inputs.length} inputs (${g.inputs.map((i) => i.name)}), expected only input_ids`)) {
    const inp = g.inputs[0];
    fail.expect(inp.name === 'input_ids', `graph input is '${inp.name}', expected 'input_ids'`);
    fail.expect(inp.elemType === INT64, `input_ids elem_type ${inp.elemType}, expected INT64 (7)`);
    fail.expect(inp.dims && inp.dims.length === 2 && inp.dims[0].param === 'B' && inp.dims[1].param === 'N' &&
      inp.dims.every((d) => d.value === null),
    `input_ids shape ${JSON.stringify(inp.dims)}, expected [B, N] symbolic`);
  }
  if (fail.expect(g.outputs.length === 1, `graph has ${g.outputs.length} outputs, expected only inputs_embeds`)) {
    const out = g.outputs[0];
    fail.expect(out.name === 'inputs_embeds', `graph output is '${out.name}', expected 'inputs_embeds'`);
    const wantElem = OUTPUT_ELEM[ctx.outputDtype ?? 'float32'];
    fail.expect(out.elemType === wantElem, `inputs_embeds elem_type ${out.elemType}, expected ${ELEM_NAME[wantElem]} (${wantElem})`);
    fail.expect(out.dims && out.dims.length === 3 && out.dims[0].param === 'B' && out.dims[0].value === null &&
      out.dims[1].param === 'N' && out.dims[1].value === null && out.dims[2].value === D && !out.dims[2].param,
    `inputs_embeds shape ${JSON.stringify(out.dims)}, expected [B, N, ${D}]`);
  }

  // Nodes: op types, order, wiring, attributes.
  fail.expect(g.sparseInitializers === 0, 'graph has sparse initializers');
  if (spec.freeGraph) {
    checkFreeGraph(g, spec, spec.initializers(V, D, ctx.block), fail);
    if (ctx.outputDtype === 'float16') {
      // The one rounding to float16 is the last step: a Cast to FLOAT16 writes the output.
      const last = g.nodes.find((n) => n.outputs.includes('inputs_embeds'));
      const to = last && last.attrs.find((a) => a.name === 'to');
      fail.expect(last && last.op === 'Cast' && to && to.i === FLOAT16, 'inputs_embeds is not written by a Cast to FLOAT16');
    }
    return;
  }
  const specNodes = tierNodes(tier, ctx.outputDtype);
  const ops = g.nodes.map((n) => n.op);
  if (!fail.expect(sameArray(ops, specNodes.map((n) => n.op)), `nodes are [${ops}], expected [${specNodes.map((n) => n.op)}]`)) return;
  const bound = {};  // '$k' -> actual intermediate name
  const reserved = new Set(['input_ids', 'inputs_embeds', ...spec.initializers(V, D).map((i) => i.name)]);
  specNodes.forEach((want, k) => {
    const node = g.nodes[k];
    const where = `node ${k} (${node.op} '${node.name}')`;
    if (node.name !== want.name) fail.note(`${where}: name differs from the original's '${want.name}'`);
    fail.expect(node.domain === '', `${where}: domain '${node.domain}', expected the default ""`);
    const expectInputs = want.inputs.map((x) => (x.startsWith('$') ? bound[x] : x));
    const inputsOk = sameArray(node.inputs, expectInputs) ||
      (want.commutative && sameArray(node.inputs, [...expectInputs].reverse()));
    fail.expect(inputsOk, `${where}: inputs [${node.inputs}], expected [${expectInputs}]`);
    if (fail.expect(node.outputs.length === 1, `${where}: ${node.outputs.length} outputs, expected 1`)) {
      const outName = node.outputs[0];
      if (want.output.startsWith('$')) {
        fail.expect(!reserved.has(outName) && !Object.values(bound).includes(outName) && outName !== '',
          `${where}: intermediate output '${outName}' reuses a name`);
        bound[want.output] = outName;
      } else {
        fail.expect(outName === want.output, `${where}: output '${outName}', expected '${want.output}'`);
      }
    }
    const attrs = Object.fromEntries(node.attrs.map((a) => [a.name, a]));
    const attrNames = Object.keys(attrs);
    if (node.op === 'Gather') {
      fail.expect(attrNames.every((n) => n === 'axis'), `${where}: unexpected attributes [${attrNames}]`);
      if (attrs.axis) fail.expect(attrs.axis.i === 0 && attrs.axis.other.length === 0, `${where}: axis ${attrs.axis.i}, expected 0`);
    } else if (node.op === 'Cast') {
      fail.expect(attrNames.every((n) => n === 'to' || n === 'saturate'), `${where}: unexpected attributes [${attrNames}]`);
      const to = want.to ?? FLOAT;
      fail.expect(attrs.to && attrs.to.i === to, `${where}: 'to' is ${attrs.to ? attrs.to.i : 'missing'}, expected ${ELEM_NAME[to]} (${to})`);
    } else {
      fail.expect(attrNames.length === 0, `${where}: unexpected attributes [${attrNames}]`);
    }
  });
}

// A graph without a fixed node list (int4): every node is a default-domain op from the
// tier's allowed set with only the attributes that op defines; nodes are topologically
// sorted, every value is produced once and used; exactly one node writes inputs_embeds;
// and each table initializer feeds only Gather(axis 0) nodes indexed by input_ids, so
// ONNX Runtime never sees a whole-table op it could constant-fold at session load.
function checkFreeGraph(g, spec, tableInits, fail) {
  const initNames = new Set(g.initializers.map((t) => t.name));
  const tableNames = new Set(tableInits.map((t) => t.name));
  const defined = new Set(['input_ids', ...initNames]);
  const used = new Set();
  let producersOfOutput = 0;
  g.nodes.forEach((node, k) => {
    const where = `node ${k} (${node.op} '${node.name}')`;
    fail.expect(node.domain === '', `${where}: domain '${node.domain}', expected the default "" (ai.onnx)`);
    const allowedAttrs = spec.allowedOps[node.op];
    if (!fail.expect(allowedAttrs !== undefined,
      `${where}: op '${node.op}' is not allowed (allowed ai.onnx ops: ${Object.keys(spec.allowedOps).join(', ')})`)) return;
    for (const a of node.attrs) fail.expect(allowedAttrs.includes(a.name), `${where}: unexpected attribute '${a.name}'`);
    const attrs = Object.fromEntries(node.attrs.map((a) => [a.name, a]));
    if (node.op === 'Gather' && attrs.axis) fail.expect(attrs.axis.i === 0, `${where}: axis ${attrs.axis.i}, expected 0`);
    if (node.op === 'BitShift') fail.expect(attrs.direction && attrs.direction.s === 'RIGHT', `${where}: direction '${attrs.direction ? attrs.direction.s : 'missing'}', expected 'RIGHT'`);
    if (node.op === 'Concat') fail.expect(attrs.axis && attrs.axis.i !== null, `${where}: Concat needs an int 'axis'`);
    if (node.op === 'Cast') fail.expect(attrs.to && attrs.to.i !== null, `${where}: Cast needs an int 'to'`);
    for (const input of node.inputs) {
      if (input === '') continue;  // an omitted optional input
      if (!fail.expect(defined.has(input), `${where}: input '${input}' is not the graph input, an initializer or an earlier node's output`)) continue;
      used.add(input);
      if (tableNames.has(input)) {
        const axis = attrs.axis ? attrs.axis.i : 0;
        fail.expect(node.op === 'Gather' && node.inputs[0] === input && node.inputs[1] === 'input_ids' && axis === 0,
          `${where}: table initializer '${input}' must be consumed only by Gather(${input}, input_ids, axis 0) (gather first, never a whole-table op)`);
      }
    }
    // A Gather either takes table rows by input_ids, or looks up values computed from those
    // rows in a small constant table (int4's scales).
    if (node.op === 'Gather') fail.expect(tableNames.has(node.inputs[0]) ? node.inputs[1] === 'input_ids'
      : initNames.has(node.inputs[0]) && !initNames.has(node.inputs[1]) && node.inputs[1] !== 'input_ids',
      `${where}: Gather [${node.inputs}] neither gathers a table initializer by input_ids nor looks up a constant by a computed index`);
    fail.expect(node.outputs.length === 1, `${where}: ${node.outputs.length} outputs, expected 1`);
    for (const out of node.outputs) {
      fail.expect(out !== '' && !defined.has(out), `${where}: output '${out}' is empty or redefines a value`);
      defined.add(out);
      if (out === 'inputs_embeds') producersOfOutput++;
    }
  });
  fail.expect(producersOfOutput === 1, `${producersOfOutput} nodes write 'inputs_embeds', expected exactly 1`);
  fail.expect(used.has('input_ids'), 'no node reads input_ids');
  for (const name of initNames) fail.expect(used.has(name), `initializer '${name}' is never used`);
  g.nodes.forEach((node, k) => {
    for (const out of node.outputs) {
      if (out !== 'inputs_embeds') fail.expect(used.has(out), `node ${k} (${node.op} '${node.name}'): output '${out}' is never used`);
    }
  });
}

// Checks the initializers' names, types, shapes and storage; returns name -> stored bytes.
function checkInitializers(model, tier, table, onnxPath, fail, ctx = {}) {
  const spec = TIERS[tier];
  const { V, D } = table;
  const inits = model.graph.initializers;
  const wanted = spec.initializers(V, D, ctx.block);
  const names = inits.map((t) => t.name);
  fail.expect(new Set(names).size === names.length, `initializer names repeat: [${names}]`);
  if (spec.freeGraph) {
    // The table initializers must be there; other, small constants take their own type
    // and shape and obey the same storage rules.
    for (const w of wanted) fail.expect(names.includes(w.name), `initializer '${w.name}' is missing (initializers: [${names}])`);
    for (const t of inits) {
      if (wanted.some((w) => w.name === t.name)) continue;
      const where = `extra initializer '${t.name}'`;
      if (!fail.expect(ELEM_BYTES[t.dataType] !== undefined, `${where}: data_type ${t.dataType} is not one this tier may use`)) continue;
      const size = t.dims.reduce((a, b) => a * b, 1) * ELEM_BYTES[t.dataType];
      if (!fail.expect(size < EXTERNAL_MIN_BYTES, `${where}: ${size} bytes; only the three table initializers may be large`)) continue;
      wanted.push({ name: t.name, type: t.dataType, dims: t.dims });
    }
  } else {
    fail.expect(sameArray([...names].sort(), wanted.map((w) => w.name).sort()),
      `initializers [${names}], expected [${wanted.map((w) => w.name)}]`);
  }

  const sidecarName = `${path.basename(onnxPath)}_data`;
  const sidecarPath = path.join(path.dirname(onnxPath), sidecarName);
  let sidecar = null;
  const ranges = [];
  const bytes = {};
  for (const want of wanted) {
    const t = inits.find((x) => x.name === want.name);
    if (!t) continue;
    const where = `initializer '${t.name}'`;
    if (!fail.expect(t.dataType === want.type, `${where}: data_type ${t.dataType}, expected ${ELEM_NAME[want.type]} (${want.type})`)) continue;
    if (!fail.expect(sameArray(t.dims, want.dims), `${where}: dims [${t.dims}], expected [${want.dims}]`)) continue;
    fail.expect(t.typedFields.length === 0, `${where}: uses typed data fields ${t.typedFields} besides raw_data/external`);
    const size = want.dims.reduce((a, b) => a * b, 1) * ELEM_BYTES[want.type];
    if (size >= EXTERNAL_MIN_BYTES) {
      if (!fail.expect(t.dataLocation === 1, `${where}: ${size} bytes but data_location ${t.dataLocation}, expected EXTERNAL (1)`)) continue;
      fail.expect(t.raw === null, `${where}: external but also has raw_data`);
      const keys = t.external.map((e) => e.key);
      if (!fail.expect(sameArray([...keys].sort(), ['length', 'location', 'offset']),
        `${where}: external_data keys [${keys}], expected exactly location, offset, length`)) continue;
      const kv = Object.fromEntries(t.external.map((e) => [e.key, e.value]));
      fail.expect(kv.location === sidecarName, `${where}: location '${kv.location}', expected '${sidecarName}'`);
      const isInt = (s) => /^[0-9]+$/.test(s);
      if (!fail.expect(isInt(kv.offset) && isInt(kv.length), `${where}: offset '${kv.offset}' / length '${kv.length}' are not whole numbers`)) continue;
      const offset = Number(kv.offset), length = Number(kv.length);
      fail.expect(length === size, `${where}: length ${length}, expected ${size}`);
      fail.expect(offset % EXTERNAL_ALIGN === 0, `${where}: offset ${offset} is not a multiple of ${EXTERNAL_ALIGN}`);
      if (sidecar === null) {
        if (!fail.expect(fs.existsSync(sidecarPath), `sidecar ${sidecarName} is missing`)) continue;
        sidecar = fs.readFileSync(sidecarPath);
      }
      if (!fail.expect(offset + length <= sidecar.length, `${where}: offset ${offset} + length ${length} exceeds ${sidecarName} (${sidecar.length} bytes)`)) continue;
      for (const [b, e, other] of ranges) fail.expect(offset >= e || offset + length <= b, `${where}: bytes overlap '${other}' in ${sidecarName}`);
      ranges.push([offset, offset + length, t.name]);
      bytes[t.name] = sidecar.subarray(offset, offset + length);
    } else {
      fail.expect(t.dataLocation === 0 && t.external.length === 0, `${where}: ${size} bytes must be inline, found external data`);
      if (!fail.expect(t.raw !== null, `${where}: no raw_data`)) continue;
      if (!fail.expect(t.raw.length === size, `${where}: raw_data is ${t.raw.length} bytes, expected ${size}`)) continue;
      bytes[t.name] = t.raw;
    }
  }
  return bytes;
}

// Compares two typed arrays element by element (bit patterns); returns the first index
// that differs, or -1.
function firstDifference(got, want) {
  const a = new Uint8Array(got.buffer, got.byteOffset, got.byteLength);
  const b = new Uint8Array(want.buffer, want.byteOffset, want.byteLength);
  if (a.length !== b.length) return 0;
  if (Buffer.compare(a, b) === 0) return -1;
  const bpe = want.BYTES_PER_ELEMENT;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return Math.floor(i / bpe);
  return -1;
}

const hex = (v, bytes) => `0x${(bytes === 8 ? BigInt.asUintN(64, BigInt(v)) : v >>> 0).toString(16).padStart(bytes * 2, '0')}`;
const showNumber = (x) => (Object.is(x, -0) ? '-0' : String(x));
function describeElement(arr, i) {
  if (arr instanceof Float32Array) return `${showNumber(arr[i])} (${hex(new Uint32Array(arr.buffer, arr.byteOffset, arr.length)[i], 4)})`;
  if (arr instanceof Uint16Array) return `${showNumber(f16BitsToNumber(arr[i]))} (${hex(arr[i], 2)})`;
  return String(arr[i]);
}

function compareStoredBf16(stored, want, D, fail) {
  if (stored.length !== want.byteLength) { fail.add(`embed_tokens.weight: ${stored.length} bytes stored, expected ${want.byteLength}`); return; }
  const got = new Uint16Array(want.length);
  new Uint8Array(got.buffer).set(stored);
  const i = firstDifference(got, want);
  if (i < 0) return;
  let count = 0;
  for (let k = 0; k < want.length; k++) if (got[k] !== want[k]) count++;
  fail.add(`embed_tokens.weight: stored bf16 differs at row ${Math.floor(i / D)} col ${i % D}: got ${showNumber(bf16BitsToNumber(got[i]))} (${hex(got[i], 2)}), ` +
    `expected ${showNumber(bf16BitsToNumber(want[i]))} (${hex(want[i], 2)}) (${count} elements differ)`);
}

function compareStored(name, stored, want, D, fail) {
  const got = new want.constructor(want.length);
  if (stored.length !== want.byteLength) { fail.add(`${name}: ${stored.length} bytes stored, expected ${want.byteLength}`); return; }
  new Uint8Array(got.buffer).set(stored);
  const i = firstDifference(got, want);
  if (i < 0) return;
  const where = D ? `row ${Math.floor(i / D)} col ${i % D}` : `element ${i}`;
  let count = 0;
  for (let k = 0; k < want.length; k++) if (!Object.is(got[k], want[k])) count++;
  fail.add(`${name}: stored bytes differ at ${where}: got ${describeElement(got, i)}, expected ${describeElement(want, i)} (${count} elements differ)`);
}

function checkStoredBytes(tier, bytes, ref, table, fail) {
  const { W, D } = table;
  if (tier === 'fp32' && bytes['embed_tokens.weight']) compareStored('embed_tokens.weight', bytes['embed_tokens.weight'], W, D, fail);
  if (tier === 'fp16w' && bytes['embed_tokens.weight']) compareStored('embed_tokens.weight', bytes['embed_tokens.weight'], ref.h, D, fail);
  if (tier === 'bf16w') {
    // Lossless for a bf16 source: the reference must be the source's own bits.
    if (table.srcBits && table.dtype === 'BF16') {
      const i = firstDifference(ref.h, table.srcBits);
      if (i >= 0) fail.add(`checker self-test: bf16 rounding of a BF16 source changed element ${i} (${hex(table.srcBits[i], 2)} -> ${hex(ref.h[i], 2)})`);
    }
    if (bytes['embed_tokens.weight']) compareStoredBf16(bytes['embed_tokens.weight'], ref.h, D, fail);
  }
  if (tier === 'int8') {
    if (bytes['embed_tokens.weight_int8']) compareStored('embed_tokens.weight_int8', bytes['embed_tokens.weight_int8'], ref.q, D, fail);
    if (bytes['embed_tokens.scales']) compareStored('embed_tokens.scales', bytes['embed_tokens.scales'], ref.s, 0, fail);
    if (bytes.EmbedTokens_unsqueeze_axes) compareStored('EmbedTokens_unsqueeze_axes', bytes.EmbedTokens_unsqueeze_axes, BigInt64Array.of(-1n), 0, fail);
  }
  return Object.values(bytes).reduce((a, b) => a + b.length, 0);
}

// ---------------------------------------------------------------------------------------
// ONNX Runtime.

// Small deterministic generator (xorshift64*), for the random ids.
function* randomIds(seed, V, count) {
  let x = BigInt.asUintN(64, BigInt(seed) * 0x9e3779b97f4a7c15n + 1n);
  for (let k = 0; k < count; k++) {
    x ^= x >> 12n; x ^= BigInt.asUintN(64, x << 25n); x ^= x >> 27n;
    const r = BigInt.asUintN(64, x * 0x2545f4914f6cdd1dn);
    yield Number((r >> 11n) % BigInt(V));
  }
}

// The float16 bits of rows of a float32 reference, converted when first asked for.
function halfRows(out, D) {
  const bits = new Uint16Array(out.length);
  const done = new Uint8Array(out.length / D);
  return (id) => {
    if (!done[id]) {
      for (let j = 0; j < D; j++) bits[id * D + j] = numberToF16Bits(out[id * D + j]);
      done[id] = 1;
    }
    return bits.subarray(id * D, (id + 1) * D);
  };
}

async function runOrt(ort, onnxPath, ref, table, calls, fail, outputDtype = 'float32') {
  const { D } = table;
  let session;
  try {
    session = await ort.InferenceSession.create(onnxPath, { executionProviders: ['cpu'] });
  } catch (e) {
    fail.add(`ONNX Runtime cannot load ${path.basename(onnxPath)}: ${e.message}`);
    return 0;
  }
  let idsChecked = 0;
  try {
    fail.expect(sameArray(session.inputNames, ['input_ids']), `session inputs [${session.inputNames}]`);
    fail.expect(sameArray(session.outputNames, ['inputs_embeds']), `session outputs [${session.outputNames}]`);
    const half = outputDtype === 'float16';
    const expectedBits = new Uint32Array(ref.out.buffer, ref.out.byteOffset, ref.out.length);
    const halfRow = half ? halfRows(ref.out, D) : null;
    for (const { label, ids, dims } of calls) {
      const input = new ort.Tensor('int64', BigInt64Array.from(ids, (i) => BigInt(i)), dims);
      let result;
      try {
        result = await session.run({ input_ids: input });
      } catch (e) {
        fail.add(`ORT run (${label}) failed: ${e.message}`);
        continue;
      }
      const out = result.inputs_embeds;
      if (!fail.expect(out && out.type === outputDtype, `ORT (${label}): output type ${out && out.type}, expected ${outputDtype}`)) continue;
      if (!fail.expect(sameArray(out.dims, [...dims, D]), `ORT (${label}): output dims [${out.dims}], expected [${[...dims, D]}]`)) continue;
      if (half) {
        // onnxruntime-node hands float16 out as Uint16Array (Float16Array where the runtime has one).
        const got = new Uint16Array(out.data.buffer, out.data.byteOffset, out.data.length);
        let bad = 0, first = null;
        ids.forEach((id, k) => {
          const want = halfRow(id);
          for (let j = 0; j < D; j++) {
            if (got[k * D + j] !== want[j]) {
              bad++;
              if (!first) first = `id ${id} (position ${k}) col ${j}: got ${hex(got[k * D + j], 2)}, expected ${hex(want[j], 2)} (float32 ${showNumber(ref.out[id * D + j])})`;
            }
          }
        });
        if (bad) fail.add(`ORT output (${label}) differs from the reference in ${bad} values; first at ${first}`);
        idsChecked += ids.length;
        continue;
      }
      const gotBits = new Uint32Array(out.data.buffer, out.data.byteOffset, out.data.length);
      let bad = 0, first = null;
      ids.forEach((id, k) => {
        for (let j = 0; j < D; j++) {
          if (gotBits[k * D + j] !== expectedBits[id * D + j]) {
            bad++;
            if (!first) first = `id ${id} (position ${k}) col ${j}: got ${showNumber(out.data[k * D + j])} (${hex(gotBits[k * D + j], 4)}), expected ${showNumber(ref.out[id * D + j])} (${hex(expectedBits[id * D + j], 4)})`;
          }
        }
      });
      if (bad) fail.add(`ORT output (${label}) differs from the reference in ${bad} values; first at ${first}`);
      idsChecked += ids.length;
    }
  } finally {
    await session.release();
  }
  return idsChecked;
}

// ---------------------------------------------------------------------------------------
// Report (SPEC §5).

function errorStats(errs) {
  const n = errs.length;
  let max = 0, sum = 0;
  for (let i = 0; i < n; i++) { sum += errs[i]; if (errs[i] > max) max = errs[i]; }
  const sorted = Float32Array.from(errs).sort();
  const h = 0.99 * (n - 1);
  const lo = Math.floor(h);
  const hi = Math.min(lo + 1, n - 1);
  const p99 = sorted[lo] + (h - lo) * (sorted[hi] - sorted[lo]);
  return { max, mean: n ? sum / n : 0, p99: n ? p99 : 0 };
}

function absErrors(out, W, rows, D) {
  const errs = new Float32Array(rows.length * D);
  rows.forEach((r, k) => { for (let j = 0; j < D; j++) errs[k * D + j] = Math.abs(out[r * D + j] - W[r * D + j]); });
  return errs;  // Float32Array rounds |a - b| once, like numpy's float32 subtraction
}

const relClose = (got, want, rel) => typeof got === 'number' && (got === want || Math.abs(got - want) <= rel * Math.max(Math.abs(got), Math.abs(want)));

function checkReport(opts, table, refs, sampleIds, fail) {
  let report;
  try {
    report = JSON.parse(fs.readFileSync(opts.report, 'utf8'));
  } catch (e) {
    fail.add(`cannot read report ${opts.report}: ${e.message}`);
    return;
  }
  const { V, D, W } = table;
  const isObj = (x) => typeof x === 'object' && x !== null && !Array.isArray(x);
  if (!fail.expect(isObj(report), 'report is not a JSON object')) return;
  const info = report.info;
  if (fail.expect(isObj(info), 'report has no "info" object')) {
    fail.expect(info.vocab_size === V, `info.vocab_size ${info.vocab_size}, expected ${V}`);
    fail.expect(info.hidden_size === D, `info.hidden_size ${info.hidden_size}, expected ${D}`);
    const attr = table.name.replace(/\.weight$/, '');
    fail.expect(info.embed_attr === attr, `info.embed_attr '${info.embed_attr}', expected '${attr}'`);
    if ('variant' in report && 'variant' in info) fail.expect(report.variant === info.variant, `variant '${report.variant}' but info.variant '${info.variant}'`);
    if (opts.variant !== null) {
      fail.expect(report.variant === opts.variant, `variant '${report.variant}', expected '${opts.variant}'`);
      fail.expect(info.variant === opts.variant, `info.variant '${info.variant}', expected '${opts.variant}'`);
    }
  }
  if (fail.expect(isObj(report.tiers), 'report has no "tiers" object')) {
    fail.expect(sameArray(Object.keys(report.tiers).sort(), [...opts.tiers].sort()), `report tiers [${Object.keys(report.tiers)}], expected [${opts.tiers}]`);
    const base = opts.tiersBase ?? opts.exportDir;
    for (const tier of opts.tiers) {
      const p = report.tiers[tier];
      if (!fail.expect(typeof p === 'string', `tiers.${tier} missing`)) continue;
      fail.expect(!path.isAbsolute(p), `tiers.${tier} '${p}' is absolute, expected relative`);
      fail.expect(path.resolve(base, p) === path.resolve(opts.exportDir, TIERS[tier].file),
        `tiers.${tier} '${p}' does not name ${TIERS[tier].file} relative to ${base}`);
    }
  }
  const outputDtype = opts.outputDtype ?? 'float32';
  fail.expect((report.output_dtype ?? 'float32') === outputDtype, `output_dtype '${report.output_dtype}', expected '${outputDtype}'`);
  if (outputDtype === 'float16') {
    // The table's values a float16 output turns into +-inf, as fp16w's rows.
    let count = 0, maxAbs = 0;
    for (let i = 0; i < W.length; i++) {
      if ((numberToF16Bits(W[i]) & 0x7fff) === 0x7c00) { count++; maxAbs = Math.max(maxAbs, Math.abs(W[i])); }
    }
    const o = report.output_overflow;
    if (count === 0) fail.expect(o === undefined, `output_overflow ${JSON.stringify(o)}, expected none`);
    else if (fail.expect(isObj(o), `no output_overflow, expected count ${count}`)) {
      fail.expect(o.count === count, `output_overflow.count ${o.count}, expected ${count}`);
      fail.expect(o.max_abs_source === maxAbs, `output_overflow.max_abs_source ${o.max_abs_source}, expected ${maxAbs}`);
    }
  }
  if (fail.expect(isObj(report.parity), 'report has no "parity" object')) {
    for (const tier of opts.tiers) {
      const p = report.parity[tier];
      if (!fail.expect(isObj(p), `parity.${tier} missing`)) continue;
      fail.expect(sameArray(p.shape || [], [1, sampleIds.length, D]), `parity.${tier}.shape ${JSON.stringify(p.shape)}, expected [1, ${sampleIds.length}, ${D}]`);
      fail.expect(p.dtype === outputDtype, `parity.${tier}.dtype '${p.dtype}', expected '${outputDtype}'`);
      if (!fail.expect(refs[tier], `parity.${tier}: no reference to compare with`)) continue;
      // The parity compares what a consumer receives, the float16 values widened exactly.
      let received = refs[tier].out;
      if (outputDtype === 'float16') {
        received = new Float32Array(V * D);
        for (const r of sampleIds) for (let j = 0; j < D; j++) received[r * D + j] = f16BitsToNumber(numberToF16Bits(refs[tier].out[r * D + j]));
      }
      const mine = errorStats(absErrors(received, W, sampleIds, D));
      if (tier === 'fp32' && outputDtype === 'float32') {
        fail.expect(p.max_abs_err === 0 && p.mean_abs_err === 0 && p.p99_abs_err === 0,
          `parity.fp32 errors ${p.max_abs_err}/${p.mean_abs_err}/${p.p99_abs_err}, expected all 0`);
      }
      fail.expect(p.max_abs_err === mine.max, `parity.${tier}.max_abs_err ${p.max_abs_err}, expected exactly ${mine.max}`);
      fail.expect(relClose(p.mean_abs_err, mine.mean, 1e-6), `parity.${tier}.mean_abs_err ${p.mean_abs_err}, expected ${mine.mean}`);
      fail.expect(relClose(p.p99_abs_err, mine.p99, 1e-6), `parity.${tier}.p99_abs_err ${p.p99_abs_err}, expected ${mine.p99}`);
    }
  }
  if (opts.tiers.includes('int8')) {
    const st = report.int8_table_quant_stats;
    if (fail.expect(isObj(st), 'report has no "int8_table_quant_stats"')) {
      const all = new Array(V);
      for (let r = 0; r < V; r++) all[r] = r;
      const mine = errorStats(absErrors(refs.int8.out, W, all, D));
      fail.expect(st.max_abs_err === mine.max, `int8_table_quant_stats.max_abs_err ${st.max_abs_err}, expected exactly ${mine.max}`);
      fail.expect(relClose(st.mean_abs_err, mine.mean, 1e-5), `int8_table_quant_stats.mean_abs_err ${st.mean_abs_err}, expected ${mine.mean}`);
      fail.expect(relClose(st.p99_abs_err, mine.p99, 1e-5), `int8_table_quant_stats.p99_abs_err ${st.p99_abs_err}, expected ${mine.p99}`);
    }
  }
  if (opts.tiers.includes('int4')) {
    const st = report.int4_table_quant_stats;
    if (fail.expect(isObj(st), 'report has no "int4_table_quant_stats"')) {
      if (!refs.int4) {
        fail.add('int4_table_quant_stats: no int4 reference to compare with (the stored bytes of the int4 file could not be decoded)');
        return;
      }
      const mine = int4TableStats(refs.int4.out, W, V, D);
      fail.expect(st.max_abs_err === mine.max, `int4_table_quant_stats.max_abs_err ${st.max_abs_err}, expected exactly ${mine.max}`);
      fail.expect(relClose(st.mean_abs_err, mine.mean, 1e-6), `int4_table_quant_stats.mean_abs_err ${st.mean_abs_err}, expected ${mine.mean} (rel 1e-6)`);
      fail.expect(relClose(st.p99_abs_err, mine.p99, 1e-6), `int4_table_quant_stats.p99_abs_err ${st.p99_abs_err}, expected ${mine.p99} (rel 1e-6)`);
      fail.expect(typeof st.mean_row_cosine === 'number' && Math.abs(st.mean_row_cosine - mine.cosine) <= 1e-9,
        `int4_table_quant_stats.mean_row_cosine ${st.mean_row_cosine}, expected ${mine.cosine} (abs 1e-9)`);
    }
  }
}

// Whole-table int4 error stats: |decoded - W| as float32 (like the int8 stats, SPEC §4),
// max / mean / numpy-default p99; and the mean over rows of the cosine similarity of the
// decoded row to the source row, in double (two zero rows: 1; exactly one zero row: 0).
function int4TableStats(out, W, V, D) {
  const all = new Array(V);
  for (let r = 0; r < V; r++) all[r] = r;
  const st = errorStats(absErrors(out, W, all, D));
  let cosSum = 0;
  for (let r = 0; r < V; r++) {
    let dot = 0, na = 0, nb = 0;
    for (let j = r * D, e = j + D; j < e; j++) { const a = out[j], b = W[j]; dot += a * b; na += a * a; nb += b * b; }
    if (na === 0 && nb === 0) cosSum += 1;
    else if (na === 0 || nb === 0) cosSum += 0;
    else cosSum += dot / (Math.sqrt(na) * Math.sqrt(nb));
  }
  return { ...st, cosine: V ? cosSum / V : 0 };
}

// ---------------------------------------------------------------------------------------

// The tiers to check when --tiers is not given: every known tier the report lists or
// whose .onnx file is in the export folder (a tier in one but not the other fails later:
// a missing file, or a report tier list that differs).
function discoverTiers(opts) {
  const found = new Set();
  if (opts.report) {
    try {
      const r = JSON.parse(fs.readFileSync(opts.report, 'utf8'));
      if (r && typeof r.tiers === 'object' && r.tiers !== null) for (const t of Object.keys(r.tiers)) found.add(t);
    } catch { /* checkReport reports it */ }
  }
  for (const t of TIER_ORDER) if (fs.existsSync(path.join(opts.exportDir, TIERS[t].file))) found.add(t);
  const unknown = [...found].filter((t) => !TIERS[t]);
  if (unknown.length) console.log(`note: the report lists tiers this checker does not know: ${unknown.join(', ')}`);
  return TIER_ORDER.filter((t) => found.has(t));
}

// The int4 block: --int4-block, else D / (scales dims[1]). Returns null (and fails) when
// it cannot be known or is not a valid block (even, divides D).
function int4BlockOf(model, table, opts, fail) {
  const { D } = table;
  const scales = model ? model.graph.initializers.find((t) => t.name === 'embed_tokens.scale_codes_int4') : undefined;
  let block = opts.int4Block;
  if (block === null) {
    if (!fail.expect(scales && scales.dims.length === 3 && scales.dims[2] > 0,
      `cannot tell the int4 block: initializer 'embed_tokens.scale_codes_int4' ${scales ? `has dims [${scales.dims}]` : 'is missing'}`)) return null;
    const nb = scales.dims[2];
    if (!fail.expect(D % nb === 0, `embed_tokens.scale_codes_int4 has ${nb} blocks per row, which does not divide D = ${D}`)) return null;
    block = D / nb;
  }
  if (!fail.expect(block % 2 === 0 && D % block === 0, `int4 block ${block} must be even and divide D = ${D}`)) return null;
  return block;
}

function fileSize(p) {
  try { return fs.statSync(p).size; } catch { return null; }
}

// docs/int4.md: at block 32 the int4 sidecar is 0.28125 x the fp16w sidecar (limit 0.30).
// Always printed; enforced when both sidecars exist and D >= 1024 (below that, 64 KiB
// alignment padding of a small table can dominate).
function checkInt4Size(opts, table, fail) {
  const { V, D } = table;
  const int4Sidecar = fileSize(path.join(opts.exportDir, `${TIERS.int4.file}_data`));
  const int4Side = int4Sidecar ?? 0;
  const fp16Side = fileSize(path.join(opts.exportDir, `${TIERS.fp16w.file}_data`));
  const perValue = int4Side / (V * D);
  if (int4Sidecar === null) return `no sidecar (every int4 tensor is under ${EXTERNAL_MIN_BYTES} bytes, inline)`;
  if (fp16Side === null) return `sidecar ${int4Side} B = ${perValue.toFixed(4)} B/value = ${(int4Side / (2 * V * D)).toFixed(4)} x an fp16 table (no fp16w sidecar)`;
  const ratio = int4Side / fp16Side;
  const line = `sidecar ${int4Side} B = ${perValue.toFixed(4)} B/value = ${ratio.toFixed(4)} x the fp16w sidecar (${fp16Side} B)`;
  if (D >= INT4_RATIO_MIN_D) fail.expect(ratio <= INT4_SIDECAR_RATIO_MAX, `int4 sidecar is ${ratio.toFixed(4)} x the fp16w sidecar (${int4Side} / ${fp16Side} B), limit ${INT4_SIDECAR_RATIO_MAX} for D >= ${INT4_RATIO_MIN_D}`);
  return line + (D >= INT4_RATIO_MIN_D ? ` (limit ${INT4_SIDECAR_RATIO_MAX})` : ` (not enforced: D ${D} < ${INT4_RATIO_MIN_D})`);
}

async function main() {
  const opts = parseArgs(process.argv.slice(2));
  if (os.endianness() !== 'LE') throw new Error('this checker assumes a little-endian host');
  const table = loadTable(opts.modelDir, opts.tensor);
  const { V, D } = table;
  if (opts.outputDtype === null && opts.report) {
    try {
      const r = JSON.parse(fs.readFileSync(opts.report, 'utf8'));
      if (r && typeof r.output_dtype === 'string') opts.outputDtype = r.output_dtype;
    } catch { /* checkReport reports it */ }
  }
  opts.outputDtype ??= 'float32';
  if (!OUTPUT_ELEM[opts.outputDtype]) throw new Error(`the report's output_dtype '${opts.outputDtype}' is neither float32 nor float16`);
  if (opts.outputDtype === 'float16') {
    checkF16Rounding();
    console.log('output float16 (the float32 -> float16 rounding checked on its edge values)');
  }
  console.log(`table ${table.name} ${table.dtype} [${V}, ${D}] from ${table.file}`);
  if (opts.tiers === null) {
    opts.tiers = discoverTiers(opts);
    if (opts.tiers.length === 0) throw new Error(`${opts.exportDir}: no tier .onnx files and no report tiers to check`);
    console.log(`tiers (from the report and the files present): ${opts.tiers.join(', ')}`);
  }

  const ort = await import('onnxruntime-node');
  const sampleIds = [...SAMPLE_IDS, V - 1].filter((i) => i < V);
  const randomList = [...randomIds(opts.seed, V, opts.random)];
  const calls = [
    { label: 'sample ids [1, n]', ids: sampleIds, dims: [1, sampleIds.length] },
    { label: `random ids [2, ${opts.random / 2}]`, ids: randomList, dims: [2, opts.random / 2] },
    { label: 'last id [1, 1]', ids: [V - 1], dims: [1, 1] },
    { label: 'first rows [1, n]', ids: [...Array(Math.min(V, 16)).keys()], dims: [1, Math.min(V, 16)] },
  ];

  const refs = {};
  const ctx = { block: null, outputDtype: opts.outputDtype };
  let allOk = true;
  for (const tier of opts.tiers) {
    const fail = new Failures();
    const onnxPath = path.join(opts.exportDir, TIERS[tier].file);
    let storedBytes = 0, idsChecked = 0, extra = '';
    if (fail.expect(fs.existsSync(onnxPath), `${onnxPath} is missing`)) {
      let model = null, bytes = null, ref = null;
      try {
        model = parseModel(fs.readFileSync(onnxPath));
      } catch (e) {
        fail.add(`cannot parse ${TIERS[tier].file}: ${e.message}`);
      }
      let refOk = true;
      if (tier === 'int4') {
        ctx.block = int4BlockOf(model, table, opts, fail);
        refOk = ctx.block !== null;
        if (refOk) extra = ` block=${ctx.block}`;
      }
      if (refOk && tier !== 'int4') ref = referenceTier(tier, table.W, V, D, refs, ctx);
      if (model && (ref || (refOk && tier === 'int4'))) {
        try {
          checkModelContract(model, tier, table, onnxPath, fail, opts.producer, ctx);
          bytes = checkInitializers(model, tier, table, onnxPath, fail, ctx);
          // int4: the reference is the stored bytes decoded here (within the bound of the
          // source); ONNX Runtime must compute exactly that.
          if (tier === 'int4') ref = refs.int4 = int4Reference(bytes, table, ctx.block, fail);
          if (ref) storedBytes = checkStoredBytes(tier, bytes, ref, table, fail);
        } catch (e) {
          fail.add(`cannot check ${TIERS[tier].file}: ${e.message}`);
        }
      }
      if (ref) idsChecked = await runOrt(ort, onnxPath, ref, table, calls, fail, opts.outputDtype);
      if (tier === 'int4') console.log(`int4   ${checkInt4Size(opts, table, fail)}`);
    }
    const label = tier.padEnd(5);
    if (fail.ok) console.log(`${label}  ok  bytes=${storedBytes} ort=${idsChecked} ids${extra}`);
    else {
      console.log(`${label}  FAIL`);
      for (const m of fail.list) console.log(`  ${tier}: ${m}`);
      allOk = false;
    }
    for (const m of fail.notes) console.log(`  ${tier}: note: ${m}`);
  }

  if (opts.report) {
    for (const tier of opts.tiers) if (tier !== 'int4') referenceTier(tier, table.W, V, D, refs, ctx);
    const fail = new Failures();
    checkReport(opts, table, refs, sampleIds, fail);
    if (fail.ok) console.log(`report ok  ${opts.report}`);
    else {
      console.log('report FAIL');
      for (const m of fail.list) console.log(`  report: ${m}`);
      allOk = false;
    }
  }
  process.exit(allOk ? 0 : 1);
}

// Run only when executed, so other test scripts can import the readers and references.
if (process.argv[1] && import.meta.url === pathToFileURL(path.resolve(process.argv[1])).href) {
  main().catch((e) => {
    console.error(`check_export: error: ${e.message}`);
    process.exit(1);
  });
}

export {
  TIERS, loadTable, parseModel, referenceTier, numberToF16Bits, f16BitsToNumber, quantizeInt8, roundHalfEven,
  decodeMessage, errorStats, f32ToBf16Bits, bf16BitsToNumber, int4ScaleTable, int4Reference, decodeInt4, int4TableStats,
  checkF16Rounding, tierNodes,
};
