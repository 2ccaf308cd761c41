// Splice graphs (SPEC §8): the embedding stage of a Granite Speech pipeline in one ONNX
// Runtime call. Inputs input_ids INT64 [B, N] and audio_features [num_audio_tokens, D];
// output inputs_embeds [B, N, D], audio_features of the plain graph's output type (FLOAT,
// or FLOAT16 when the plain graph outputs fp16). Walking the ids in
// row-major order, a position holding the audio token id A gets the next row of
// audio_features, every other position what the tier's plain graph outputs for its id
// (transformers' masked_scatter over embed_tokens(where(ids == A, 0, ids))).
//
// How, with ai.onnx opset-20 operators only and no float arithmetic on any row (a float
// Where, even a "+ 0", turns -0.0 into +0.0):
//   is_audio = Equal(ids, A)                                  BOOL [B, N]
//   text     = the tier's own nodes on Where(is_audio, 0, ids)  [B, N, D]
//   at       = Transpose(NonZero(is_audio))                   INT64 [K, 2], row-major order
//   out      = ScatterND(text, at, audio_features)            [B, N, D]
// ScatterND copies the audio rows bit for bit over the text rows (ONNX Runtime copies
// the text rows into its output buffer once: the graph output cannot be in place). Its shape rule (updates
// must be indices.shape[:-1] + data.shape[2:], here [K, D]) is the count check: K audio tokens with M != K
// audio rows, in either direction, fail the run. The rule belongs to the op that writes the output, so no
// optimiser can drop it as dead or a no-op (see docs/splice.md).
#pragma once

#include <onnx/onnx_pb.h>

#include <cstdint>
#include <string>

#include "embed2onnx/status.h"

namespace embed2onnx {

inline constexpr char kAudioInputName[] = "audio_features";
// What Granite Speech's tokenizer calls its audio token.
inline constexpr char kAudioTokenText[] = "<|audio|>";
// The splice model's metadata_props key holding A (SPEC §10).
inline constexpr char kAudioTokenIdMetadataKey[] = "audio_token_id";
// The splice graph's file name for a tier's file name: "<stem>_audio.onnx" (SPEC §8).
std::string SpliceFileName(const std::string& tier_file_name);

// The splice model of a tier from its plain lookup model (as the tier writer built it:
// IO input_ids / inputs_embeds, streamed initializers external in the tier's sidecar).
// The copy keeps every initializer as it is, so its external data points into the same
// sidecar at the same offsets: the table is on disk once. `graph_name` names the graph.
Result<onnx::ModelProto> MakeSpliceModel(const onnx::ModelProto& plain, int64_t audio_token_id,
                                         const std::string& graph_name);

}  // namespace embed2onnx
