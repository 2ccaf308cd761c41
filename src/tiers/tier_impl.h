// The per-tier encoders, decoders, bounds and graph builders the tier table points at.
#pragma once

#include "tiers/tier.h"

namespace embed2onnx {

// Graph builders write their float32 result to Float32ResultName(p) and end with
// FinishOutput(p, g): for a FLOAT output that name is inputs_embeds itself; for FLOAT16 a
// last Cast rounds the result to nearest even (beyond fp16's range: +-inf, as ONNX
// Runtime's Cast does) and the declared output type follows.
const char* Float32ResultName(const TierParams& p);
void FinishOutput(const TierParams& p, onnx::GraphProto* g);
// Sets the declared element type of inputs_embeds to p.output_elem (FinishOutput does it
// too), for a builder whose rows already have that type.
void DeclareOutputType(const TierParams& p, onnx::GraphProto* g);

void EncodeFp32(const float* rows, size_t n, size_t d, const TierParams& p, uint8_t* const* outs);
void DecodeFp32(const uint8_t* const* stored, size_t n, size_t d, const TierParams& p, float* out);
void BuildFp32Graph(int64_t d, const TierParams& p, onnx::GraphProto* g);

void EncodeFp16w(const float* rows, size_t n, size_t d, const TierParams& p, uint8_t* const* outs);
void DecodeFp16w(const uint8_t* const* stored, size_t n, size_t d, const TierParams& p, float* out);
void BuildFp16wGraph(int64_t d, const TierParams& p, onnx::GraphProto* g);

void EncodeBf16w(const float* rows, size_t n, size_t d, const TierParams& p, uint8_t* const* outs);
void DecodeBf16w(const uint8_t* const* stored, size_t n, size_t d, const TierParams& p, float* out);
void BuildBf16wGraph(int64_t d, const TierParams& p, onnx::GraphProto* g);

void EncodeInt8(const float* rows, size_t n, size_t d, const TierParams& p, uint8_t* const* outs);
void DecodeInt8(const uint8_t* const* stored, size_t n, size_t d, const TierParams& p, float* out);
void AbsErrorsInt8(const uint8_t* const* stored, size_t n, size_t d, const TierParams& p, const float* source,
                   float* errs);
void Int8RowBound(const uint8_t* const* stored_row, size_t d, const TierParams& p, float* bound);
void BuildInt8Graph(int64_t d, const TierParams& p, onnx::GraphProto* g);

void EncodeInt4(const float* rows, size_t n, size_t d, const TierParams& p, uint8_t* const* outs);
void DecodeInt4(const uint8_t* const* stored, size_t n, size_t d, const TierParams& p, float* out);
void Int4RowBound(const uint8_t* const* stored_row, size_t d, const TierParams& p, float* bound);
void BuildInt4Graph(int64_t d, const TierParams& p, onnx::GraphProto* g);
Status CheckInt4Params(uint64_t d, const TierParams& p);

}  // namespace embed2onnx
