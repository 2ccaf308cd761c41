#!/usr/bin/env node
// splice_session.mjs: what ONNX Runtime (Node, CPU) pays for a splice graph
// (<stem>_audio.onnx) against its tier's plain graph: session creation, the median of
// `runs` runs of [1, n] ids, and the process's peak RSS, each model in a fresh process,
// interleaved plain, splice, plain, ... `reps` times. The splice runs get `audio` of the
// n positions as audio tokens (and as many audio rows); the plain runs the same ids. A
// splice graph that takes image_features (<stem>_image.onnx, <stem>_image_audio.onnx)
// gets `image` image tokens in one run from position 1 (zero image rows by default); each
// model is fed only the inputs it has.
//
//   node bench/splice_session.mjs --plain P.onnx --splice P_audio.onnx --vocab V \
//        [--audio-token-id 100352] [--image-token-id I] [--n 512] [--audio 64] [--image 0] \
//        [--runs 200] [--reps 5]
//
// Prints one line per process, then one JSON line: medians per model and the
// splice/plain ratios (the target is <= 1.10 for time and peak RSS).
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import { createRequire } from 'node:module';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';

const require = createRequire(new URL('../tests/ort/package.json', import.meta.url));

function parseArgs(argv) {
  const o = { plain: null, splice: null, vocab: null, audioId: 100352, imageId: null, n: 512, audio: 64, image: 0, runs: 200, reps: 5, child: null, d: null };
  for (let i = 0; i < argv.length; i += 2) {
    const [k, v] = [argv[i], argv[i + 1]];
    if (v === undefined) fail(`${k} needs a value`);
    if (k === '--plain') o.plain = v;
    else if (k === '--splice') o.splice = v;
    else if (k === '--child') o.child = v;
    else if (k === '--vocab') o.vocab = Number(v);
    else if (k === '--audio-token-id') o.audioId = Number(v);
    else if (k === '--n') o.n = Number(v);
    else if (k === '--audio') o.audio = Number(v);
    else if (k === '--image-token-id') o.imageId = Number(v);
    else if (k === '--image') o.image = Number(v);
    else if (k === '--runs') o.runs = Number(v);
    else if (k === '--reps') o.reps = Number(v);
    else if (k === '--d') o.d = Number(v);  // set by the parent for its children
    else fail(`unknown argument '${k}'`);
  }
  if (!Number.isSafeInteger(o.vocab) || o.vocab <= 0) fail('--vocab V is required');
  if (!(o.audio >= 0 && o.image >= 0 && o.audio + o.image <= o.n)) fail('--audio and --image must be >= 0, their sum <= n');
  if (o.image > 0 && !Number.isSafeInteger(o.imageId)) fail('--image needs --image-token-id');
  if (o.imageId !== null && o.imageId === o.audioId) fail('--image-token-id is also --audio-token-id');
  if (!o.child && (!o.plain || !o.splice)) fail('--plain and --splice are required');
  return o;
}

function fail(msg) {
  console.error(`splice_session: ${msg}`);
  process.exit(2);
}

function hwmMiB() {
  const status = fs.readFileSync('/proc/self/status', 'utf8');
  return Number(status.match(/^VmHWM:\s+(\d+) kB/m)[1]) / 1024;
}

// The child: one model, fresh process.
async function child(o) {
  const ort = require('onnxruntime-node');
  const splice = o.child === o.splice;
  const t0 = performance.now();
  const session = await ort.InferenceSession.create(o.child, { executionProviders: ['cpu'] });
  const createMs = performance.now() - t0;
  // The same text ids for both models, none of them a token id; the splice run puts audio
  // at evenly spaced positions and its images in one run from position 1.
  const tokens = [o.audioId, o.imageId].filter((t) => t !== null);
  let x = 12345n;
  const ids = new BigInt64Array(o.n);
  for (let i = 0; i < o.n; i++) {
    x = (x * 6364136223846793005n + 1442695040888963407n) & 0xffffffffffffffffn;
    let id = Number((x >> 33n) % BigInt(o.vocab));
    while (tokens.includes(id)) id = (id + 1) % o.vocab;
    ids[i] = BigInt(id);
  }
  const takes = (name) => splice && session.inputNames.includes(name);
  const feeds = { input_ids: new ort.Tensor('int64', ids, [1, o.n]) };
  const rows = (m, v) => new Float32Array(m * o.d).fill(v);
  if (takes('audio_features')) {
    for (let k = 0; k < o.audio; k++) ids[Math.floor((k * o.n) / o.audio)] = BigInt(o.audioId);
    feeds.audio_features = new ort.Tensor('float32', rows(o.audio, 0.25), [o.audio, o.d]);
  }
  if (takes('image_features')) {
    for (let k = 0, p = 1; k < o.image; p++) {
      if (ids[p % o.n] === BigInt(o.audioId) && takes('audio_features')) continue;
      ids[p % o.n] = BigInt(o.imageId);
      k++;
    }
    feeds.image_features = new ort.Tensor('float32', rows(o.image, -0.5), [o.image, o.d]);
  }
  const times = [];
  for (let r = 0; r < o.runs; r++) {
    const t = performance.now();
    await session.run(feeds);
    times.push(performance.now() - t);
  }
  times.sort((a, b) => a - b);
  console.log(JSON.stringify({ model: o.child, splice, create_ms: createMs, run_median_ms: times[times.length >> 1], peak_rss_mib: hwmMiB() }));
}

const median = (v) => [...v].sort((a, b) => a - b)[v.length >> 1];

async function main() {
  const o = parseArgs(process.argv.slice(2));
  if (o.child) return child(o);
  // D from the plain graph, in this process (not measured).
  const ort = require('onnxruntime-node');
  const s = await ort.InferenceSession.create(o.plain, { executionProviders: ['cpu'] });
  const out = await s.run({ input_ids: new ort.Tensor('int64', new BigInt64Array([0n]), [1, 1]) });
  const d = out[s.outputNames[0]].dims[2];
  await s.release();
  const res = { plain: [], splice: [] };
  const self = fileURLToPath(import.meta.url);
  for (let rep = 0; rep < o.reps; rep++) {
    for (const which of ['plain', 'splice']) {
      const args = [self, '--child', o[which], '--plain', o.plain, '--splice', o.splice, '--vocab', String(o.vocab),
        '--audio-token-id', String(o.audioId), '--n', String(o.n), '--audio', String(o.audio), '--image', String(o.image),
        '--runs', String(o.runs), '--d', String(d)];
      if (o.imageId !== null) args.push('--image-token-id', String(o.imageId));
      const r = spawnSync(process.execPath, args, { encoding: 'utf8' });
      if (r.status !== 0) fail(`${which} run failed: ${r.stderr}`);
      const line = JSON.parse(r.stdout.trim().split('\n').pop());
      console.log(`rep ${rep + 1} ${which.padEnd(6)} create ${line.create_ms.toFixed(1)} ms  run ${line.run_median_ms.toFixed(3)} ms  peak ${line.peak_rss_mib.toFixed(1)} MiB`);
      res[which].push(line);
    }
  }
  const m = (which, key) => median(res[which].map((l) => l[key]));
  const summary = { n: o.n, audio: o.audio, image: o.image, runs: o.runs, reps: o.reps, d };
  for (const key of ['create_ms', 'run_median_ms', 'peak_rss_mib']) {
    summary[`plain_${key}`] = m('plain', key);
    summary[`splice_${key}`] = m('splice', key);
    summary[`ratio_${key}`] = m('splice', key) / m('plain', key);
  }
  console.log(JSON.stringify(summary));
}

main().catch((e) => fail(e.stack || e.message));
