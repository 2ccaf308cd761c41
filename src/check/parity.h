// Parity: run an exported graph (read back from disk) on sample ids and compare its
// output with the checkpoint's rows (SPEC §5).
#pragma once

#include <cstdint>
#include <vector>

#include "embed2onnx/checkpoint.h"
#include "embed2onnx/status.h"
#include "numerics/error_stats.h"
#include "onnx/onnx_model.h"

namespace embed2onnx {

// SPEC §5: [0, 1, 100, 1024, 50000, 100352, 100351, V-1], those < V, order kept.
std::vector<int64_t> SampleIds(uint64_t vocab);

struct ParityResult {
  std::vector<int64_t> shape;  // of the graph's output
  ErrorSummary error;          // of |output - W[ids]|
};

// Evaluates `model` on ids (shape [1, n]) and compares with the table rows, as float32.
Result<ParityResult> CheckParity(const LoadedModel& model, const TableReader& table,
                                 const std::vector<int64_t>& ids);

// Reads table rows `ids` as float32, n * cols values (ids must be in range).
Status ReadTableRows(const TableReader& table, const std::vector<int64_t>& ids, std::vector<float>* out);

}  // namespace embed2onnx
