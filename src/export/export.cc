#include "embed2onnx/export.h"

#include <fmt/core.h>

#include <algorithm>
#include <cctype>
#include <chrono>
#include <filesystem>
#include <limits>
#include <memory>
#include <tuple>

#include "check/parity.h"
#include "checkpoint/dtype.h"
#include "embed2onnx/checkpoint.h"
#include "embed2onnx/model_source.h"
#include "embed2onnx/tensor_finder.h"
#include "embed2onnx/tiers.h"
#include "export/export_disk.h"
#include "export/output_dir.h"
#include "export/read_back.h"
#include "export/report.h"
#include "export/tier_writer.h"
#include "onnx/onnx_model.h"
#include "onnx/splice_graph.h"
#include "stream/row_source.h"
#include "stream/table_pass.h"
#include "tiers/tier.h"
#include "util/json_text.h"
#include "util/no_throw.h"
#include "util/thread_pool.h"

namespace embed2onnx {

const char* Version() { return E2O_VERSION; }

namespace {
using Clock = std::chrono::steady_clock;
double Seconds(Clock::time_point a, Clock::time_point b) {
  return std::chrono::duration<double>(b - a).count();
}

// int4's block when --int4-block does not set one (docs/format.md, "int4's block"): 32,
// else the largest even divisor of d from 8 to 32, else the smallest from 34 to 64.
// 0 when d has none: a smaller block would spend more on scales and zero points than on
// codes (block 2 stores 2 bytes a value, as fp16w does), a larger one would cover too
// many values with one scale.
constexpr uint32_t kInt4MinDefaultBlock = 8, kInt4MaxDefaultBlock = 64;
uint32_t DefaultInt4Block(uint64_t d) {
  for (uint32_t b = 32; b >= kInt4MinDefaultBlock; b -= 2)
    if (d % b == 0) return b;
  for (uint32_t b = 34; b <= kInt4MaxDefaultBlock; b += 2)
    if (d % b == 0) return b;
  return 0;
}

// Why int4 cannot be written at width d with `block` (from --int4-block, or 0 when d has
// no default block); "" when it can. Beyond the tier's own check (even, divides d), the
// tier must come out smaller than the 2-byte tiers: a block of 2 spends 1.5 bytes a value
// on its scale and zero point, which with the 0.5-byte codes is fp16w's size.
std::string Int4Refusal(const Tier& int4, uint64_t d, uint32_t block, bool from_flag) {
  if (!from_flag && block == 0)
    return fmt::format(
        "no int4 block fits the table width {}: the default block is an even divisor of it from {} to "
        "{}; --int4-block sets one",
        d, kInt4MinDefaultBlock, kInt4MaxDefaultBlock);
  TierParams p;
  p.int4_block = block;
  Status s = int4.check_params(d, p);
  if (!s.ok()) return s.message();
  if (block < 4)
    return fmt::format(
        "--int4-block: {} would make int4 1.5 bytes a value, three quarters of fp16w for far more error "
        "(a scale and an offset code per 2 values); use a block of 4 or more",
        block);
  return "";
}

// Where each writer's files go and their planned sizes.
std::vector<TierOutcome> PlannedOutcomes(const std::vector<TierWriter*>& writers,
                                         const std::string& out_dir) {
  std::vector<TierOutcome> planned;
  for (const TierWriter* w : writers) {
    TierOutcome o;
    o.tier = w->tier().name;
    o.onnx_path = out_dir + "/" + w->tier().file_name;
    o.onnx_bytes = w->onnx_bytes();
    if (w->layout().sidecar_size > 0) {
      o.sidecar_path = out_dir + "/" + SidecarName(w->tier().file_name);
      o.sidecar_bytes = w->layout().sidecar_size;
    }
    if (w->has_splice()) {
      o.splice_path = out_dir + "/" + w->splice_file_name();
      o.splice_bytes = w->splice_bytes();
    }
    planned.push_back(o);
  }
  return planned;
}

// The report's size can only grow with its figures: rendered with every number at its
// longest ("-2.2250738585072014e-308", 20-digit sizes), it bounds the real one. A field
// of ExportSummary filled in only after streaming must be filled here at its longest, or
// the bound falls short (a full disk is then found by the write, later but still safely).
uint64_t ReportSizeBound(ExportSummary s, const std::vector<TierWriter*>& writers, const std::string& out_dir,
                         const std::string& variant, const std::string& base, const std::vector<int64_t>& ids,
                         int threads) {
  const double longest = -std::numeric_limits<double>::min();
  const ErrorFigures worst{longest, longest, longest, true, longest};
  s.report_path = out_dir + "/" + kReportFileName;
  s.tiers = PlannedOutcomes(writers, out_dir);
  for (TierOutcome& o : s.tiers) {
    o.onnx_bytes = o.sidecar_bytes = UINT64_MAX;
    o.parity_shape = {1, static_cast<int64_t>(ids.size()), static_cast<int64_t>(s.hidden)};
    o.parity = worst;
    o.overflow = {UINT64_MAX, longest};
    if (!o.splice_path.empty()) o.splice_bytes = UINT64_MAX;
    if (const char* key = FindTier(o.tier)->stats_key) s.table_stats[key] = worst;
  }
  s.seconds_stream = s.seconds_pass1 = s.seconds_pass2 = s.seconds_verify = s.seconds_total = longest;
  if (s.output_dtype != "float32") s.output_overflow = {UINT64_MAX, longest};
  // One entry per encoder and per lane: `threads` of them, or two for one thread.
  const std::vector<double> per_thread(static_cast<size_t>(threads) + 1, longest);
  s.stages = {longest, longest, longest, per_thread, per_thread};
  return RenderReport(s, variant, base, ids).size();
}

// The splice graphs' audio token id and where it came from (ExportOptions says the
// order); source "" when no splice graphs are to be written.
// A negative id in a config.json that would be taken is an error naming the file and key.
Result<std::pair<int64_t, std::string>> SpliceAudioId(const ExportOptions& opts, const ModelConfig& config) {
  using IdAndSource = std::pair<int64_t, std::string>;
  if (opts.no_splice) return IdAndSource{0, ""};
  if (opts.audio_token_id) return IdAndSource{*opts.audio_token_id, kAudioIdFromFlag};
  const bool preset = opts.preset_audio_token_id.has_value();
  if (config.audio_token_id && (preset || config.IsGraniteSpeech())) {
    if (*config.audio_token_id < 0)
      return Status::InvalidArgument(fmt::format(
          "{}: {} {} is negative, not a token id (give one with --audio-token-id, or pass --no-splice)",
          config.path, config.audio_token_key, *config.audio_token_id));
    return IdAndSource{*config.audio_token_id, kAudioIdFromConfig};
  }
  if (preset) return IdAndSource{*opts.preset_audio_token_id, kAudioIdFromPreset};
  return IdAndSource{0, ""};
}

// The name graphs give the checkpoint (SPEC §10): the folder's own name, never a path
// (graphs get shipped), readable even when the name's bytes are not UTF-8.
std::string CheckpointName(const std::string& source) {
  namespace fs = std::filesystem;
  std::error_code ec;
  fs::path folder = fs::absolute(fs::path(source), ec).lexically_normal().parent_path();
  return JsonText(folder.filename().string());
}

// Every graph's metadata_props (docs/format.md, "Provenance"): what made it, from what,
// and the tier with its parameters.
ModelMeta GraphMeta(const ModelMeta& common, const Tier& tier, const TierParams& params) {
  ModelMeta m = common;
  m.props.insert(m.props.begin() + 2, {"tier", tier.name});
  if (tier.check_params)
    m.props.insert(m.props.begin() + 3, {"int4_block", std::to_string(params.int4_block)});
  return m;
}

// The note for values a tier stores as +-inf, as numpy's astype does.
std::string OverflowNote(const Tier& tier, const RowSource& source, const OverflowFigures& o) {
  return fmt::format(
      "{}: {} value{} of tensor '{}' (largest |x| {:.9g}) exceed the tier's range and are "
      "stored as +-inf, as numpy's astype stores them",
      tier.name, o.count, o.count == 1 ? "" : "s", source.tensor(), o.max_abs_source);
}

// The note for values a float16 output turns into +-inf.
std::string OutputOverflowNote(const RowSource& source, const OverflowFigures& o) {
  return fmt::format(
      "output float16: {} value{} of tensor '{}' (largest |x| {:.9g}) exceed float16's range; every "
      "graph outputs them as +-inf, as ONNX Runtime's Cast to float16 does",
      o.count, o.count == 1 ? "" : "s", source.tensor(), o.max_abs_source);
}
}  // namespace

// The boundary: an exception from any stage (or from a caller's note/progress callback)
// becomes a Status, and unwinding lets OutputDir remove the staged files.
Result<ExportSummary> ExportTable(const ExportOptions& opts) {
  return CatchAll(opts.out_dir,
                  [&]() -> Result<ExportSummary> { return ExportTableOn(opts, DefaultDisk()); });
}

Result<ExportSummary> ExportTableOn(const ExportOptions& opts, Disk* disk) {
  const auto t0 = Clock::now();
  auto note = opts.note ? opts.note : [](const std::string&) {};

  // 1. Everything about the input is checked before the output folder is touched.
  E2O_ASSIGN_OR_RETURN(Checkpoint ckpt, Checkpoint::OpenDir(opts.model_dir));
  const TensorInfo* info = nullptr;
  if (!opts.tensor.empty() || opts.preset_tensors.empty()) {
    E2O_ASSIGN_OR_RETURN(info, FindEmbeddingTable(ckpt, opts.tensor));
  } else {
    E2O_ASSIGN_OR_RETURN(info, FindOneOf(ckpt, opts.preset_tensors));
  }
  E2O_ASSIGN_OR_RETURN(std::unique_ptr<TableReader> table, TableReader::Open(*info));
  if (table->rows() > static_cast<uint64_t>(INT64_MAX) / 4 / table->cols())
    return Status::InvalidArgument(info->file + ": tensor '" + info->name + "' is too large to export");
  TierParams params;
  params.int4_block = opts.int4_block ? opts.int4_block : DefaultInt4Block(table->cols());
  params.output_elem = OutputElemFromName(opts.output_dtype);
  if (params.output_elem == 0)
    return Status::InvalidArgument("--output-dtype: '" + opts.output_dtype + "' is not float32 or float16");
  // Tiers go in the tier table's order, whatever the order of --tiers, so that every
  // listing (summary, report, verify) reads the same.
  const bool all_tiers = opts.tiers.empty();
  for (const std::string& name : opts.tiers)
    if (!FindTier(name)) return Status::InvalidArgument("--tiers: unknown tier '" + name + "'");
  std::vector<const Tier*> tiers;
  std::vector<std::pair<std::string, std::string>> left_out;
  for (const Tier& tier : AllTiers()) {
    const Tier* t = &tier;
    if (!all_tiers && std::find(opts.tiers.begin(), opts.tiers.end(), t->name) == opts.tiers.end()) continue;
    if (t->check_params) {
      const std::string why = Int4Refusal(*t, table->cols(), params.int4_block, opts.int4_block != 0);
      if (!why.empty() && all_tiers && opts.int4_block == 0) {
        note(std::string("leaving out tier ") + t->name + ": " + why);
        left_out.emplace_back(t->name, why);
        continue;
      }
      if (!why.empty()) return Status::InvalidArgument(why);
    }
    tiers.push_back(t);
  }
  if (tiers.empty()) return Status::InvalidArgument("--tiers: no tier to export");

  // config.json beside the weights (SPEC §9): its sizes must be the table's.
  E2O_ASSIGN_OR_RETURN(ModelConfig config, ReadModelConfig(opts.model_dir));
  E2O_RETURN_IF_ERROR(CheckConfigAgainstTable(config, table->rows(), table->cols()));

  ExportSummary summary;
  summary.config = {config.present,
                    config.path,
                    config.tie_word_embeddings,
                    config.audio_token_id,
                    config.embedding_multiplier,
                    config.model_type};
  {
    E2O_ASSIGN_OR_RETURN(auto audio, SpliceAudioId(opts, config));
    std::tie(summary.audio_token_id, summary.audio_token_source) = std::move(audio);
  }
  // Refused before any note about either id is said.
  if (opts.image_token_id && !opts.no_splice && !summary.audio_token_source.empty() &&
      *opts.image_token_id == summary.audio_token_id) {
    const std::string from = summary.audio_token_source == kAudioIdFromConfig
                                 ? config.audio_token_key + " in " + config.path
                                 : summary.audio_token_source;
    return Status::InvalidArgument(
        fmt::format("--image-token-id: {} is also the audio token id ({})", *opts.image_token_id, from));
  }
  if (!summary.audio_token_source.empty()) {
    if (summary.audio_token_id < 0)
      return Status::InvalidArgument("--audio-token-id: " + std::to_string(summary.audio_token_id) +
                                     " is negative");
    // The tokenizer, when the folder has one, should call it <|audio|>; another text is
    // said aloud but allowed (a consumer may splice at a token of its own choosing).
    if (auto text = TokenText(opts.model_dir, summary.audio_token_id)) {
      summary.audio_token_text = *text;
      if (*text != kAudioTokenText)
        note(fmt::format("audio token id {} ({}) is '{}' in the tokenizer, not '{}'", summary.audio_token_id,
                         summary.audio_token_source, *text, kAudioTokenText));
    }
  }
  if (opts.image_token_id && !opts.no_splice) {
    const int64_t id = *opts.image_token_id;
    if (id < 0) return Status::InvalidArgument("--image-token-id: " + std::to_string(id) + " is negative");
    summary.image_token_id = id;
    // Image tokens go by many names (<image>, <|image|>, <|image_pad|>, <image_soft_token>):
    // one without "image" in it is said aloud.
    if (auto text = TokenText(opts.model_dir, id)) {
      summary.image_token_text = *text;
      std::string lower = *text;
      for (char& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      if (lower.find("image") == std::string::npos)
        note(
            fmt::format("image token id {} is '{}' in the tokenizer, which does not look like an image token",
                        id, *text));
    }
  }
  summary.tensor = info->name;
  summary.dtype = std::string(DTypeName(table->dtype()));
  summary.checkpoint = ckpt.source();
  summary.vocab = table->rows();
  summary.hidden = table->cols();
  summary.output_dtype = opts.output_dtype;
  summary.hf_repo = opts.hf_repo;
  summary.hf_revision = opts.hf_revision;
  summary.hf_commit = opts.hf_commit;
  summary.numpy = opts.numpy;
  summary.out_dir = opts.out_dir;
  // From the Hugging Face cache the snapshot folder is a commit hash: the repo id says more.
  const std::string hf_name = opts.hf_repo.empty() ? "" : opts.hf_repo + "@" + opts.hf_commit;
  summary.checkpoint_name = !opts.checkpoint_name.empty() ? JsonText(opts.checkpoint_name)
                            : !hf_name.empty()            ? JsonText(hf_name)
                                                          : CheckpointName(ckpt.source());
  summary.left_out = left_out;
  for (const Tier* t : tiers)
    if (t->check_params) summary.int4_block = params.int4_block;

  // 2. Stream every tier into staged files.
  // A dry run opens no folder: the writers only plan (TierWriter::Create writes nothing).
  std::unique_ptr<OutputDir> out;
  if (!opts.dry_run) {
    E2O_ASSIGN_OR_RETURN(out, OutputDir::Open(opts.out_dir, note, disk));
  }
  ModelMeta meta;
  meta.producer_name = opts.producer_name.empty() ? kToolName : opts.producer_name;
  meta.producer_version = opts.producer_version.empty() ? Version() : opts.producer_version;
  meta.props = {{"tool", kToolName},
                {"tool_version", Version()},
                {"source_tensor", JsonText(info->name)},
                {"source_dtype", summary.dtype},
                {"source_shape", fmt::format("[{}, {}]", table->rows(), table->cols())},
                {"checkpoint", summary.checkpoint_name}};
  std::vector<std::unique_ptr<TierWriter>> writers;
  std::vector<TierWriter*> writer_ptrs;
  std::vector<std::unique_ptr<ExportSink>> sinks;
  std::vector<PassTier> pass_tiers;
  for (const Tier* t : tiers) {
    E2O_ASSIGN_OR_RETURN(
        std::unique_ptr<TierWriter> w,
        TierWriter::Create(*t, params, table->rows(), table->cols(), GraphMeta(meta, *t, params), out.get()));
    if (summary.splice_tokens().any()) E2O_RETURN_IF_ERROR(w->AddSplice(summary.splice_tokens()));
    sinks.push_back(std::make_unique<ExportSink>(w.get()));
    pass_tiers.push_back({t, params, sinks.back().get()});
    writer_ptrs.push_back(w.get());
    writers.push_back(std::move(w));
  }
  // Before the first byte: does all of it fit? (A full disk found halfway wastes the
  // time it took to get there.)
  const std::string base = opts.paths_relative_to.empty() ? opts.out_dir : opts.paths_relative_to;
  const std::vector<int64_t> ids = SampleIds(table->rows());
  const int threads = std::clamp(opts.threads > 0 ? opts.threads : AvailableCores(), 1, kMaxPassThreads);
  std::vector<uint64_t> extents = {
      ReportSizeBound(summary, writer_ptrs, opts.out_dir, opts.variant, base, ids, threads)};
  for (const TierWriter* w : writer_ptrs)
    for (uint64_t e : w->planned_extents()) extents.push_back(e);
  if (opts.dry_run) {
    E2O_ASSIGN_OR_RETURN(SpacePlan plan, PlanFreeSpace(disk, opts.out_dir, extents));
    summary.dry_run = true;
    summary.tiers = PlannedOutcomes(writer_ptrs, opts.out_dir);
    summary.report_path = opts.out_dir + "/" + kReportFileName;
    summary.bytes_needed = plan.needed;
    summary.bytes_free = plan.free;
    summary.fits = plan.fits();
    summary.out_dir_exists = plan.dir_exists;
    summary.seconds_total = Seconds(t0, Clock::now());
    return summary;
  }
  E2O_RETURN_IF_ERROR(out->CheckFreeSpace(extents));
  for (TierWriter* w : writer_ptrs) E2O_RETURN_IF_ERROR(w->Open());
  PassOptions popts;
  popts.threads = threads;
  popts.numpy = opts.numpy;
  if (opts.progress) {
    popts.progress = [&](int pass, uint64_t rows_done) {
      ExportOptions::Progress p;
      p.pass = pass;
      for (auto& w : writers) {
        uint64_t per_row = 0;
        for (int i = 0; i < w->tier().num_streamed; ++i)
          per_row += TierRowBytes(w->tier(), i, table->cols(), params);
        p.tier_bytes.emplace_back(w->tier().name, rows_done * per_row);
        p.bytes_done += rows_done * per_row;
        p.bytes_total += table->rows() * per_row;
      }
      opts.progress(p);
    };
  }
  // A float16 output overflows where fp16w's rows do (the graphs end in the same
  // rounding of the same values): without fp16w among the tiers, its encoder runs in the
  // pass for that count alone, writing nothing.
  size_t half_overflow_at = pass_tiers.size();
  if (params.output_elem == onnx::TensorProto::FLOAT16) {
    for (size_t k = 0; k < tiers.size(); ++k)
      if (tiers[k] == FindTier("fp16w")) half_overflow_at = k;
    if (half_overflow_at == pass_tiers.size()) pass_tiers.push_back({FindTier("fp16w"), params, nullptr});
  }
  const TableSource source(*table);
  PassResult pass;
  E2O_RETURN_IF_ERROR(RunTablePass(source, pass_tiers, popts, &pass));
  if (half_overflow_at < pass.tiers.size()) {
    summary.output_overflow = pass.tiers[half_overflow_at].overflow;
    if (summary.output_overflow.count > 0) note(OutputOverflowNote(source, summary.output_overflow));
  }
  summary.seconds_pass1 = pass.seconds_pass1;
  summary.seconds_pass2 = pass.seconds_pass2;
  summary.stages = {pass.stages.read, pass.stages.figures, pass.stages.sinks, pass.stages.encode,
                    pass.stages.sinks_per_lane};
  for (auto& w : writers) E2O_RETURN_IF_ERROR(w->Finish());
  for (size_t k = 0; k < tiers.size(); ++k) {
    const TierPassResult& r = pass.tiers[k];
    if (r.has_figures) summary.table_stats[tiers[k]->stats_key] = r.figures;
    if (r.overflow.count > 0) note(OverflowNote(*tiers[k], source, r.overflow));
  }
  const auto t1 = Clock::now();

  // 3. Read every file back from disk and check it (export/read_back.h says how).
  for (size_t k = 0; k < tiers.size(); ++k) {
    const TierWriter& w = *writers[k];
    TierOutcome o;
    o.tier = w.tier().name;
    o.onnx_path = out->FinalPath(w.tier().file_name);
    o.onnx_bytes = w.onnx_bytes();
    if (!w.sidecar_path().empty()) {
      o.sidecar_path = out->FinalPath(SidecarName(w.tier().file_name));
      o.sidecar_bytes = w.layout().sidecar_size;
    }
    o.overflow = pass.tiers[k].overflow;
    std::unique_ptr<LoadedModel> plain;
    E2O_RETURN_IF_ERROR(ReadBackTier(*sinks[k], source, ids, &o, opts.numpy, &plain));
    if (w.has_splice()) {
      E2O_RETURN_IF_ERROR(ReadBackSplice(w, *plain, source.cols(), ids));
      o.splice_path = out->FinalPath(w.splice_file_name());
      o.splice_bytes = w.splice_bytes();
    }
    summary.tiers.push_back(o);
  }
  const auto t2 = Clock::now();
  summary.seconds_stream = Seconds(t0, t1);
  summary.seconds_verify = Seconds(t1, t2);
  summary.seconds_total = Seconds(t0, t2);

  // 4. The report, then everything into place at once.
  summary.report_path = out->FinalPath(kReportFileName);
  E2O_RETURN_IF_ERROR(out->WriteStaged(kReportFileName, RenderReport(summary, opts.variant, base, ids)));
  E2O_RETURN_IF_ERROR(out->Commit(opts.fsync));
  return summary;
}

}  // namespace embed2onnx
