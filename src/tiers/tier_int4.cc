// int4: blockwise asymmetric 4-bit codes, an fp16 scale and a uint8 zero point per
// block (numerics/int4_quant.h; docs/int4.md for why asymmetric). Only ai.onnx opset-20
// operators: the gathered bytes are split with BitwiseAnd and BitShift, joined with
// Concat, and dequantised with the gathered scales and zero points.
#include <string>

#include "numerics/half.h"
#include "numerics/int4_quant.h"
#include "onnx/graph_util.h"
#include "tiers/tier_impl.h"

namespace embed2onnx {

namespace {
constexpr Int4Mode kMode = Int4Mode::kAsymmetric;
}

Status CheckInt4Params(uint64_t d, const TierParams& p) {
  if (p.int4_block < 2 || p.int4_block % 2 != 0 || d % p.int4_block != 0)
    return Status::InvalidArgument("--int4-block: " + std::to_string(p.int4_block) +
                                   " must be even and divide the table width " + std::to_string(d));
  return Status::Ok();
}

void EncodeInt4(const float* rows, size_t n, size_t d, const TierParams& p, uint8_t* const* outs) {
  const size_t nb = d / p.int4_block;
  auto* scales = reinterpret_cast<uint16_t*>(outs[1]);
  for (size_t r = 0; r < n; ++r)
    QuantizeRowInt4(rows + r * d, d, p.int4_block, kMode, outs[0] + r * d / 2, scales + r * nb,
                    outs[2] + r * nb);
}

void DecodeInt4(const uint8_t* const* stored, size_t n, size_t d, const TierParams& p, float* out) {
  const size_t nb = d / p.int4_block;
  auto* scales = reinterpret_cast<const uint16_t*>(stored[1]);
  for (size_t r = 0; r < n; ++r)
    DequantizeRowInt4(stored[0] + r * d / 2, scales + r * nb, stored[2] + r * nb, d, p.int4_block, kMode,
                      out + r * d);
}

// Half a step per value, plus the slack of rounding the scale to fp16: relative (the
// block's extremes may sit up to 15 * 2^-11 steps outside the code range) and, for
// scales in fp16's subnormal range or rounded to 0, absolute (15 * 2^-25 < 2^-21).
void Int4RowBound(const uint8_t* const* stored_row, size_t d, const TierParams& p, float* bound) {
  auto* scales = reinterpret_cast<const uint16_t*>(stored_row[1]);
  const float kAbsoluteSlack = 1.0f / (1 << 21);
  for (size_t j = 0; j < d; ++j) bound[j] = HalfToFloat(scales[j / p.int4_block]) * 0.51f + kAbsoluteSlack;
  // Note: a block whose scale saturated at fp16's largest value (|x| beyond ~4.9e5,
  // never in real checkpoints) can be further off; verify reports it as out of bound.
}

void BuildInt4Graph(int64_t d, const TierParams& p, onnx::GraphProto* g) {
  const int64_t block = p.int4_block, nb = d / block;
  SetIntAttr(AddNode(g, "Gather", {"embed_tokens.weight_int4", kInputName}, {"int4.packed"},
                     "EmbedTokens_Gather_int4"),
             "axis", 0);
  AddNode(g, "Reshape", {"int4.packed", "EmbedTokens_int4_block_bytes_shape"}, {"int4.packed_blocks"},
          "EmbedTokens_Reshape_blocks");
  AddNode(g, "BitwiseAnd", {"int4.packed_blocks", "EmbedTokens_int4_low_mask"}, {"int4.low"},
          "EmbedTokens_Low_nibble");
  SetStringAttr(AddNode(g, "BitShift", {"int4.packed_blocks", "EmbedTokens_int4_shift"}, {"int4.high"},
                        "EmbedTokens_High_nibble"),
                "direction", "RIGHT");
  SetIntAttr(AddNode(g, "Concat", {"int4.low", "int4.high"}, {"int4.codes"}, "EmbedTokens_Concat_nibbles"),
             "axis", -1);
  SetIntAttr(AddNode(g, "Cast", {"int4.codes"}, {"int4.codes_f"}, "EmbedTokens_Cast_codes"), "to",
             onnx::TensorProto::FLOAT);
  SetIntAttr(AddNode(g, "Gather", {"embed_tokens.zero_points_int4", kInputName}, {"int4.zp"},
                     "EmbedTokens_Gather_zero_points"),
             "axis", 0);
  SetIntAttr(AddNode(g, "Cast", {"int4.zp"}, {"int4.zp_f"}, "EmbedTokens_Cast_zero_points"), "to",
             onnx::TensorProto::FLOAT);
  AddNode(g, "Unsqueeze", {"int4.zp_f", "EmbedTokens_unsqueeze_axes"}, {"int4.zp_x"},
          "EmbedTokens_Unsqueeze_zp");
  AddNode(g, "Sub", {"int4.codes_f", "int4.zp_x"}, {"int4.centered"}, "EmbedTokens_Sub_zero_points");
  SetIntAttr(AddNode(g, "Gather", {"embed_tokens.scales_int4", kInputName}, {"int4.scales"},
                     "EmbedTokens_Gather_scales"),
             "axis", 0);
  SetIntAttr(AddNode(g, "Cast", {"int4.scales"}, {"int4.scales_f"}, "EmbedTokens_Cast_scales"), "to",
             onnx::TensorProto::FLOAT);
  AddNode(g, "Unsqueeze", {"int4.scales_f", "EmbedTokens_unsqueeze_axes"}, {"int4.scales_x"},
          "EmbedTokens_Unsqueeze_scales");
  AddNode(g, "Mul", {"int4.centered", "int4.scales_x"}, {"int4.values"}, "EmbedTokens_Mul");
  AddNode(g, "Reshape", {"int4.values", "EmbedTokens_output_shape"}, {Float32ResultName(p)},
          "EmbedTokens_Reshape_output");

  AddInt64Initializer(g, "EmbedTokens_int4_block_bytes_shape", {4}, {0, 0, nb, block / 2});
  AddInt64Initializer(g, "EmbedTokens_output_shape", {3}, {0, 0, d});
  AddInt64Initializer(g, "EmbedTokens_unsqueeze_axes", {1}, {-1});
  AddRawInitializer(g, "EmbedTokens_int4_low_mask", onnx::TensorProto::UINT8, {}, std::string(1, '\x0f'));
  AddRawInitializer(g, "EmbedTokens_int4_shift", onnx::TensorProto::UINT8, {}, std::string(1, '\x04'));
  FinishOutput(p, g);
}

}  // namespace embed2onnx
