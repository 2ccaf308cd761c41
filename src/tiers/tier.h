// The tier table: one row per export precision. It drives `--tiers`, `--help`, the
// exporter (initializer layout, encoder, graph), the read-back check and the report, so
// adding a tier means adding one row and the file that holds its encoder and graph.
//
// A tier stores one or two "streamed" initializers whose bytes come row by row from the
// table (e.g. int8: the [V, D] codes and the [V] scales), plus small constant ones the
// graph builder adds itself.
#pragma once

#include <onnx/onnx_pb.h>

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>

namespace embed2onnx {

struct StreamedInitializer {
  const char* name;
  int32_t elem_type;    // onnx::TensorProto::DataType
  uint32_t elem_bytes;  // bytes per element
  bool per_row;         // true: shape [V] (one element per row); false: [V, D]
};

// Encodes `n` rows of `d` floats. outs[i] receives n * (per_row ? 1 : d) elements of
// streamed initializer i. Must be deterministic and thread-safe (pure).
using EncodeFn = void (*)(const float* rows, size_t n, size_t d, uint8_t* const* outs);

// For tiers with table statistics: the per-element |dequantised - source| of rows
// encoded into `outs`, written to errs[0 .. n*d).
using TableErrorsFn = void (*)(const float* rows, size_t n, size_t d, const uint8_t* const* outs, float* errs);

// Adds the tier's nodes and constant initializers (not the streamed ones, not the IO).
using BuildGraphFn = void (*)(int64_t d, onnx::GraphProto* g);

struct Tier {
  const char* name;        // the --tiers name, also the report key
  const char* file_name;   // e.g. "embed_tokens_int8.onnx"
  const char* graph_name;  // e.g. "embed_tokens_int8"
  const char* summary;     // one line for --help
  int num_streamed;
  StreamedInitializer streamed[2];
  EncodeFn encode;
  TableErrorsFn table_errors;  // nullptr: no table statistics
  const char* stats_key;       // report key for the table statistics, or nullptr
  BuildGraphFn build_graph;
};

// Every tier, in the default export order.
std::span<const Tier> AllTiers();
// nullptr when unknown.
const Tier* FindTier(const std::string& name);

// Bytes the streamed initializers of `tier` take per table row of width d.
uint64_t TierRowBytes(const Tier& tier, int i, uint64_t d);

}  // namespace embed2onnx
