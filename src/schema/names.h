// The names export writes and verify reads back: file names and report keys. Both stages
// include this header and neither includes the other, so the two cannot drift apart.
#pragma once

#include <string>

namespace embed2onnx {

// The report beside the graphs (SPEC §5).
inline constexpr char kReportFileName[] = "embed_tokens_parity.json";
// A tier's sidecar is "<model file name>" + this (SPEC §2).
inline constexpr char kSidecarSuffix[] = "_data";
// Our reports name their writer here: {"tool": {"name": kToolName, ...}}.
inline constexpr char kToolName[] = "embed2onnx";

// Report keys.
namespace report_key {
inline constexpr char kVariant[] = "variant";
inline constexpr char kInfo[] = "info";
inline constexpr char kTiers[] = "tiers";
inline constexpr char kParity[] = "parity";
inline constexpr char kSampleIds[] = "sample_ids";
inline constexpr char kFiles[] = "files";
inline constexpr char kTool[] = "tool";
inline constexpr char kToolNameField[] = "name";
inline constexpr char kTimings[] = "timings_s";
inline constexpr char kSchemaVersion[] = "schema_version";
// info.<these>: the checkpoint relative to the report's folder, and absolute.
inline constexpr char kCheckpointRelative[] = "checkpoint_relative";
inline constexpr char kCheckpointAbsolute[] = "checkpoint_absolute";
inline constexpr char kMaxAbsErr[] = "max_abs_err";
inline constexpr char kMeanAbsErr[] = "mean_abs_err";
inline constexpr char kP99AbsErr[] = "p99_abs_err";
inline constexpr char kMeanRowCosine[] = "mean_row_cosine";
// "<tier>_overflow": {"count": N, "max_abs_source": x}, values a tier stores as +-inf.
inline constexpr char kOverflowSuffix[] = "_overflow";
inline constexpr char kOverflowCount[] = "count";
inline constexpr char kOverflowMaxAbsSource[] = "max_abs_source";
// "splice": {"audio_token_id": A, "source": "flag"|"config"|"preset", "image_token_id": I,
// "graphs": {tier: path}, ...}; the audio keys when there is an audio token, the image key
// when there is an image token.
inline constexpr char kSplice[] = "splice";
inline constexpr char kSpliceAudioTokenId[] = "audio_token_id";
inline constexpr char kSpliceImageTokenId[] = "image_token_id";
inline constexpr char kSpliceSource[] = "source";
inline constexpr char kSpliceGraphs[] = "graphs";
// "float32" or "float16": the element type of every graph's inputs_embeds
// (--output-dtype); absent in reports written before the option, which are float32.
inline constexpr char kOutputDType[] = "output_dtype";
// With a float16 output, the table's values it turns into +-inf (as kOverflowSuffix's).
inline constexpr char kOutputOverflow[] = "output_overflow";
// In "info" when the checkpoint came from the Hugging Face cache (--model): the repo id,
// the revision asked for, and the commit of the snapshot read.
inline constexpr char kHfRepo[] = "hf_repo";
inline constexpr char kHfRevision[] = "hf_revision";
inline constexpr char kHfCommit[] = "hf_commit";
}  // namespace report_key

inline std::string SidecarName(const std::string& onnx_file_name) { return onnx_file_name + kSidecarSuffix; }

}  // namespace embed2onnx
