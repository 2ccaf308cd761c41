#include <array>

#include "embed2onnx/tiers.h"
#include "tiers/tier_impl.h"

namespace embed2onnx {

namespace {
using TP = onnx::TensorProto;

const std::array<Tier, 3> kTiers = {{
    {"fp32", "embed_tokens.onnx", "embed_tokens_fp32", "float32 table, exact (4 bytes/value)", 1,
     {{"embed_tokens.weight", TP::FLOAT, 4, false}, {}}, EncodeFp32, nullptr, nullptr, BuildFp32Graph},
    {"fp16w", "embed_tokens_fp16w.onnx", "embed_tokens_fp16w",
     "float16 table, round-to-nearest-even, gathered then cast to float32 (2 bytes/value)", 1,
     {{"embed_tokens.weight", TP::FLOAT16, 2, false}, {}}, EncodeFp16w, nullptr, nullptr, BuildFp16wGraph},
    {"int8", "embed_tokens_int8.onnx", "embed_tokens_int8",
     "int8 codes with a float32 scale per row, symmetric (1 byte/value + 4 bytes/row)", 2,
     {{"embed_tokens.weight_int8", TP::INT8, 1, false}, {"embed_tokens.scales", TP::FLOAT, 4, true}}, EncodeInt8,
     Int8TableErrors, "int8_table_quant_stats", BuildInt8Graph},
}};
}  // namespace

std::span<const Tier> AllTiers() { return kTiers; }

const Tier* FindTier(const std::string& name) {
  for (const Tier& t : kTiers)
    if (name == t.name) return &t;
  return nullptr;
}

uint64_t TierRowBytes(const Tier& tier, int i, uint64_t d) {
  const StreamedInitializer& s = tier.streamed[i];
  return static_cast<uint64_t>(s.elem_bytes) * (s.per_row ? 1 : d);
}

std::vector<std::string> TierNames() {
  std::vector<std::string> names;
  for (const Tier& t : kTiers) names.push_back(t.name);
  return names;
}

}  // namespace embed2onnx
