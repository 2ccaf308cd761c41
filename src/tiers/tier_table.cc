#include <array>
#include <string>
#include <vector>

#include "embed2onnx/tiers.h"
#include "tiers/tier_impl.h"

namespace embed2onnx {

namespace {
using TP = onnx::TensorProto;

// Rows in the default export order (also the order of --help and the report).
constexpr std::array<Tier, 5> kTiers = {{
    {
        .name = "fp32",
        .file_name = "embed_tokens.onnx",
        .graph_name = "embed_tokens_fp32",
        .summary = "float32 table, exact (4 bytes/value)",
        .num_streamed = 1,
        .streamed =
            {{.name = "embed_tokens.weight", .elem_type = TP::FLOAT, .elem_bytes = 4, .shape = RowShape::kD}},
        .encode = EncodeFp32,
        .decode = DecodeFp32,
        .build_graph = BuildFp32Graph,
        .exact_output = true,
    },
    {
        .name = "fp16w",
        .file_name = "embed_tokens_fp16w.onnx",
        .graph_name = "embed_tokens_fp16w",
        .summary = "float16 table, round-to-nearest-even, gathered then cast to float32 (2 bytes/value)",
        .num_streamed = 1,
        .streamed = {{.name = "embed_tokens.weight",
                      .elem_type = TP::FLOAT16,
                      .elem_bytes = 2,
                      .shape = RowShape::kD}},
        .encode = EncodeFp16w,
        .decode = DecodeFp16w,
        .build_graph = BuildFp16wGraph,
    },
    {
        .name = "bf16w",
        .file_name = "embed_tokens_bf16w.onnx",
        .graph_name = "embed_tokens_bf16w",
        .summary =
            "bfloat16 table, lossless for bf16 checkpoints, gathered then cast to float32 (2 bytes/value)",
        .num_streamed = 1,
        .streamed = {{.name = "embed_tokens.weight",
                      .elem_type = TP::BFLOAT16,
                      .elem_bytes = 2,
                      .shape = RowShape::kD}},
        .encode = EncodeBf16w,
        .decode = DecodeBf16w,
        .build_graph = BuildBf16wGraph,
    },
    {
        .name = "int8",
        .file_name = "embed_tokens_int8.onnx",
        .graph_name = "embed_tokens_int8",
        .summary = "int8 codes with a float32 scale per row, symmetric (1 byte/value + 4 bytes/row)",
        .num_streamed = 2,
        .streamed = {{.name = "embed_tokens.weight_int8",
                      .elem_type = TP::INT8,
                      .elem_bytes = 1,
                      .shape = RowShape::kD},
                     {.name = "embed_tokens.scales",
                      .elem_type = TP::FLOAT,
                      .elem_bytes = 4,
                      .shape = RowShape::kOne}},
        .encode = EncodeInt8,
        .decode = DecodeInt8,
        .build_graph = BuildInt8Graph,
        .stats_key = "int8_table_quant_stats",
        .row_bound = Int8RowBound,
        .abs_errors = AbsErrorsInt8,
    },
    {
        .name = "int4",
        .file_name = "embed_tokens_int4.onnx",
        .graph_name = "embed_tokens_int4",
        .summary = "4-bit codes on 16 fixed non-uniform levels, an 8-bit scale and an 8-bit offset per "
                   "block of --int4-block values (4.5 bits/value at 32)",
        .num_streamed = 3,
        .streamed = {{.name = "embed_tokens.weight_int4",
                      .elem_type = TP::UINT8,
                      .elem_bytes = 1,
                      .shape = RowShape::kInt4Codes},
                     {.name = "embed_tokens.scale_codes_int4",
                      .elem_type = TP::UINT8,
                      .elem_bytes = 1,
                      .shape = RowShape::kInt4Blocks},
                     {.name = "embed_tokens.offsets_int4",
                      .elem_type = TP::INT8,
                      .elem_bytes = 1,
                      .shape = RowShape::kInt4Blocks}},
        .encode = EncodeInt4,
        .decode = DecodeInt4,
        .build_graph = BuildInt4Graph,
        .check_params = CheckInt4Params,
        .stats_key = "int4_table_quant_stats",
        .report_cosine = true,
        .row_bound = Int4RowBound,
    },
}};

// Each row names exactly num_streamed initializers, and an exact tier claims no
// statistics. (That every row has the functions its kind needs is checked by
// tier_table_test: GCC's sanitizer builds cannot compare function addresses at
// compile time.)
constexpr bool RowsAreComplete() {
  for (const Tier& t : kTiers) {
    if (!t.name || !t.file_name || !t.graph_name || !t.summary) return false;
    if (t.num_streamed < 1 || t.num_streamed > kMaxStreamed) return false;
    for (int i = 0; i < kMaxStreamed; ++i)
      if ((t.streamed[i].name != nullptr) != (i < t.num_streamed)) return false;
    if (t.exact_output && t.stats_key) return false;
  }
  return true;
}
static_assert(RowsAreComplete(), "a tier row is missing a field its kind needs");

std::string CommonFilePrefix() {
  std::string prefix = kTiers[0].file_name;
  for (const Tier& t : kTiers) {
    size_t n = 0;
    while (n < prefix.size() && t.file_name[n] == prefix[n]) ++n;
    prefix.resize(n);
  }
  // "embed_tokens.onnx" and "embed_tokens_int8.onnx" share "embed_tokens": stop before
  // a separator so the prefix is a name, not "embed_tokens_" for a table without fp32.
  while (!prefix.empty() && (prefix.back() == '_' || prefix.back() == '.')) prefix.pop_back();
  return prefix;
}
}  // namespace

std::span<const Tier> AllTiers() { return kTiers; }

const Tier* FindTier(const std::string& name) {
  for (const Tier& t : kTiers)
    if (name == t.name) return &t;
  return nullptr;
}

const Tier* FindTierByFileName(const std::string& file_name) {
  for (const Tier& t : kTiers)
    if (file_name == t.file_name) return &t;
  return nullptr;
}

const std::string& TierFilePrefix() {
  static const std::string prefix = CommonFilePrefix();
  return prefix;
}

std::vector<int64_t> TierRowDims(const Tier& tier, int i, uint64_t d, const TierParams& p) {
  const auto dd = static_cast<int64_t>(d), block = static_cast<int64_t>(p.int4_block);
  switch (tier.streamed[i].shape) {
    case RowShape::kOne:
      return {};
    case RowShape::kD:
      return {dd};
    case RowShape::kHalfD:
      return {dd / 2};
    case RowShape::kBlocks:
      return {dd / block};
    case RowShape::kInt4Codes:
      return {block / 2, dd / block};
    case RowShape::kInt4Blocks:
      return {1, dd / block};
  }
  return {};
}

uint64_t TierRowElems(const Tier& tier, int i, uint64_t d, const TierParams& p) {
  uint64_t n = 1;
  for (int64_t k : TierRowDims(tier, i, d, p)) n *= static_cast<uint64_t>(k);
  return n;
}

uint64_t TierRowBytes(const Tier& tier, int i, uint64_t d, const TierParams& p) {
  return TierRowElems(tier, i, d, p) * tier.streamed[i].elem_bytes;
}

std::vector<std::string> TierNames() {
  std::vector<std::string> names;
  for (const Tier& t : kTiers) names.push_back(t.name);
  return names;
}

}  // namespace embed2onnx
