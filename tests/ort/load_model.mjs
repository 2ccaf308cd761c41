#!/usr/bin/env node
// load_model.mjs: does ONNX Runtime (onnxruntime-node, CPU) load each given .onnx?
//
// Usage: node load_model.mjs MODEL...
// Prints one line per model, "<model>\taccept" or "<model>\trefuse\t<ORT's message, one line>",
// and exits 0 whatever ORT said: the caller compares the verdicts with its own. Session
// creation is what reads and checks external data, so nothing is run.

import ort from 'onnxruntime-node';

const models = process.argv.slice(2);
if (models.length === 0) {
  console.error('usage: node load_model.mjs MODEL...');
  process.exit(2);
}
for (const m of models) {
  try {
    const session = await ort.InferenceSession.create(m, { executionProviders: ['cpu'] });
    await session.release();
    console.log(`${m}\taccept`);
  } catch (e) {
    console.log(`${m}\trefuse\t${String(e && e.message ? e.message : e).replace(/\s+/g, ' ')}`);
  }
}
