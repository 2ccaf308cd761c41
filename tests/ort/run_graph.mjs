#!/usr/bin/env node
// run_graph.mjs: runs one embedding graph in ONNX Runtime (CPU) and writes the raw output.
//   node run_graph.mjs MODEL.onnx IDS_JSON OUT.bin
// IDS_JSON is a JSON array of token ids: flat ([1, 2, 3] runs as shape [1, n]) or nested
// ([[1, 2], [3, 4]] runs as shape [B, N]). OUT.bin receives the `inputs_embeds` values as
// little-endian float32, row-major; the output shape is printed on stdout.
import fs from 'node:fs';
import os from 'node:os';
import ort from 'onnxruntime-node';

function parseIds(text) {
  const ids = JSON.parse(text);
  if (!Array.isArray(ids)) throw new Error('IDS_JSON must be a JSON array');
  const rows = ids.length > 0 && Array.isArray(ids[0]) ? ids : [ids];
  const n = rows[0].length;
  for (const row of rows) {
    if (!Array.isArray(row) || row.length !== n) throw new Error('IDS_JSON rows must all have the same length');
    for (const id of row) if (!Number.isSafeInteger(id)) throw new Error(`id ${JSON.stringify(id)} is not an integer`);
  }
  return { flat: rows.flat(), dims: [rows.length, n] };
}

async function main() {
  const args = process.argv.slice(2);
  if (args.length !== 3) {
    console.error('usage: node run_graph.mjs MODEL.onnx IDS_JSON OUT.bin  (IDS_JSON: a JSON text or a file holding one)');
    process.exit(2);
  }
  const [modelPath, idsArg, outPath] = args;
  if (os.endianness() !== 'LE') throw new Error('this helper assumes a little-endian host');
  const { flat, dims } = parseIds(fs.existsSync(idsArg) ? fs.readFileSync(idsArg, 'utf8') : idsArg);
  const session = await ort.InferenceSession.create(modelPath, { executionProviders: ['cpu'] });
  try {
    const input = new ort.Tensor('int64', BigInt64Array.from(flat, (i) => BigInt(i)), dims);
    const result = await session.run({ [session.inputNames[0]]: input });
    const out = result[session.outputNames[0]];
    if (out.type !== 'float32') throw new Error(`output type is ${out.type}, expected float32`);
    fs.writeFileSync(outPath, Buffer.from(out.data.buffer, out.data.byteOffset, out.data.byteLength));
    console.log(JSON.stringify({ shape: out.dims }));
  } finally {
    await session.release();
  }
}

main().catch((e) => {
  console.error(`run_graph: error: ${e.message}`);
  process.exit(1);
});
