// The tier table: one row per export precision. It drives `--tiers`, `--help`, the
// exporter (initializer layout, encoder, graph), `verify` (decoder, error bound), and
// the report, so adding a tier means adding one row and the file that holds its
// encoder, decoder and graph.
//
// A tier stores one to three "streamed" initializers whose bytes come row by row from
// the table (e.g. int8: the [V, D] codes and the [V] scales), plus small constant ones
// the graph builder adds itself.
#pragma once

#include <onnx/onnx_pb.h>

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>

#include "embed2onnx/status.h"

namespace embed2onnx {

// Settings some tiers take from the command line.
struct TierParams {
  uint32_t int4_block = 32;
};

// Elements per table row of a streamed initializer.
enum class RowShape {
  kOne,     // shape [V]
  kD,       // shape [V, D]
  kHalfD,   // shape [V, D/2]: two 4-bit codes per byte
  kBlocks,  // shape [V, D/block]
};

struct StreamedInitializer {
  const char* name;
  int32_t elem_type;    // onnx::TensorProto::DataType
  uint32_t elem_bytes;  // bytes per element
  RowShape shape;
};

inline constexpr int kMaxStreamed = 3;

// Encodes `n` rows of `d` floats. outs[i] receives n rows of streamed initializer i.
// Must be deterministic and thread-safe (pure).
using EncodeFn = void (*)(const float* rows, size_t n, size_t d, const TierParams& p, uint8_t* const* outs);

// Decodes n stored rows back to the float32 values the tier's graph outputs for them.
using DecodeFn = void (*)(const uint8_t* const* stored, size_t n, size_t d, const TierParams& p, float* out);

// Adds the tier's nodes and constant initializers (not the streamed ones, not the IO).
using BuildGraphFn = void (*)(int64_t d, const TierParams& p, onnx::GraphProto* g);

// Per-element bound on |decoded - source| for one stored row (quantised tiers);
// `bound` receives d values.
using RowBoundFn = void (*)(const uint8_t* const* stored_row, size_t d, const TierParams& p, float* bound);

// Checks the tier's parameters against the table width (e.g. the int4 block divides D).
using CheckParamsFn = Status (*)(uint64_t d, const TierParams& p);

struct Tier {
  const char* name;        // the --tiers name, also the report key
  const char* file_name;   // e.g. "embed_tokens_int8.onnx"
  const char* graph_name;  // e.g. "embed_tokens_int8"
  const char* summary;     // one line for --help
  int num_streamed;
  StreamedInitializer streamed[kMaxStreamed];
  EncodeFn encode;
  DecodeFn decode;
  BuildGraphFn build_graph;
  // Quantised tiers: the report key of their whole-table statistics, whether the
  // statistics include the mean row cosine similarity, and their error bound. Exact
  // tiers (nullptr stats_key) must store exactly encode(source).
  const char* stats_key;
  bool report_cosine;
  RowBoundFn row_bound;
  CheckParamsFn check_params;  // nullptr: no parameters
};

// Every tier, in the default export order.
std::span<const Tier> AllTiers();
// nullptr when unknown.
const Tier* FindTier(const std::string& name);

// Elements and bytes per table row of streamed initializer i.
uint64_t TierRowElems(const Tier& tier, int i, uint64_t d, const TierParams& p);
uint64_t TierRowBytes(const Tier& tier, int i, uint64_t d, const TierParams& p);

}  // namespace embed2onnx
