// bf16w: the table as bfloat16. Lossless for bf16 checkpoints (Granite's) at half the
// fp32 size; f16/f32 sources are rounded to nearest, ties to even. Gather, then Cast.
#include "numerics/half.h"
#include "onnx/graph_util.h"
#include "tiers/tier_impl.h"

namespace embed2onnx {

void BuildGatherCastGraph(const char* cast_name, int32_t stored_elem, const TierParams& p,
                          onnx::GraphProto* g);

void EncodeBf16w(const float* rows, size_t n, size_t d, const TierParams&, uint8_t* const* outs) {
  FloatsToBf16(rows, reinterpret_cast<uint16_t*>(outs[0]), n * d);
}

void DecodeBf16w(const uint8_t* const* stored, size_t n, size_t d, const TierParams&, float* out) {
  Bf16sToFloat(reinterpret_cast<const uint16_t*>(stored[0]), out, n * d);
}

// With a float16 output: bf16 -> float32 is exact, so the one rounding is the final
// Cast's, as for every other tier.
void BuildBf16wGraph(int64_t, const TierParams& p, onnx::GraphProto* g) {
  BuildGatherCastGraph("EmbedTokens_Cast_bf16w", onnx::TensorProto::BFLOAT16, p, g);
}

}  // namespace embed2onnx
