// Blockwise 4-bit quantisation of table rows, two codes per byte.
//
// Each row of width d is cut into blocks of `block` values (block is even and divides
// d). Per block, a float16 scale s (and, asymmetric, a uint8 zero point z in [0, 15])
// and one 4-bit code per value. Within a block's block/2 bytes, byte k holds value k in
// its low nibble and value k + block/2 in its high nibble (ggml's Q4 layout), so the
// graph unpacks a block with one mask, one shift and one Concat. Dequantised value: (float(code) - float(z))
// * float(s), with z = 8 in the symmetric mode (codes -8..7 stored offset by 8). The scale is rounded to fp16
// first and the codes are computed against the rounded scale, so what the graph computes is what was
// optimised. docs/int4.md explains the choice of mode.
#pragma once

#include <cstddef>
#include <cstdint>

namespace embed2onnx {

enum class Int4Mode { kSymmetric, kAsymmetric };

// Quantises one row. packed: d/2 bytes; scales: d/block fp16; zero_points: d/block
// bytes (asymmetric only; nullptr for symmetric).
void QuantizeRowInt4(const float* row, size_t d, size_t block, Int4Mode mode, uint8_t* packed,
                     uint16_t* scales, uint8_t* zero_points);
// The same without vector instructions (QuantizeRowInt4 uses AVX2 where the CPU has it);
// tests check both give the same bytes.
void QuantizeRowInt4Portable(const float* row, size_t d, size_t block, Int4Mode mode, uint8_t* packed,
                             uint16_t* scales, uint8_t* zero_points);

// The values the int4 graph outputs for that row.
void DequantizeRowInt4(const uint8_t* packed, const uint16_t* scales, const uint8_t* zero_points, size_t d,
                       size_t block, Int4Mode mode, float* out);

}  // namespace embed2onnx
