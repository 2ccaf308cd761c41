// int8: symmetric per-row codes and float32 scales (numerics/int8_quant.h). The graph
// dequantises only the gathered rows.
#include <cmath>
#include <cstring>

#include "numerics/int8_quant.h"
#include "numerics/simd.h"
#include "onnx/graph_util.h"
#include "tiers/tier_impl.h"

namespace embed2onnx {

void EncodeInt8(const float* rows, size_t n, size_t d, const TierParams&, uint8_t* const* outs) {
  int8_t* q = reinterpret_cast<int8_t*>(outs[0]);
  float* scales = reinterpret_cast<float*>(outs[1]);
  for (size_t r = 0; r < n; ++r) {
    scales[r] = Int8RowScale(rows + r * d, d);
    QuantizeRowInt8(rows + r * d, d, scales[r], q + r * d);
  }
}

E2O_AVX2_CLONES void DecodeInt8(const uint8_t* const* stored, size_t n, size_t d, const TierParams&,
                                float* out) {
  const int8_t* q = reinterpret_cast<const int8_t*>(stored[0]);
  const float* scales = reinterpret_cast<const float*>(stored[1]);
  for (size_t r = 0; r < n; ++r)
    for (size_t j = 0; j < d; ++j) out[r * d + j] = DequantizeInt8(q[r * d + j], scales[r]);
}

// DecodeInt8's product and the pass's fabs of the difference, without storing the
// decoded row in between.
E2O_AVX2_CLONES void AbsErrorsInt8(const uint8_t* const* stored, size_t n, size_t d, const TierParams&,
                                   const float* source, float* errs) {
  const int8_t* q = reinterpret_cast<const int8_t*>(stored[0]);
  const float* scales = reinterpret_cast<const float*>(stored[1]);
  for (size_t r = 0; r < n; ++r)
    for (size_t j = 0; j < d; ++j)
      errs[r * d + j] = std::fabs(DequantizeInt8(q[r * d + j], scales[r]) - source[r * d + j]);
}

// Rounding to the nearest code is off by at most half a step; the float32 division
// and product add a few ulps of the step on top.
void Int8RowBound(const uint8_t* const* stored_row, size_t d, const TierParams&, float* bound) {
  float s;
  std::memcpy(&s, stored_row[1], sizeof s);
  for (size_t j = 0; j < d; ++j) bound[j] = s * 0.5001f;
}

void BuildInt8Graph(int64_t, const TierParams& p, onnx::GraphProto* g) {
  SetIntAttr(AddNode(g, "Gather", {"embed_tokens.weight_int8", kInputName},
                     {"embed_tokens.weight_int8_gathered"}, "EmbedTokens_Gather_weight"),
             "axis", 0);
  SetIntAttr(AddNode(g, "Cast", {"embed_tokens.weight_int8_gathered"}, {"embed_tokens.weight_fp32_gathered"},
                     "EmbedTokens_Cast_int8_to_fp32"),
             "to", onnx::TensorProto::FLOAT);
  SetIntAttr(AddNode(g, "Gather", {"embed_tokens.scales", kInputName}, {"embed_tokens.scales_gathered"},
                     "EmbedTokens_Gather_scales"),
             "axis", 0);
  AddNode(g, "Unsqueeze", {"embed_tokens.scales_gathered", "EmbedTokens_unsqueeze_axes"},
          {"embed_tokens.scales_expanded"}, "EmbedTokens_Unsqueeze_scales");
  AddNode(g, "Mul", {"embed_tokens.weight_fp32_gathered", "embed_tokens.scales_expanded"},
          {Float32ResultName(p)}, "EmbedTokens_Mul");
  AddInt64Initializer(g, "EmbedTokens_unsqueeze_axes", {1}, {-1});
  FinishOutput(p, g);
}

}  // namespace embed2onnx
