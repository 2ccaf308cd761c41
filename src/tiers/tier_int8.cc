// int8: symmetric per-row codes and float32 scales (numerics/int8_quant.h). The graph
// dequantises only the gathered rows.
#include <cmath>

#include "numerics/int8_quant.h"
#include "onnx/graph_util.h"
#include "tiers/tier_impl.h"

namespace embed2onnx {

void EncodeInt8(const float* rows, size_t n, size_t d, uint8_t* const* outs) {
  int8_t* q = reinterpret_cast<int8_t*>(outs[0]);
  float* scales = reinterpret_cast<float*>(outs[1]);
  for (size_t r = 0; r < n; ++r) {
    scales[r] = Int8RowScale(rows + r * d, d);
    QuantizeRowInt8(rows + r * d, d, scales[r], q + r * d);
  }
}

void Int8TableErrors(const float* rows, size_t n, size_t d, const uint8_t* const* outs, float* errs) {
  const int8_t* q = reinterpret_cast<const int8_t*>(outs[0]);
  const float* scales = reinterpret_cast<const float*>(outs[1]);
  for (size_t r = 0; r < n; ++r)
    for (size_t j = 0; j < d; ++j) {
      size_t i = r * d + j;
      errs[i] = std::fabs(DequantizeInt8(q[i], scales[r]) - rows[i]);
    }
}

void BuildInt8Graph(int64_t /*d*/, onnx::GraphProto* g) {
  SetIntAttr(AddNode(g, "Gather", {"embed_tokens.weight_int8", kInputName}, {"embed_tokens.weight_int8_gathered"},
                     "EmbedTokens_Gather_weight"),
             "axis", 0);
  SetIntAttr(AddNode(g, "Cast", {"embed_tokens.weight_int8_gathered"}, {"embed_tokens.weight_fp32_gathered"},
                     "EmbedTokens_Cast_int8_to_fp32"),
             "to", onnx::TensorProto::FLOAT);
  SetIntAttr(AddNode(g, "Gather", {"embed_tokens.scales", kInputName}, {"embed_tokens.scales_gathered"},
                     "EmbedTokens_Gather_scales"),
             "axis", 0);
  AddNode(g, "Unsqueeze", {"embed_tokens.scales_gathered", "EmbedTokens_unsqueeze_axes"},
          {"embed_tokens.scales_expanded"}, "EmbedTokens_Unsqueeze_scales");
  AddNode(g, "Mul", {"embed_tokens.weight_fp32_gathered", "embed_tokens.scales_expanded"}, {kOutputName},
          "EmbedTokens_Mul");
  AddInt64Initializer(g, "EmbedTokens_unsqueeze_axes", {1}, {-1});
}

}  // namespace embed2onnx
