// fp16w: the table rounded to IEEE fp16 (nearest, ties to even). The graph gathers the
// fp16 rows first and casts only them: casting the initializer first (the original
// script's order) makes ONNX Runtime constant-fold a full fp32 copy at session load.
#include "numerics/half.h"
#include "onnx/graph_util.h"
#include "tiers/tier_impl.h"

namespace embed2onnx {

void EncodeFp16w(const float* rows, size_t n, size_t d, const TierParams&, uint8_t* const* outs) {
  FloatsToHalf(rows, reinterpret_cast<uint16_t*>(outs[0]), n * d);
}

void DecodeFp16w(const uint8_t* const* stored, size_t n, size_t d, const TierParams&, float* out) {
  HalfsToFloat(reinterpret_cast<const uint16_t*>(stored[0]), out, n * d);
}

// Gather then Cast to FLOAT: shared by every tier that stores the table in a 16-bit
// float type. When the output is that type itself (fp16w with a float16 output), the
// gathered rows are the output and no Cast is needed.
void BuildGatherCastGraph(const char* cast_name, int32_t stored_elem, const TierParams& p,
                          onnx::GraphProto* g) {
  if (p.output_elem == stored_elem) {
    SetIntAttr(AddNode(g, "Gather", {"embed_tokens.weight", kInputName}, {kOutputName}, "EmbedTokens_Gather"),
               "axis", 0);
    DeclareOutputType(p, g);
    return;
  }
  SetIntAttr(AddNode(g, "Gather", {"embed_tokens.weight", kInputName}, {"embed_tokens.weight_gathered"},
                     "EmbedTokens_Gather"),
             "axis", 0);
  SetIntAttr(AddNode(g, "Cast", {"embed_tokens.weight_gathered"}, {Float32ResultName(p)}, cast_name), "to",
             onnx::TensorProto::FLOAT);
  FinishOutput(p, g);
}

void BuildFp16wGraph(int64_t, const TierParams& p, onnx::GraphProto* g) {
  BuildGatherCastGraph("EmbedTokens_Cast_fp16w", onnx::TensorProto::FLOAT16, p, g);
}

}  // namespace embed2onnx
