// fp32: the table as float32, one Gather. Output is exact.
#include <cstring>

#include "onnx/graph_util.h"
#include "tiers/tier_impl.h"

namespace embed2onnx {

void EncodeFp32(const float* rows, size_t n, size_t d, const TierParams&, uint8_t* const* outs) {
  std::memcpy(outs[0], rows, n * d * sizeof(float));
}

void DecodeFp32(const uint8_t* const* stored, size_t n, size_t d, const TierParams&, float* out) {
  std::memcpy(out, stored[0], n * d * sizeof(float));
}

void BuildFp32Graph(int64_t, const TierParams& p, onnx::GraphProto* g) {
  SetIntAttr(
      AddNode(g, "Gather", {"embed_tokens.weight", kInputName}, {Float32ResultName(p)}, "EmbedTokens_Gather"),
      "axis", 0);
  FinishOutput(p, g);
}

}  // namespace embed2onnx
