#!/usr/bin/env node
// check_splice.mjs: judges the splice graphs of one export in ONNX Runtime (CPU), from
// SPEC §8 alone (and docs/splice.md for image_features).
//
//   node check_splice.mjs --export-dir DIR [--audio-token-id A] [--image-token-id I] --vocab V
//                         [--batches K] [--seed S]
//
// The graphs checked are <stem>_audio.onnx (A only), <stem>_image.onnx (I only) or
// <stem>_image_audio.onnx (both), each beside its tier's <stem>.onnx. At the default
// optimisation level and with optimisations off:
//   - random batches (B x N, tokens at random positions, the first and the last included)
//     with feature rows holding -0.0, subnormals, +-inf and NaN: the splice output must
//     equal, bit for bit, the plain graph's output on the ids with every token set to 0,
//     each modality's positions overwritten, in row-major order, by its rows
//     (transformers' masked_scatter, once per modality); with two modalities, every
//     third batch holds only the first one's tokens and every third only the second's;
//   - no token and zero rows: the output equals the plain graph's, bit for bit;
//   - for each modality, one row too few and one too many: the run must fail, and with
//     two modalities so must one row moved from either input to the other.
// Prints one line per graph; exits 0 only if every check holds.
import fs from 'node:fs';
import path from 'node:path';
import ort from 'onnxruntime-node';

function parseArgs(argv) {
  const o = { exportDir: null, audio: null, image: null, vocab: null, batches: 6, seed: 7 };
  for (let i = 0; i < argv.length; i += 2) {
    const [k, v] = [argv[i], argv[i + 1]];
    if (v === undefined) fail(`${k} needs a value`, 2);
    if (k === '--export-dir') o.exportDir = v;
    else if (k === '--audio-token-id') o.audio = Number(v);
    else if (k === '--image-token-id') o.image = Number(v);
    else if (k === '--vocab') o.vocab = Number(v);
    else if (k === '--batches') o.batches = Number(v);
    else if (k === '--seed') o.seed = Number(v);
    else fail(`unknown argument '${k}'`, 2);
  }
  // In graph input order: image_features before audio_features.
  o.modalities = [];
  if (o.image !== null) o.modalities.push({ name: 'image', id: o.image });
  if (o.audio !== null) o.modalities.push({ name: 'audio', id: o.audio });
  if (!o.exportDir || !Number.isSafeInteger(o.vocab) || o.modalities.length === 0 ||
      !o.modalities.every((m) => Number.isSafeInteger(m.id)))
    fail('--export-dir, --vocab and --audio-token-id or --image-token-id (or both) are required', 2);
  for (const m of o.modalities) { m.input = `${m.name}_features`; m.big = BigInt(m.id); }
  o.suffix = `_${o.modalities.map((m) => m.name).join('_')}.onnx`;
  return o;
}

function fail(msg, code = 1) {
  console.error(`check_splice: ${msg}`);
  process.exit(code);
}

// xorshift64*: deterministic, independent of Math.random.
function rng(seed) {
  let s = BigInt(seed) | 1n;
  return () => {
    s ^= s >> 12n; s ^= (s << 25n) & 0xffffffffffffffffn; s ^= s >> 27n;
    return Number(((s * 0x2545f4914f6cdd1dn) & 0xffffffffffffffffn) >> 11n) / 2 ** 53;
  };
}

const SPECIAL = (() => {
  const f = new Float32Array(7);
  const u = new Uint32Array(f.buffer);
  u[0] = 0x80000000; // -0.0
  u[1] = 0x00000001; // smallest subnormal
  u[2] = 0x807fffff; // largest negative subnormal
  u[3] = 0x7f800000; // +inf
  u[4] = 0xff800000; // -inf
  u[5] = 0x7fc00001; // a NaN with a payload
  u[6] = 0x00000000;
  return f;
})();

function featureRows(m, d, next) {
  const a = new Float32Array(m * d);
  for (let i = 0; i < a.length; i++) a[i] = next() < 0.3 ? SPECIAL[Math.floor(next() * SPECIAL.length)] : (next() - 0.5) * 4;
  return a;
}

// Ids with the tokens of the modalities in `present` (indices into opts.modalities) at
// random positions, one of them (chosen at random) at the first position and one at the
// last; counts[k]: how many of modality k (0 for one not present).
function batch(b, n, opts, next, present) {
  const ids = new BigInt64Array(b * n);
  const mods = opts.modalities;
  const counts = mods.map(() => 0);
  const pick = () => present[Math.floor(next() * present.length)];
  for (let i = 0; i < ids.length; i++) {
    let k = -1;
    if (i === 0 || i === ids.length - 1) k = pick();
    else if (next() < 0.3) k = pick();
    // Text ids never equal a token id (NAR's A is one past the table).
    let id = Math.floor(next() * opts.vocab);
    while (mods.some((m) => m.id === id)) id = (id + 1) % opts.vocab;
    if (k >= 0) counts[k]++;
    ids[i] = k >= 0 ? mods[k].big : BigInt(id);
  }
  return { ids, counts };
}

async function run(session, feeds) {
  const out = await session.run(feeds);
  return out[session.outputNames[0]];
}

function sameBits(a, b) {
  if (a.length !== b.length) return -2;
  const x = new Uint32Array(a.buffer, a.byteOffset, a.length);
  const y = new Uint32Array(b.buffer, b.byteOffset, b.length);
  for (let i = 0; i < x.length; i++) if (x[i] !== y[i]) return i;
  return -1;
}

