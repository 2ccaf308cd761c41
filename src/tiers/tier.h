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
#include <vector>

#include "embed2onnx/status.h"

namespace embed2onnx {

// Settings some tiers take from the command line.
struct TierParams {
  uint32_t int4_block = 32;
  // The element type of the graph's inputs_embeds: FLOAT, or FLOAT16 for fp16 LLM bundles
  // (onnx::TensorProto::DataType). Encoders and decoders ignore it: what a tier stores and
  // its float32 result stay the same; the graph rounds that result once at the end.
  int32_t output_elem = onnx::TensorProto::FLOAT;
};

// The --output-dtype names ("float32", "float16") and their ONNX element types; 0 and
// nullptr for names and types that are neither.
int32_t OutputElemFromName(const std::string& name);
const char* OutputDTypeName(int32_t output_elem);

// Elements per table row of a streamed initializer.
enum class RowShape {
  kOne,     // shape [V]
  kD,       // shape [V, D]
  kHalfD,   // shape [V, D/2]: two 4-bit codes per byte
  kBlocks,  // shape [V, D/block]
  // int4 (numerics/int4_quant.h): a row viewed as [block, D/block], blocks as columns.
  kInt4Codes,   // shape [V, block/2, D/block]: two 4-bit codes per byte
  kInt4Blocks,  // shape [V, 1, D/block]: one byte per block
};

struct StreamedInitializer {
  const char* name = nullptr;
  int32_t elem_type = 0;    // onnx::TensorProto::DataType
  uint32_t elem_bytes = 0;  // bytes per element
  RowShape shape = RowShape::kD;
};

inline constexpr int kMaxStreamed = 3;

// Encodes `n` rows of `d` floats. outs[i] receives n rows of streamed initializer i.
// Must be deterministic and thread-safe (pure).
using EncodeFn = void (*)(const float* rows, size_t n, size_t d, const TierParams& p, uint8_t* const* outs);

// Decodes n stored rows back to the float32 values the tier's graph outputs for them.
using DecodeFn = void (*)(const uint8_t* const* stored, size_t n, size_t d, const TierParams& p, float* out);

// |decode(stored) - source| for n rows, as decode followed by float32 fabs of the
// difference would give it, in one sweep (quantised tiers, optional).
using AbsErrorsFn = void (*)(const uint8_t* const* stored, size_t n, size_t d, const TierParams& p,
                             const float* source, float* errs);

// Adds the tier's nodes and constant initializers (not the streamed ones, not the IO).
using BuildGraphFn = void (*)(int64_t d, const TierParams& p, onnx::GraphProto* g);

// Per-element bound on |decoded - source| for one stored row (quantised tiers);
// `bound` receives d values.
using RowBoundFn = void (*)(const uint8_t* const* stored_row, size_t d, const TierParams& p, float* bound);

// Checks the tier's parameters against the table width (e.g. the int4 block divides D).
using CheckParamsFn = Status (*)(uint64_t d, const TierParams& p);

// One row of the tier table. Rows are written with designated initializers; a field a
// row leaves out keeps the default given here, which is what a tier without that
// feature needs.
struct Tier {
  // Names.
  const char* name = nullptr;        // the --tiers name, also the report key
  const char* file_name = nullptr;   // e.g. "embed_tokens_int8.onnx"
  const char* graph_name = nullptr;  // e.g. "embed_tokens_int8"
  const char* summary = nullptr;     // one line for --help

  // What the .onnx stores, row by row.
  int num_streamed = 0;
  StreamedInitializer streamed[kMaxStreamed] = {};

  // How the rows are made, read back, and looked up.
  EncodeFn encode = nullptr;
  DecodeFn decode = nullptr;
  BuildGraphFn build_graph = nullptr;
  CheckParamsFn check_params = nullptr;  // nullptr: the tier takes no parameters

  // What verification may expect of the tier's output.
  // true: the graph outputs the source table itself, bit for bit; any difference in
  // the read-back is a bug, not rounding.
  bool exact_output = false;
  // Quantised tiers: the report key of their whole-table statistics, whether the
  // statistics include the mean row cosine similarity, and their error bound. Tiers
  // without a stats_key must store exactly encode(source).
  const char* stats_key = nullptr;
  bool report_cosine = false;
  RowBoundFn row_bound = nullptr;
  // Where given, the whole-table pass takes the errors from it instead of decoding them
  // first, unless it needs the decoded rows for their cosine.
  AbsErrorsFn abs_errors = nullptr;
};

// Every tier, in the default export order.
std::span<const Tier> AllTiers();
// nullptr when unknown.
const Tier* FindTier(const std::string& name);
// The tier whose .onnx is called `file_name` ("embed_tokens_int8.onnx"); nullptr for none.
const Tier* FindTierByFileName(const std::string& file_name);
// What every tier's file name starts with ("embed_tokens"): the longest common prefix
// of the table's file names, so a folder listing can pick out tier files without a
// name written twice.
const std::string& TierFilePrefix();

// The dimensions after V of streamed initializer i (empty for shape [V]).
std::vector<int64_t> TierRowDims(const Tier& tier, int i, uint64_t d, const TierParams& p);
// Elements and bytes per table row of streamed initializer i.
uint64_t TierRowElems(const Tier& tier, int i, uint64_t d, const TierParams& p);
uint64_t TierRowBytes(const Tier& tier, int i, uint64_t d, const TierParams& p);

}  // namespace embed2onnx
