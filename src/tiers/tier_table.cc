#include <array>

#include "embed2onnx/tiers.h"
#include "tiers/tier_impl.h"

namespace embed2onnx {

namespace {
using TP = onnx::TensorProto;

const std::array<Tier, 5> kTiers = {{
    {"fp32",
     "embed_tokens.onnx",
     "embed_tokens_fp32",
     "float32 table, exact (4 bytes/value)",
     1,
     {{"embed_tokens.weight", TP::FLOAT, 4, RowShape::kD}},
     EncodeFp32,
     DecodeFp32,
     BuildFp32Graph,
     nullptr,
     false,
     nullptr,
     nullptr},
    {"fp16w",
     "embed_tokens_fp16w.onnx",
     "embed_tokens_fp16w",
     "float16 table, round-to-nearest-even, gathered then cast to float32 (2 bytes/value)",
     1,
     {{"embed_tokens.weight", TP::FLOAT16, 2, RowShape::kD}},
     EncodeFp16w,
     DecodeFp16w,
     BuildFp16wGraph,
     nullptr,
     false,
     nullptr,
     nullptr},
    {"bf16w",
     "embed_tokens_bf16w.onnx",
     "embed_tokens_bf16w",
     "bfloat16 table, lossless for bf16 checkpoints, gathered then cast to float32 (2 bytes/value)",
     1,
     {{"embed_tokens.weight", TP::BFLOAT16, 2, RowShape::kD}},
     EncodeBf16w,
     DecodeBf16w,
     BuildBf16wGraph,
     nullptr,
     false,
     nullptr,
     nullptr},
    {"int8",
     "embed_tokens_int8.onnx",
     "embed_tokens_int8",
     "int8 codes with a float32 scale per row, symmetric (1 byte/value + 4 bytes/row)",
     2,
     {{"embed_tokens.weight_int8", TP::INT8, 1, RowShape::kD},
      {"embed_tokens.scales", TP::FLOAT, 4, RowShape::kOne}},
     EncodeInt8,
     DecodeInt8,
     BuildInt8Graph,
     "int8_table_quant_stats",
     false,
     Int8RowBound,
     nullptr},
    {"int4",
     "embed_tokens_int4.onnx",
     "embed_tokens_int4",
     "4-bit codes per block of --int4-block values with an fp16 scale and a zero point (0.59 bytes/value at "
     "32)",
     3,
     {{"embed_tokens.weight_int4", TP::UINT8, 1, RowShape::kHalfD},
      {"embed_tokens.scales_int4", TP::FLOAT16, 2, RowShape::kBlocks},
      {"embed_tokens.zero_points_int4", TP::UINT8, 1, RowShape::kBlocks}},
     EncodeInt4,
     DecodeInt4,
     BuildInt4Graph,
     "int4_table_quant_stats",
     true,
     Int4RowBound,
     CheckInt4Params},
}};
}  // namespace

std::span<const Tier> AllTiers() { return kTiers; }

const Tier* FindTier(const std::string& name) {
  for (const Tier& t : kTiers)
    if (name == t.name) return &t;
  return nullptr;
}

uint64_t TierRowElems(const Tier& tier, int i, uint64_t d, const TierParams& p) {
  switch (tier.streamed[i].shape) {
    case RowShape::kOne:
      return 1;
    case RowShape::kD:
      return d;
    case RowShape::kHalfD:
      return d / 2;
    case RowShape::kBlocks:
      return d / p.int4_block;
  }
  return 0;
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
