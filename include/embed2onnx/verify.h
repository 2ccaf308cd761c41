// Verifying an export folder against its checkpoint, later and on any machine.
//
// VerifyExport reads every `embed_tokens*.onnx` in the folder from disk and, per file:
// checks the graph contract (IO names, types, symbolic dims, IR 10, ai.onnx opset 20,
// external-data keys, lengths, sidecar bounds; inputs_embeds of the type the report's
// output_dtype names, float32 when it names none); compares every stored byte of every
// table with the encoding of the checkpoint, in one streaming pass for all files (the
// pass export runs, stream/table_pass.h), which also recomputes the quantised tiers'
// statistics and the values a tier stores as +-inf, compared with the report when it has
// them; and evaluates the graph with the reference interpreter on the SPEC sample ids and
// `random_ids` ids drawn from `seed` (the same ids for the same seed) against its own
// decoding of the stored bytes, bit for bit. Exports written by the original Python
// script (Cast before Gather, unaligned offsets, other node names) are accepted.
//
// A splice graph `<tier file stem>_audio.onnx` (SPEC §8; `_image.onnx` or
// `_image_audio.onnx` with image_features) beside its tier's graph is checked too, as its
// own entry: the splice contract, that its initializers are its tier's (same sidecar
// bytes), and the graph evaluated on the sample ids with synthetic feature rows against
// masked_scatter over the tier's graph, both count mismatches failing per modality
// (check/splice_check.h). Its token ids are the report's `splice.audio_token_id` and
// `splice.image_token_id`, else the graph's own metadata; a splice graph the report lists that is missing
// fails.
//
// Memory is bounded (a few chunks of rows; ids are drawn and evaluated in batches)
// whatever the table size and the number of random ids.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "embed2onnx/figures.h"
#include "embed2onnx/status.h"

namespace embed2onnx {

struct VerifyOptions {
  std::string export_dir;
  std::string model_dir;
  std::string tensor;  // "" = find it
  uint32_t random_ids = 256;
  uint64_t seed = 20261128;
  int threads = 0;  // 0: every core; at most 64 are used
};

struct FileVerification {
  std::string file;     // path of the .onnx
  std::string tier;     // "" when the file is not a known tier
  bool splice = false;  // the tier's splice graph (SPEC §8), not its plain graph
  bool ok = false;
  std::string message;  // what failed, or "ok"
  uint64_t rows_checked = 0;
  uint64_t ids_evaluated = 0;
  bool has_stats = false;
  ErrorFigures stats;           // recomputed over the whole table (quantised tiers)
  bool stats_compared = false;  // the report had them and they matched
  OverflowFigures overflow;     // values the tier stores as +-inf, over the whole table
};

struct VerifyResult {
  // "float32" or "float16": the output type the report records (float32 when it records
  // none), which every graph must declare and produce.
  std::string output_dtype;
  // float16 output: the table's values beyond fp16's range, compared with the report's
  // `output_overflow`.
  OverflowFigures output_overflow;
  std::string tensor;
  uint64_t vocab = 0, hidden = 0;
  std::vector<FileVerification> files;
  bool ok() const;
};

// Fails (non-OK Status) only when verification cannot run at all: unreadable
// checkpoint, table not found, folder without any embed_tokens*.onnx. Per-file
// failures are in the result.
Result<VerifyResult> VerifyExport(const VerifyOptions& opts);

}  // namespace embed2onnx
