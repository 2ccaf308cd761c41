// The per-tier encoders and graph builders the tier table points at.
#pragma once

#include "tiers/tier.h"

namespace embed2onnx {

void EncodeFp32(const float* rows, size_t n, size_t d, uint8_t* const* outs);
void BuildFp32Graph(int64_t d, onnx::GraphProto* g);

void EncodeFp16w(const float* rows, size_t n, size_t d, uint8_t* const* outs);
void BuildFp16wGraph(int64_t d, onnx::GraphProto* g);

void EncodeInt8(const float* rows, size_t n, size_t d, uint8_t* const* outs);
void Int8TableErrors(const float* rows, size_t n, size_t d, const uint8_t* const* outs, float* errs);
void BuildInt8Graph(int64_t d, onnx::GraphProto* g);

}  // namespace embed2onnx
