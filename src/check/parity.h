// The graph itself, read back from disk and run by the reference interpreter on ids:
// its output must be, bit for bit, the tier's decoding of the rows it stores (so what the
// table checks proved about the stored bytes holds for what the graph outputs); with the
// source rows, the parity figures of SPEC §5 are |output - W[ids]|. export runs it on the
// sample ids, verify on those and --random ids, in bounded batches.
#pragma once

#include <cstdint>
#include <vector>

#include "embed2onnx/figures.h"
#include "embed2onnx/status.h"
#include "onnx/onnx_model.h"
#include "stream/stored_rows.h"

namespace embed2onnx {

// SPEC §5: [0, 1, 100, 1024, 50000, 100352, 100351, V-1], those < V, order kept.
std::vector<int64_t> SampleIds(uint64_t vocab);

// Evaluates `model` on `ids` (shape [1, n], each in range) and compares its output with
// the decoding of the stored rows: Mismatch naming the file and the first id that
// differs. With `source` (ids.size() * cols float32 values, the table's rows at `ids`),
// `parity` receives the figures of |output - source| and `shape` the output's shape.
Status CheckGraphOnIds(const LoadedModel& model, const StoredTier& st, const std::vector<int64_t>& ids,
                       const float* source = nullptr, ErrorFigures* parity = nullptr,
                       std::vector<int64_t>* shape = nullptr, NumpyRules rules = kDefaultNumpyRules);

}  // namespace embed2onnx
