#!/usr/bin/env node
// ort_session.mjs: what ONNX Runtime (Node, CPU) pays to use one embedding graph.
// Run it in a fresh process per model under `/usr/bin/time -f %M` for the peak RSS.
//
//   node bench/ort_session.mjs MODEL.onnx --vocab V [--n 512] [--runs 200] [--seed S]
//   node bench/ort_session.mjs MODEL.onnx --ids 0,1,262143 [--dump OUT.bin]
//   node bench/ort_session.mjs --baseline      (only loads onnxruntime-node)
//
// Prints one JSON line: session creation ms, the first run and the median/min of
// `runs` lookups of shape [1, n] (ids pseudo-random in [0, V), the same for every
// model; the first few dozen runs are slower while memory warms up, so the median
// needs a couple of hundred), and this process's resident memory after the session
// and after the runs, split into anonymous (what ORT copied or computed) and
// file-backed (mapped sidecar pages). --dump writes
// the output of the last run as little-endian float32 (row-major) for a row check.
import fs from 'node:fs';
import { createRequire } from 'node:module';
import { performance } from 'node:perf_hooks';

// onnxruntime-node lives in tests/ort/node_modules (installed by `make npm-deps`).
const require = createRequire(new URL('../tests/ort/package.json', import.meta.url));

const USAGE = 'usage: node ort_session.mjs MODEL.onnx (--vocab V [--n 512] | --ids a,b,c) [--runs 200] [--seed S] [--dump OUT.bin]\n' +
  '       node ort_session.mjs --baseline';

function parseArgs(argv) {
  const o = { model: null, vocab: null, n: 512, runs: 200, seed: 12345, ids: null, dump: null, baseline: false };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const next = () => {
      if (i + 1 >= argv.length) fail(`${a} needs a value`);
      return argv[++i];
    };
    if (a === '--baseline') o.baseline = true;
    else if (a === '--vocab') o.vocab = Number(next());
    else if (a === '--n') o.n = Number(next());
    else if (a === '--runs') o.runs = Number(next());
    else if (a === '--seed') o.seed = Number(next());
    else if (a === '--ids') o.ids = next().split(',').map(Number);
    else if (a === '--dump') o.dump = next();
    else if (a === '--help' || a === '-h') { console.log(USAGE); process.exit(0); }
    else if (!a.startsWith('--') && !o.model) o.model = a;
    else fail(`unknown argument '${a}'`);
  }
  if (o.baseline) return o;
  if (!o.model) fail('MODEL.onnx is required');
  if (!o.ids && !(Number.isSafeInteger(o.vocab) && o.vocab > 0)) fail('--vocab V (or --ids) is required');
  if (o.ids && !o.ids.every(Number.isSafeInteger)) fail('--ids must be integers');
  if (!(Number.isSafeInteger(o.n) && o.n > 0 && Number.isSafeInteger(o.runs) && o.runs > 0)) fail('--n and --runs must be positive integers');
  return o;
}

function fail(message) {
  console.error(`ort_session: ${message}\n${USAGE}`);
  process.exit(2);
}

const mib = (bytes) => Math.round((bytes / 1048576) * 10) / 10;

// Resident memory split into anonymous (copies ORT made) and file-backed (mapped
// sidecar pages), from /proc/self/status; null where there is no /proc.
function rssSplit() {
  try {
    const status = fs.readFileSync('/proc/self/status', 'utf8');
    const kib = (key) => Number((status.match(new RegExp(`^${key}:\\s+(\\d+) kB`, 'm')) || [])[1]);
    return { rss_mib: mib(kib('VmRSS') * 1024), anon_mib: mib(kib('RssAnon') * 1024), file_mib: mib(kib('RssFile') * 1024),
             hwm_mib: mib(kib('VmHWM') * 1024) };
  } catch {
    return null;
  }
}

// A fixed sequence of ids in [0, V): the same lookups for every model of a table.
function pseudoRandomIds(n, V, seed) {
  let x = BigInt(seed) & 0xffffffffffffffffn;
  const ids = new BigInt64Array(n);
  for (let i = 0; i < n; i++) {
    x = (x * 6364136223846793005n + 1442695040888963407n) & 0xffffffffffffffffn;
    ids[i] = (x >> 33n) % BigInt(V);
  }
  return ids;
}

function median(xs) {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

async function main() {
  const o = parseArgs(process.argv.slice(2));
  const t0 = performance.now();
  const ort = require('onnxruntime-node');
  const importMs = performance.now() - t0;
  if (o.baseline) {
    console.log(JSON.stringify({ baseline: true, ort_version: ort.env.versions?.common ?? null,
                                 import_ms: importMs, after_import: rssSplit() }));
    return;
  }

  const t1 = performance.now();
  const session = await ort.InferenceSession.create(o.model, { executionProviders: ['cpu'] });
  const sessionMs = performance.now() - t1;
  const afterSession = rssSplit();

  const ids = o.ids ? BigInt64Array.from(o.ids, BigInt) : pseudoRandomIds(o.n, o.vocab, o.seed);
  const input = new ort.Tensor('int64', ids, [1, ids.length]);
  const feeds = { [session.inputNames[0]]: input };
  const times = [];
  let out = null;
  for (let r = 0; r < o.runs; r++) {
    const t = performance.now();
    const result = await session.run(feeds);
    times.push(performance.now() - t);
    out = result[session.outputNames[0]];
  }
  if (o.dump) fs.writeFileSync(o.dump, Buffer.from(out.data.buffer, out.data.byteOffset, out.data.byteLength));
  const report = {
    model: o.model,
    session_ms: sessionMs,
    lookup: { shape: out.dims, type: out.type, runs: o.runs, first_ms: times[0], median_ms: median(times),
              min_ms: Math.min(...times) },
    after_session: afterSession,
    after_runs: rssSplit(),
  };
  await session.release();
  console.log(JSON.stringify(report));
}

main().catch((e) => {
  console.error(`ort_session: error: ${e.message}`);
  process.exit(1);
});
