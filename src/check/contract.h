// The graph contract every export must meet (SPEC §2), checked on a model read back
// from disk.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "embed2onnx/status.h"
#include "onnx/onnx_model.h"

namespace embed2onnx {

struct ContractOptions {
  int64_t hidden = 0;  // expected D of inputs_embeds; 0: any
  // Expected element type of inputs_embeds: FLOAT, or FLOAT16 for an export made with
  // --output-dtype float16 (what its report records).
  int32_t output_elem = onnx::TensorProto::FLOAT;
  // Our own layout rules on top of what ONNX Runtime needs: tensors of 1024 bytes or
  // more external at 64 KiB-aligned offsets, smaller ones inline. Exports made by other
  // tools (the original script) are checked without them.
  bool our_layout = true;
  // With our_layout: the one sidecar's file name, `<model file name>_data` (for a splice
  // graph, its tier's).
  std::string expected_location;
  // A splice graph (SPEC §8): after input_ids, one input <m>_features [num_<m>_tokens, D]
  // of the output's element type per modality m, in this order ({"audio"}, {"image"} or
  // {"image", "audio"}). Empty for a plain graph.
  std::vector<std::string> splice_modalities;
};

// Checks IR 10, a single ai.onnx opset 20 import, input_ids INT64 [B, N] (and for a
// splice graph its feature inputs), inputs_embeds of opts.output_elem [B, N, D], ai.onnx nodes
// only, and (our_layout) the external-data layout.
Status CheckLookupContract(const LoadedModel& model, const ContractOptions& opts);

}  // namespace embed2onnx