async function checkGraph(splicePath, plainPath, opts) {
  const problems = [];
  for (const level of ['all', 'disabled']) {
    // logSeverityLevel 4: the mismatch runs are meant to fail, and ORT would log each.
    const so = { executionProviders: ['cpu'], graphOptimizationLevel: level, logSeverityLevel: 4 };
    const splice = await ort.InferenceSession.create(splicePath, so);
    const plain = await ort.InferenceSession.create(plainPath, so);
    try {
      const d = (await run(plain, { input_ids: new ort.Tensor('int64', new BigInt64Array([0n]), [1, 1]) })).dims[2];
      const next = rng(opts.seed);
      const feeds = (ids, shape, rows) => {
        const f = { input_ids: new ort.Tensor('int64', ids, shape) };
        opts.modalities.forEach((m, k) => { f[m.input] = new ort.Tensor('float32', rows[k], [rows[k].length / d, d]); });
        return f;
      };
      for (let k = 0; k < opts.batches; k++) {
        const b = 1 + Math.floor(next() * 3), n = 1 + Math.floor(next() * 9);
        // With two modalities every third batch holds only the first one's tokens and every
        // third only the second's (zero rows of the other: a prompt without images).
        const all = opts.modalities.map((_, j) => j);
        const present = all.length === 2 && k % 3 !== 0 ? [k % 3 - 1] : all;
        const { ids, counts } = batch(b, n, opts, next, present);
        const rows = counts.map((c) => featureRows(c, d, next));
        let got;
        try {
          got = await run(splice, feeds(ids, [b, n], rows));
        } catch (e) {
          problems.push(`${level}: batch ${k} [${b}, ${n}] with ${counts.join(' and ')} rows failed: ${e.message.split('\n')[0]}`);
          continue;
        }
        const isToken = (v) => opts.modalities.some((m) => m.big === v);
        const textIds = ids.map((v) => (isToken(v) ? 0n : v));
        const want = (await run(plain, { input_ids: new ort.Tensor('int64', textIds, [b, n]) })).data.slice();
        opts.modalities.forEach((m, j) => {
          let r = 0;
          for (let p = 0; p < ids.length; p++)
            if (ids[p] === m.big) want.set(rows[j].subarray(r * d, (r++ + 1) * d), p * d);
        });
        if (got.dims.join() !== [b, n, d].join()) problems.push(`${level}: output dims ${got.dims}`);
        const at = sameBits(got.data, want);
        if (at !== -1) problems.push(`${level}: batch ${k} [${b}, ${n}] differs from masked_scatter at value ${at}`);
        // Both directions of a count mismatch, for each modality, must fail the run; with
        // two modalities, so must one row moved from one to the other (the total right).
        const wrongCounts = [];
        counts.forEach((c, j) => { for (const m of [c - 1, c + 1]) wrongCounts.push(counts.map((x, i) => (i === j ? m : x))); });
        if (counts.length === 2) wrongCounts.push([counts[0] - 1, counts[1] + 1], [counts[0] + 1, counts[1] - 1]);
        for (const wc of wrongCounts) {
          if (wc.some((m) => m < 0)) continue;
          const wrong = wc.map((m, j) => (m === counts[j] ? rows[j] : featureRows(m, d, next)));
          let threw = false;
          try {
            await run(splice, feeds(ids, [b, n], wrong));
          } catch {
            threw = true;
          }
          if (!threw) {
            const said = opts.modalities.map((mod, j) => `${counts[j]} ${mod.name} tokens with ${wc[j]} ${mod.input} rows`);
            problems.push(`${level}: ${said.join(' and ')} ran without an error`);
          }
        }
      }
      // No token: exactly the plain graph.
      const ids = new BigInt64Array([0n, 1n, BigInt(opts.vocab - 1), 2n]).map((v) => {
        while (opts.modalities.some((m) => m.big === v)) v = (v + 1n) % BigInt(opts.vocab);
        return v;
      });
      const got = await run(splice, feeds(ids, [2, 2], opts.modalities.map(() => new Float32Array(0))));
      const want = await run(plain, { input_ids: new ort.Tensor('int64', ids, [2, 2]) });
      if (sameBits(got.data, want.data) !== -1) problems.push(`${level}: no token differs from the plain graph`);
    } finally {
      await splice.release();
      await plain.release();
    }
  }
  return problems;
}

async function main() {
  const opts = parseArgs(process.argv.slice(2));
  // "_audio.onnx" must not also pick "_image_audio.onnx".
  const others = ['_image_audio.onnx', '_image.onnx', '_audio.onnx'].filter((x) => x !== opts.suffix && x.endsWith(opts.suffix));
  const graphs = fs.readdirSync(opts.exportDir)
    .filter((f) => f.endsWith(opts.suffix) && !others.some((x) => f.endsWith(x))).sort();
  if (graphs.length === 0) fail(`${opts.exportDir}: no *${opts.suffix} to check`);
  let bad = 0;
  for (const g of graphs) {
    const plain = path.join(opts.exportDir, g.slice(0, -opts.suffix.length) + '.onnx');
    if (!fs.existsSync(plain)) { console.error(`check_splice: ${g}: no plain graph ${plain}`); bad++; continue; }
    if (fs.existsSync(path.join(opts.exportDir, `${g}_data`))) {
      console.error(`check_splice: ${g}: has a sidecar of its own (it must use its tier's)`); bad++;
    }
    const problems = await checkGraph(path.join(opts.exportDir, g), plain, opts);
    for (const p of problems) console.error(`check_splice: ${g}: ${p}`);
    bad += problems.length > 0;
    console.log(`check_splice: ${g}: ${problems.length ? 'FAILED' : 'ok'} (${opts.batches} batches x 2 optimisation levels, both mismatches fail per modality and across them, each modality alone, no token = plain)`);
  }
  process.exit(bad ? 1 : 0);
}

main().catch((e) => fail(e.stack || e.message));
