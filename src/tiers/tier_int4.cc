// int4: 4-bit codes on 16 fixed non-uniform levels, an 8-bit scale code and an 8-bit
// offset code per block (numerics/int4_quant.h; docs/int4.md has the layout and why).
// Only ai.onnx opset-20 operators. The graph gathers each row as [block/2, nb] bytes
// (blocks are columns), splits the nibbles with BitwiseAnd and BitShift and joins them
// with Concat into [block, nb] codes, computes each code's level w * (w*w + 200) with
// w = code - 7.5, adds 16 x the gathered offsets, and multiplies by the scales looked up
// in a 255-entry table by the gathered scale codes; the [1, nb] rows of offsets and
// scales broadcast over the block's rows.
#include <string>

#include "numerics/int4_quant.h"
#include "onnx/graph_util.h"
#include "tiers/tier_impl.h"

namespace embed2onnx {

Status CheckInt4Params(uint64_t d, const TierParams& p) {
  if (p.int4_block < 2 || p.int4_block % 2 != 0 || p.int4_block > kInt4MaxBlock || d % p.int4_block != 0)
    return Status::InvalidArgument("--int4-block: " + std::to_string(p.int4_block) +
                                   " must be even, at most 256, and divide the table width " +
                                   std::to_string(d));
  return Status::Ok();
}

void EncodeInt4(const float* rows, size_t n, size_t d, const TierParams& p, uint8_t* const* outs) {
  const size_t nb = d / p.int4_block;
  auto* offsets = reinterpret_cast<int8_t*>(outs[2]);
  for (size_t r = 0; r < n; ++r)
    QuantizeRowInt4(rows + r * d, d, p.int4_block, outs[0] + r * d / 2, outs[1] + r * nb, offsets + r * nb);
}

void DecodeInt4(const uint8_t* const* stored, size_t n, size_t d, const TierParams& p, float* out) {
  const size_t nb = d / p.int4_block;
  auto* offsets = reinterpret_cast<const int8_t*>(stored[2]);
  for (size_t r = 0; r < n; ++r)
    DequantizeRowInt4(stored[0] + r * d / 2, stored[1] + r * nb, offsets + r * nb, d, p.int4_block,
                      out + r * d);
}

// The encoder keeps every value within kInt4BoundUnits scale units of its source (half the
// widest gap between levels, plus the final rounding); a block of zeros (scale 0) is exact.
void Int4RowBound(const uint8_t* const* stored_row, size_t d, const TierParams& p, float* bound) {
  const size_t nb = d / p.int4_block;
  for (size_t j = 0; j < d; ++j) bound[j] = Int4Scale(stored_row[1][j % nb]) * kInt4BoundUnits;
  // A block beyond the largest scale (|x| past about 2^18, never in real checkpoints)
  // saturates; verify reports it as out of bound.
}

void BuildInt4Graph(int64_t d, const TierParams& p, onnx::GraphProto* g) {
  SetIntAttr(AddNode(g, "Gather", {"embed_tokens.weight_int4", kInputName}, {"int4.packed"},
                     "EmbedTokens_Gather_int4"),
             "axis", 0);
  AddNode(g, "BitwiseAnd", {"int4.packed", "EmbedTokens_int4_low_mask"}, {"int4.low"},
          "EmbedTokens_Low_nibble");
  SetStringAttr(AddNode(g, "BitShift", {"int4.packed", "EmbedTokens_int4_shift"}, {"int4.high"},
                        "EmbedTokens_High_nibble"),
                "direction", "RIGHT");
  SetIntAttr(AddNode(g, "Concat", {"int4.low", "int4.high"}, {"int4.codes"}, "EmbedTokens_Concat_nibbles"),
             "axis", -2);
  SetIntAttr(AddNode(g, "Cast", {"int4.codes"}, {"int4.codes_f"}, "EmbedTokens_Cast_codes"), "to",
             onnx::TensorProto::FLOAT);
  // level = w * (w * w + 200), w = code - 7.5: every step exact.
  AddNode(g, "Sub", {"int4.codes_f", "EmbedTokens_int4_centre"}, {"int4.w"}, "EmbedTokens_Centre_codes");
  AddNode(g, "Mul", {"int4.w", "int4.w"}, {"int4.w2"}, "EmbedTokens_Square");
  AddNode(g, "Add", {"int4.w2", "EmbedTokens_int4_spread"}, {"int4.w2s"}, "EmbedTokens_Add_spread");
  AddNode(g, "Mul", {"int4.w", "int4.w2s"}, {"int4.levels"}, "EmbedTokens_Levels");

  SetIntAttr(AddNode(g, "Gather", {"embed_tokens.offsets_int4", kInputName}, {"int4.offsets"},
                     "EmbedTokens_Gather_offsets"),
             "axis", 0);
  SetIntAttr(AddNode(g, "Cast", {"int4.offsets"}, {"int4.offsets_f"}, "EmbedTokens_Cast_offsets"), "to",
             onnx::TensorProto::FLOAT);
  AddNode(g, "Mul", {"int4.offsets_f", "EmbedTokens_int4_offset_unit"}, {"int4.centres"},
          "EmbedTokens_Offset_units");
  AddNode(g, "Add", {"int4.levels", "int4.centres"}, {"int4.placed"}, "EmbedTokens_Add_offsets");

  SetIntAttr(AddNode(g, "Gather", {"embed_tokens.scale_codes_int4", kInputName}, {"int4.scale_codes"},
                     "EmbedTokens_Gather_scale_codes"),
             "axis", 0);
  SetIntAttr(AddNode(g, "Cast", {"int4.scale_codes"}, {"int4.scale_index"}, "EmbedTokens_Cast_scale_codes"),
             "to", onnx::TensorProto::INT32);
  SetIntAttr(AddNode(g, "Gather", {"EmbedTokens_int4_scale_table", "int4.scale_index"}, {"int4.scales"},
                     "EmbedTokens_Lookup_scales"),
             "axis", 0);
  AddNode(g, "Mul", {"int4.placed", "int4.scales"}, {"int4.values"}, "EmbedTokens_Mul_scales");
  AddNode(g, "Reshape", {"int4.values", "EmbedTokens_output_shape"}, {Float32ResultName(p)},
          "EmbedTokens_Reshape_output");

  AddInt64Initializer(g, "EmbedTokens_output_shape", {3}, {0, 0, d});
  AddRawInitializer(g, "EmbedTokens_int4_low_mask", onnx::TensorProto::UINT8, {}, std::string(1, '\x0f'));
  AddRawInitializer(g, "EmbedTokens_int4_shift", onnx::TensorProto::UINT8, {}, std::string(1, '\x04'));
  AddFloatInitializer(g, "EmbedTokens_int4_centre", {}, {7.5f});
  AddFloatInitializer(g, "EmbedTokens_int4_spread", {}, {kInt4LevelSpread});
  AddFloatInitializer(g, "EmbedTokens_int4_offset_unit", {}, {kInt4OffsetUnit});
  const float* table = Int4ScaleTable();
  AddFloatInitializer(g, "EmbedTokens_int4_scale_table", {kInt4ScaleCodes},
                      std::vector<float>(table, table + kInt4ScaleCodes));
  FinishOutput(p, g);
}

}  // namespace embed2onnx
