#!/usr/bin/env node
// int4_lookup.mjs: what one [1, 1] lookup costs in ONNX Runtime (Node, CPU) for the int4
// graph against fp16w's, interleaved in one process: `reps` rounds, each timing `runs`
// runs of every model in turn (median per round), with a fresh id per run.
//
//   node bench/int4_lookup.mjs --fp16w P_fp16w.onnx --int4 P_int4.onnx --vocab V [--reps 30] [--runs 200]
//
// Prints the medians over rounds in microseconds and the int4 / fp16w ratio (the target of
// docs/int4.md is <= 2), then one JSON line. One intra-op thread per session, so idle
// thread pools of the other session do not spin against the timed one.
import { createRequire } from 'node:module';
import { performance } from 'node:perf_hooks';

const require = createRequire(new URL('../tests/ort/package.json', import.meta.url));
const o = { fp16w: null, int4: null, vocab: 0, reps: 30, runs: 200 };
const argv = process.argv.slice(2);
for (let i = 0; i < argv.length; i += 2) {
  const k = argv[i].replace(/^--/, ''), v = argv[i + 1];
  if (!(k in o) || v === undefined) { console.error(`int4_lookup: bad argument '${argv[i]}'`); process.exit(2); }
  o[k] = k === 'fp16w' || k === 'int4' ? v : Number(v);
}
if (!o.fp16w || !o.int4 || !(o.vocab > 0)) { console.error('int4_lookup: --fp16w, --int4 and --vocab are required'); process.exit(2); }

const ort = require('onnxruntime-node');
const models = [['fp16w', o.fp16w], ['int4', o.int4]];
const sessions = [];
for (const [, f] of models) sessions.push(await ort.InferenceSession.create(f, { executionProviders: ['cpu'], intraOpNumThreads: 1 }));
const rounds = models.map(() => []);
const median = (a) => { const b = [...a].sort((x, y) => x - y); return b[b.length >> 1]; };
let id = 7;
for (let rep = 0; rep < o.reps; ++rep) {
  for (let k = 0; k < models.length; ++k) {
    const t = [];
    for (let r = 0; r < o.runs; ++r) {
      id = (id * 48271) % o.vocab;
      const feeds = { input_ids: new ort.Tensor('int64', BigInt64Array.from([BigInt(id)]), [1, 1]) };
      const t0 = performance.now();
      await sessions[k].run(feeds);
      t.push(performance.now() - t0);
    }
    rounds[k].push(median(t) * 1000);
  }
}
const us = rounds.map(median);
console.log(`[1, 1] lookup: fp16w ${us[0].toFixed(1)} us, int4 ${us[1].toFixed(1)} us, int4 / fp16w ${(us[1] / us[0]).toFixed(2)}x`);
console.log(JSON.stringify({ fp16w_us: us[0], int4_us: us[1], ratio: us[1] / us[0] }));
