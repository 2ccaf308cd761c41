// A small reference interpreter for lookup graphs, used to check what an export does
// without trusting the code that wrote it.
//
// It runs the nodes of a LoadedModel in order on an input_ids tensor. Supported ops
// (opset 20 semantics): Gather, Cast, Unsqueeze, Reshape, Concat, Mul, Add, Sub,
// BitShift, BitwiseAnd, and for the splice graphs Equal, Where, NonZero, Transpose, ScatterND
// (also Shape, Squeeze and Range, with which the splice checks' tests build broken graphs;
// BOOL where ONNX has it). A table-sized initializer is never loaded whole: Gather on axis 0
// reads only the rows it needs, and a Cast applied to a whole initializer (the original
// script's fp16w order) is applied to those rows only — the result is the same.
// Out-of-range ids are refused, as ONNX Runtime refuses them.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "embed2onnx/status.h"
#include "onnx/onnx_model.h"

namespace embed2onnx {

struct HostTensor {
  int32_t elem_type = 0;
  std::vector<int64_t> dims;
  std::vector<uint8_t> data;
  uint64_t count() const;
};

HostTensor MakeIdsTensor(const std::vector<int64_t>& ids, int64_t rows, int64_t cols);

// Runs the graph on `input_ids` (INT64) and returns the graph's single output.
Result<HostTensor> EvaluateLookup(const LoadedModel& model, const HostTensor& input_ids);

// Runs the graph on `inputs`, one per graph input in the graph's order, each of the type
// the graph declares (a splice graph: input_ids, then its feature rows).
Result<HostTensor> EvaluateGraph(const LoadedModel& model, const std::vector<HostTensor>& inputs);

}  // namespace embed2onnx
