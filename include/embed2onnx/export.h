// Exporting a checkpoint's embedding table as verified ONNX lookup graphs.
//
// ExportTable runs the whole job: open and validate the checkpoint, find the table,
// stream its rows through every requested tier into staged files, read every file back
// from disk and check it (contract; a checksum of every stored byte against what was
// encoded; the sample rows' bytes against their encoding; the graph evaluated on the
// SPEC §5 sample ids against its stored rows and the table), write
// `embed_tokens_parity.json`, and only then rename everything into place. On any failure
// the previous export in the folder is left as it was. The free space is checked before
// the first file is created; the graphs and sidecars of an earlier export that this one
// does not rewrite are removed (docs/format.md).
//
// Signals: the first export installs handlers for SIGINT and SIGTERM (unless ignored)
// that remove the run's temporaries, then restore the previous disposition and raise the
// signal again; during the final renames the signal waits until they are done.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "embed2onnx/figures.h"
#include "embed2onnx/splice_tokens.h"
#include "embed2onnx/status.h"

namespace embed2onnx {

struct ExportOptions {
  std::string model_dir;                    // checkpoint folder
  std::string out_dir;                      // created if missing
  std::string tensor;                       // table name; "" = find it
  std::vector<std::string> preset_tensors;  // preset mode: accept the first of these present
  std::vector<std::string> tiers;           // validated tier names (ParseTierList); empty = all
  int threads = 0;                          // of the pass, writers and encoders; 0: every core (at most 64)
  bool fsync = false;                       // flush every file to disk before the rename
  // Values per int4 block (even, divides D). 0: 32, or the largest even divisor of D
  // below it; with the default tier list, int4 is left out (with a note) if D has none.
  uint32_t int4_block = 0;
  // The element type of every graph's inputs_embeds: "float32" (SPEC §2), or "float16"
  // for fp16 LLM bundles: the tier's exact float32 result rounded to nearest even
  // (fp16w: its stored rows unchanged); values beyond fp16's range become +-inf, with a
  // note and the report's `output_overflow`.
  std::string output_dtype = "float32";
  // Where model_dir came from when it is a Hugging Face cache snapshot (--model): the
  // repo id, the revision asked for and the commit it resolved to. "" otherwise.
  std::string hf_repo, hf_revision, hf_commit;
  // Whose numpy the report's means and p99s match bit for bit (figures.h).
  NumpyRules numpy = kDefaultNumpyRules;
  std::string producer_name;      // "" -> "embed2onnx"
  std::string producer_version;   // "" -> the tool's version
  std::string variant;            // report "variant" (preset mode); "" omits it
  std::string paths_relative_to;  // report tier paths are relative to this folder
  // Splice graphs (SPEC §8), one per tier. The audio token id is the first of:
  // audio_token_id (--audio-token-id), config.json's (audio_token_index or
  // audio_token_id), preset_audio_token_id. Outside preset mode config.json's counts only
  // when it is a Granite Speech config: other models merge audio differently. None of
  // them, or no_splice: no splice graphs. REQUIRES: ids >= 0 (they may be >= V: a
  // placeholder that is never a text id, as for the NAR preset).
  std::optional<int64_t> audio_token_id;
  std::optional<int64_t> preset_audio_token_id;
  // An image token id (--image-token-id): the splice graphs take image_features too (or
  // alone, when there is no audio token id), rows put in at that id's positions as
  // transformers' LLaVA-style models masked_scatter them. Only from the flag: models
  // merge image features in ways the config cannot tell (some expand their image
  // tokens). REQUIRES: >= 0, not the audio token id.
  std::optional<int64_t> image_token_id;
  bool no_splice = false;
  // What the graphs' metadata_props call the checkpoint (never an absolute path: graphs
  // get shipped). "" -> the name of the checkpoint's folder.
  std::string checkpoint_name;
  // Plan only: check the input, decide the tiers and their files' sizes and whether they
  // fit on the disk, and return that (ExportSummary::dry_run), creating and writing
  // nothing, not even the output folder.
  bool dry_run = false;
  // One-line notes for the user (lock waits, cleanup, values a tier stores as +-inf);
  // may be empty.
  std::function<void(const std::string&)> note;
  // Progress while the table streams: per tier, bytes of its sidecar written so far;
  // `pass` 1 writes, pass 2 (only when the sampled guess of a p99 missed) re-reads the
  // table for the exact quantiles. May be empty.
  struct Progress {
    int pass = 1;
    std::vector<std::pair<std::string, uint64_t>> tier_bytes;  // tier name, bytes done
    uint64_t bytes_done = 0, bytes_total = 0;                  // over all tiers
  };
  std::function<void(const Progress&)> progress;
};

struct TierOutcome {
  std::string tier;
  std::string onnx_path;     // final path
  std::string sidecar_path;  // final path, "" if none
  uint64_t onnx_bytes = 0, sidecar_bytes = 0;
  std::vector<int64_t> parity_shape;
  ErrorFigures parity;       // on the sample ids
  OverflowFigures overflow;  // over the whole table; the report's `<tier>_overflow` when any
  std::string splice_path;   // final path of the tier's splice graph, "" if none
  uint64_t splice_bytes = 0;
};

// Where the splice graphs' audio token id came from.
inline constexpr char kAudioIdFromFlag[] = "flag";
inline constexpr char kAudioIdFromConfig[] = "config";
inline constexpr char kAudioIdFromPreset[] = "preset";

// What config.json beside the weights said (SPEC §9), for the report.
struct ConfigSummary {
  bool present = false;
  std::string path;
  std::optional<bool> tie_word_embeddings;
  std::optional<int64_t> audio_token_id;
  std::optional<double> embedding_multiplier;
  std::string model_type;
};

struct ExportSummary {
  std::string tensor, dtype, checkpoint;
  std::string output_dtype = "float32";         // ExportOptions::output_dtype
  std::string hf_repo, hf_revision, hf_commit;  // ExportOptions' (--model), "" otherwise
  // float16 output: the table's values beyond fp16's range, which every graph outputs as
  // +-inf (the report's `output_overflow` when any).
  OverflowFigures output_overflow;
  std::string checkpoint_name;  // what the graphs' metadata_props call it
  uint64_t vocab = 0, hidden = 0;
  std::vector<TierOutcome> tiers;
  std::map<std::string, ErrorFigures> table_stats;  // report key -> figures
  std::string report_path;
  ConfigSummary config;
  // The splice graphs' audio token id and its source (kAudioIdFrom*); source "" when
  // none were written. token_text: the tokenizer's text for it, "" if no tokenizer
  // file names it.
  int64_t audio_token_id = 0;
  std::string audio_token_source, audio_token_text;
  // The splice graphs' image token id (ExportOptions::image_token_id) and the tokenizer's
  // text for it ("" if no tokenizer file names it).
  std::optional<int64_t> image_token_id;
  std::string image_token_text;
  // The token ids the splice graphs splice at; none when no splice graph was written.
  SpliceTokens splice_tokens() const {
    SpliceTokens t;
    t.image = image_token_id;
    if (!audio_token_source.empty()) t.audio = audio_token_id;
    return t;
  }
  NumpyRules numpy = kDefaultNumpyRules;  // the rules its figures follow
  std::string out_dir;                    // the folder the files are (or, in a dry run, would be) in
  uint32_t int4_block = 0;                // values per int4 block, when int4 is among `tiers`
  // Tiers of the default list that were left out, and why (e.g. int4 at a width no
  // block fits), in tier-table order.
  std::vector<std::pair<std::string, std::string>> left_out;
  // Dry run: nothing was written; the sizes in `tiers` are the planned ones, `report_path`
  // where the report would go. `bytes_needed` (whole blocks, as the free-space check
  // counts them) against `bytes_free` on the folder's file system (or its nearest
  // existing parent's); `fits` whether the export would pass the free-space check.
  bool dry_run = false;
  bool fits = true;
  bool out_dir_exists = true;
  uint64_t bytes_needed = 0, bytes_free = 0;
  // Wall seconds: streaming (of which pass 1 writes, pass 2 refines the exact p99; 0 when
  // pass 1 could settle it),
  // reading back and verifying, and the whole export.
  double seconds_stream = 0, seconds_pass1 = 0, seconds_pass2 = 0, seconds_verify = 0, seconds_total = 0;
  // CPU seconds per stage of the streaming pass (stream/table_pass.h): reading the
  // checkpoint, each encoder thread, the in-order figures, the sidecar writes (in all and
  // per writing thread).
  struct Stages {
    double read = 0, figures = 0, write = 0;
    std::vector<double> encode;       // per encoder thread
    std::vector<double> write_lanes;  // per writing thread (at most one per encoder thread)
  } stages;
};

Result<ExportSummary> ExportTable(const ExportOptions& opts);

// The tool's version string.
const char* Version();

}  // namespace embed2onnx
