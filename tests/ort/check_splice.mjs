#!/usr/bin/env node
// check_splice.mjs: judges the audio splice graphs of one export in ONNX Runtime (CPU),
// from SPEC §8 alone.
//
//   node check_splice.mjs --export-dir DIR --audio-token-id A --vocab V [--batches K] [--seed S]
//
// For every <stem>_audio.onnx beside its tier's <stem>.onnx, at the default optimisation
// level and with optimisations off:
//   - random batches (B x N, audio tokens at random positions, the first and the last
//     included) with audio rows holding -0.0, subnormals, +-inf and NaN: the splice output
//     must equal, bit for bit, the plain graph's output on where(ids == A, 0, ids) with the
//     rows at audio positions overwritten, in row-major order, by the audio rows
//     (transformers' masked_scatter);
//   - no audio token and zero audio rows: the output equals the plain graph's, bit for bit;
//   - one audio row too few and one too many: the run must fail.
// Prints one line per graph; exits 0 only if every check holds.
import fs from 'node:fs';
import path from 'node:path';
import ort from 'onnxruntime-node';

function parseArgs(argv) {
  const o = { exportDir: null, audio: null, vocab: null, batches: 6, seed: 7 };
  for (let i = 0; i < argv.length; i += 2) {
    const [k, v] = [argv[i], argv[i + 1]];
    if (v === undefined) fail(`${k} needs a value`, 2);
    if (k === '--export-dir') o.exportDir = v;
    else if (k === '--audio-token-id') o.audio = Number(v);
    else if (k === '--vocab') o.vocab = Number(v);
    else if (k === '--batches') o.batches = Number(v);
    else if (k === '--seed') o.seed = Number(v);
    else fail(`unknown argument '${k}'`, 2);
  }
  if (!o.exportDir || !Number.isSafeInteger(o.audio) || !Number.isSafeInteger(o.vocab))
    fail('--export-dir, --audio-token-id and --vocab are required', 2);
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

function audioRows(m, d, next) {
  const a = new Float32Array(m * d);
  for (let i = 0; i < a.length; i++) a[i] = next() < 0.3 ? SPECIAL[Math.floor(next() * SPECIAL.length)] : (next() - 0.5) * 4;
  return a;
}

function batch(b, n, opts, next) {
  const ids = new BigInt64Array(b * n);
  let count = 0;
  for (let i = 0; i < ids.length; i++) {
    const audio = i === 0 || i === ids.length - 1 || next() < 0.3;
    if (audio) count++;
    // Text ids never equal A (NAR's A is one past the table).
    let id = Math.floor(next() * opts.vocab);
    if (id === opts.audio) id = (id + 1) % opts.vocab;
    ids[i] = BigInt(audio ? opts.audio : id);
  }
  return { ids, count };
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
      for (let k = 0; k < opts.batches; k++) {
        const b = 1 + Math.floor(next() * 3), n = 1 + Math.floor(next() * 9);
        const { ids, count } = batch(b, n, opts, next);
        const audio = audioRows(count, d, next);
        const got = await run(splice, {
          input_ids: new ort.Tensor('int64', ids, [b, n]),
          audio_features: new ort.Tensor('float32', audio, [count, d]),
        });
        const textIds = ids.map((v) => (v === BigInt(opts.audio) ? 0n : v));
        const want = (await run(plain, { input_ids: new ort.Tensor('int64', textIds, [b, n]) })).data.slice();
        let r = 0;
        for (let p = 0; p < ids.length; p++)
          if (ids[p] === BigInt(opts.audio)) want.set(audio.subarray(r * d, (r++ + 1) * d), p * d);
        if (got.dims.join() !== [b, n, d].join()) problems.push(`${level}: output dims ${got.dims}`);
        const at = sameBits(got.data, want);
        if (at !== -1) problems.push(`${level}: batch ${k} [${b}, ${n}] differs from masked_scatter at value ${at}`);
        // Both directions of a count mismatch must fail the run.
        for (const m of [count - 1, count + 1]) {
          let threw = false;
          try {
            await run(splice, {
              input_ids: new ort.Tensor('int64', ids, [b, n]),
              audio_features: new ort.Tensor('float32', audioRows(m, d, next), [m, d]),
            });
          } catch {
            threw = true;
          }
          if (!threw) problems.push(`${level}: ${count} audio tokens with ${m} audio rows ran without an error`);
        }
      }
      // No audio: exactly the plain graph.
      const ids = new BigInt64Array([0n, 1n, BigInt(opts.vocab - 1), 2n]).map((v) => (v === BigInt(opts.audio) ? 3n : v));
      const got = await run(splice, {
        input_ids: new ort.Tensor('int64', ids, [2, 2]),
        audio_features: new ort.Tensor('float32', new Float32Array(0), [0, d]),
      });
      const want = await run(plain, { input_ids: new ort.Tensor('int64', ids, [2, 2]) });
      if (sameBits(got.data, want.data) !== -1) problems.push(`${level}: no audio differs from the plain graph`);
    } finally {
      await splice.release();
      await plain.release();
    }
  }
  return problems;
}

async function main() {
  const opts = parseArgs(process.argv.slice(2));
  const graphs = fs.readdirSync(opts.exportDir).filter((f) => f.endsWith('_audio.onnx')).sort();
  if (graphs.length === 0) fail(`${opts.exportDir}: no *_audio.onnx to check`);
  let bad = 0;
  for (const g of graphs) {
    const plain = path.join(opts.exportDir, g.replace(/_audio\.onnx$/, '.onnx'));
    if (!fs.existsSync(plain)) { console.error(`check_splice: ${g}: no plain graph ${plain}`); bad++; continue; }
    if (fs.existsSync(path.join(opts.exportDir, `${g}_data`))) {
      console.error(`check_splice: ${g}: has a sidecar of its own (it must use its tier's)`); bad++;
    }
    const problems = await checkGraph(path.join(opts.exportDir, g), plain, opts);
    for (const p of problems) console.error(`check_splice: ${g}: ${p}`);
    bad += problems.length > 0;
    console.log(`check_splice: ${g}: ${problems.length ? 'FAILED' : 'ok'} (${opts.batches} batches x 2 optimisation levels, both mismatches fail, no audio = plain)`);
  }
  process.exit(bad ? 1 : 0);
}

main().catch((e) => fail(e.stack || e.message));
