// Symmetric per-row int8 quantisation, bit-exact with the numpy of SPEC §4:
//   absmax = max(max_j |w_j|, float32(1e-12));  s = absmax / 127.0f
//   q_j = clip(round_half_even(w_j / s), -127, 127)   (a true float32 division)
//   dequantised w'_j = float32(q_j) * s
// The build uses -fno-fast-math -ffp-contract=off so the compiler keeps each operation
// as written.
#pragma once

#include <cstddef>
#include <cstdint>

namespace embed2onnx {

// float32(1e-12), the floor numpy applies to a row's absmax.
inline constexpr float kInt8AbsmaxFloor = 1e-12f;

// Returns the row's scale s.
float Int8RowScale(const float* row, size_t n);

// Quantises one row with scale `s` (from Int8RowScale) into q[0..n).
void QuantizeRowInt8(const float* row, size_t n, float s, int8_t* q);

// The same without vector instructions: the reference the AVX2 path is tested against.
float Int8RowScalePortable(const float* row, size_t n);
void QuantizeRowInt8Portable(const float* row, size_t n, float s, int8_t* q);
// True when the AVX2 path is taken on this CPU.
bool HaveAvx2();

// float32(q) * s, the value the int8 graph outputs.
inline float DequantizeInt8(int8_t q, float s) { return static_cast<float>(q) * s; }

}  // namespace embed2onnx
