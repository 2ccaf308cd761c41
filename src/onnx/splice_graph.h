// Splice graphs (SPEC §8): the embedding stage of a multimodal pipeline in one ONNX
// Runtime call. Inputs input_ids INT64 [B, N] and, per spliced modality, <m>_features
// [num_<m>_tokens, D] (audio_features for Granite Speech; image_features too when asked
// for); output inputs_embeds [B, N, D], the features of the plain graph's output type
// (FLOAT, or FLOAT16 when the plain graph outputs fp16). Walking the ids in row-major
// order, a position holding modality m's token id gets the next row of <m>_features,
// every other position what the tier's plain graph outputs for its id (transformers'
// masked_scatter over embed_tokens(where(is_token, 0, ids)), once per modality).
//
// How, with ai.onnx opset-20 operators only and no float arithmetic on any row (a float
// Where, even a "+ 0", turns -0.0 into +0.0), for each modality m with token id T_m:
//   is_m     = Equal(ids, T_m)                                 BOOL [B, N]
//   text     = the tier's own nodes on the ids with every is_m position set to 0 (an
//              int64 Where per modality)                       [B, N, D]
//   at_m     = Transpose(NonZero(is_m))                        INT64 [K_m, 2], row-major
//   out      = ScatterND(... ScatterND(text, at_m, m_features) ...)   [B, N, D]
// ScatterND copies the feature rows bit for bit over the text rows (ONNX Runtime copies
// the text rows into its output buffer once per ScatterND: a graph output cannot be in
// place). Its shape rule (updates must be indices.shape[:-1] + data.shape[2:], here
// [K_m, D]) is the count check: K_m tokens with M != K_m rows, in either direction, fail
// the run. The rule belongs to the ops that write the output, so no optimiser can drop
// it as dead or a no-op (see docs/splice.md).
#pragma once

#include <onnx/onnx_pb.h>

#include <cstdint>
#include <string>
#include <vector>

#include "embed2onnx/splice_tokens.h"
#include "embed2onnx/status.h"

namespace embed2onnx {

inline constexpr char kAudioInputName[] = "audio_features";
inline constexpr char kImageInputName[] = "image_features";
// What Granite Speech's tokenizer calls its audio token.
inline constexpr char kAudioTokenText[] = "<|audio|>";
// The splice model's metadata_props keys holding the token ids (SPEC §10).
inline constexpr char kAudioTokenIdMetadataKey[] = "audio_token_id";
inline constexpr char kImageTokenIdMetadataKey[] = "image_token_id";

// One spliced modality: "image" or "audio", and its token id.
struct SplicedInput {
  std::string modality;
  int64_t token_id = 0;
  std::string input_name() const { return modality + "_features"; }       // "audio_features"
  std::string dim_name() const { return "num_" + modality + "_tokens"; }  // "num_audio_tokens"
  std::string metadata_key() const { return modality + "_token_id"; }     // also the report's key
};

// The modalities of `t` in the graph's input order: image_features before
// audio_features, as ONNX Runtime GenAI's multimodal embedding models take them.
std::vector<SplicedInput> SplicedInputs(const SpliceTokens& t);

// Every modality list a splice graph can take, each in input order: {audio}, {image},
// {image, audio}.
const std::vector<std::vector<std::string>>& SpliceModalitySets();

// "_audio", "_image" or "_image_audio": what a splice graph's file and graph names add to
// its tier's.
std::string SpliceSuffix(const SpliceTokens& t);
// The splice graph's file name for a tier's file name: "<stem>_audio.onnx" (SPEC §8),
// "<stem>_image.onnx", or "<stem>_image_audio.onnx" for both.
std::string SpliceFileName(const std::string& tier_file_name, const SpliceTokens& t);
// Every name SpliceFileName can give `tier_file_name`, for finding splice graphs on disk.
std::vector<std::string> SpliceFileNames(const std::string& tier_file_name);
// The modalities a splice graph's file name says it takes (for the contract), empty when
// `file_name` is not a splice graph's name for `tier_file_name`.
std::vector<std::string> SpliceModalitiesOfName(const std::string& tier_file_name,
                                                const std::string& file_name);

// The splice model of a tier from its plain lookup model (as the tier writer built it:
// IO input_ids / inputs_embeds, streamed initializers external in the tier's sidecar).
// The copy keeps every initializer as it is, so its external data points into the same
// sidecar at the same offsets: the table is on disk once. `graph_name` names the graph.
// REQUIRES: t.any(); distinct token ids.
Result<onnx::ModelProto> MakeSpliceModel(const onnx::ModelProto& plain, const SpliceTokens& t,
                                         const std::string& graph_name);

}  // namespace embed2onnx
