// 4-bit quantisation of table rows: 16 fixed non-uniform levels, and per block an 8-bit
// scale code and an 8-bit offset code, 4.5 bits per value at block 32 (docs/int4.md has
// the layout, the search and the measurements).
//
// A row of width d is cut into nb = d / block blocks (block is even and divides d).
// Blocks are strided: value j belongs to block j % nb, at position j / nb, so the graph
// views a row as a [block, nb] matrix whose columns share a scale and an offset, and a
// [1, nb] row of scales broadcasts over it.
//
// The value of code q in block b:  (Level(q) + 16 * offset[b]) * Scale(scale_code[b]),
// each step one float32 operation, the sum exact, so one rounding in all.
//   Level(q) = w * (200 + w * w), w = q - 7.5: a uniform grid whose outer steps widen
//     (200 in the middle, 347 at the ends), the shape that suits a block's heavy tails;
//   Scale(0) = 0; Scale(a) for a in 1..254 = 2^e(a): e steps by 1/16 octave over the 224
//     codes 16..239 (e = -22 .. -8.06, block half-ranges of about 2^-11 .. 7), and by one
//     octave over the 15 codes below and above (down to 2^-37, up to 2^6);
//   offset: int8, the block's centre in units of 16.
// Codes: byte i of a row's d/2 bytes holds the code of value i (low nibble) and of value
// i + d/2 (high nibble).
#pragma once

#include <cstddef>
#include <cstdint>

namespace embed2onnx {

inline constexpr size_t kInt4MaxBlock = 256;  // values per block, at most (the encoder's buffers)
inline constexpr int kInt4ScaleCodes = 255;   // scale codes 0..254; the table stays under 1 KiB
inline constexpr float kInt4LevelSpread = 200.0f;
inline constexpr float kInt4OffsetUnit = 16.0f;
// Every value is within this many scale units of its source: half the widest gap
// between levels (347.25 / 2), plus room for the final rounding (at most 2^-24 of 4096
// units). The encoder never stores a block that would break it.
inline constexpr float kInt4BoundUnits = 173.7f;

// Level(q), q in 0..15.
float Int4Level(int q);
// Scale(a), a in 0..254; 0 for larger codes.
float Int4Scale(int a);
// The scale table, kInt4ScaleCodes floats (what the graph stores).
const float* Int4ScaleTable();

// Quantises one row: codes d/2 bytes, scale_codes and offsets nb bytes each.
// Deterministic: the same bytes for the same row on any machine, whichever build runs (the
// widest this CPU has: AVX-512, AVX2, or none).
void QuantizeRowInt4(const float* row, size_t d, size_t block, uint8_t* codes, uint8_t* scale_codes,
                     int8_t* offsets);

// The builds one by one, for the tests, which hold them equal: `vector_bits` 512 runs the
// AVX-512 build (16 blocks a vector, AVX2 for a group of 8 in the rest), 256 the AVX2
// build, 0 the portable one, which every vector build must equal. Each returns false, and
// does nothing, where this CPU lacks those instructions.
bool QuantizeRowInt4On(int vector_bits, const float* row, size_t d, size_t block, uint8_t* codes,
                       uint8_t* scale_codes, int8_t* offsets);
// The code of the level nearest t (t in level units) for n values: the encoder's nearest
// step (the vector builds' int16 lookup, or the portable count of midpoints).
bool Int4NearestCodes(int vector_bits, const float* t, size_t n, uint8_t* codes);
// The largest scale code 1..254 whose scale is at most a (1 if none) for n values: the
// encoder's first scale code (the vector builds' count over a's exponent and mantissa, or
// the portable binary search over the table).
bool Int4ScaleCodesBelow(int vector_bits, const float* a, size_t n, int32_t* codes);

// The values the int4 graph outputs for that row.
void DequantizeRowInt4(const uint8_t* codes, const uint8_t* scale_codes, const int8_t* offsets, size_t d,
                       size_t block, float* out);

}  // namespace embed2onnx
