#include "embed2onnx/export.h"

#include <fmt/core.h>

#include <algorithm>
#include <chrono>
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
#include "onnx/splice_graph.h"
#include "stream/row_source.h"
#include "stream/table_pass.h"
#include "tiers/tier.h"
#include "util/no_throw.h"
#include "util/thread_pool.h"

namespace embed2onnx {

const char* Version() { return E2O_VERSION; }

namespace {
using Clock = std::chrono::steady_clock;
double Seconds(Clock::time_point a, Clock::time_point b) {
  return std::chrono::duration<double>(b - a).count();
}

// 32, or the largest even divisor of d below it (0 when d is odd).
uint32_t DefaultInt4Block(uint64_t d) {
  for (uint32_t b = 32; b >= 2; b -= 2)
    if (d % b == 0) return b;
  return 0;
}

// The report's size can only grow with its figures: rendered with every number at its
// longest ("-2.2250738585072014e-308", 20-digit sizes), it bounds the real one. A field
// of ExportSummary filled in only after streaming must be filled here at its longest, or
// the bound falls short (a full disk is then found by the write, later but still safely).
uint64_t ReportSizeBound(ExportSummary s, const std::vector<TierWriter*>& writers, const OutputDir& out,
                         const std::string& variant, const std::string& base, const std::vector<int64_t>& ids,
                         int threads) {
  const double longest = -std::numeric_limits<double>::min();
  const ErrorFigures worst{longest, longest, longest, true, longest};
  s.report_path = out.FinalPath(kReportFileName);
  s.tiers.clear();
  for (const TierWriter* w : writers) {
    TierOutcome o;
    o.tier = w->tier().name;
    o.onnx_path = out.FinalPath(w->tier().file_name);
    if (w->layout().sidecar_size > 0) o.sidecar_path = out.FinalPath(SidecarName(w->tier().file_name));
    o.onnx_bytes = o.sidecar_bytes = UINT64_MAX;
    o.parity_shape = {1, static_cast<int64_t>(ids.size()), static_cast<int64_t>(s.hidden)};
    o.parity = worst;
    o.overflow = {UINT64_MAX, longest};
    if (w->has_splice()) {
      o.splice_path = out.FinalPath(w->splice_file_name());
      o.splice_bytes = UINT64_MAX;
    }
    s.tiers.push_back(o);
    if (w->tier().stats_key) s.table_stats[w->tier().stats_key] = worst;
  }
  s.seconds_stream = s.seconds_pass1 = s.seconds_pass2 = s.seconds_verify = s.seconds_total = longest;
  if (s.output_dtype != "float32") s.output_overflow = {UINT64_MAX, longest};
  s.stages = {longest, longest, longest, std::vector<double>(static_cast<size_t>(threads), longest)};
  return RenderReport(s, variant, base, ids).size();
}

// The splice graphs' audio token id and where it came from (ExportOptions says the
// order); source "" when no splice graphs are to be written.
std::pair<int64_t, std::string> SpliceAudioId(const ExportOptions& opts, const ModelConfig& config) {
  if (opts.no_splice) return {0, ""};
  if (opts.audio_token_id) return {*opts.audio_token_id, kAudioIdFromFlag};
  const bool preset = opts.preset_audio_token_id.has_value();
  if (config.audio_token_id && *config.audio_token_id >= 0 && (preset || config.IsGraniteSpeech()))
    return {*config.audio_token_id, kAudioIdFromConfig};
  if (preset) return {*opts.preset_audio_token_id, kAudioIdFromPreset};
  return {0, ""};
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
  std::vector<const Tier*> tiers;
  const bool all_tiers = opts.tiers.empty();
  for (const std::string& name : all_tiers ? TierNames() : opts.tiers) {
    const Tier* t = FindTier(name);
    if (!t) return Status::InvalidArgument("--tiers: unknown tier '" + name + "'");
    if (t->check_params) {
      Status s = t->check_params(table->cols(), params);
      if (!s.ok() && all_tiers && opts.int4_block == 0) {
        note(std::string("leaving out tier ") + t->name + ": " + s.message());
        continue;
      }
      E2O_RETURN_IF_ERROR(s);
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
  std::tie(summary.audio_token_id, summary.audio_token_source) = SpliceAudioId(opts, config);
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

  // 2. Stream every tier into staged files.
  E2O_ASSIGN_OR_RETURN(std::unique_ptr<OutputDir> out, OutputDir::Open(opts.out_dir, note, disk));
  ModelMeta meta{opts.producer_name.empty() ? kToolName : opts.producer_name,
                 opts.producer_version.empty() ? Version() : opts.producer_version};
  std::vector<std::unique_ptr<TierWriter>> writers;
  std::vector<TierWriter*> writer_ptrs;
  std::vector<std::unique_ptr<ExportSink>> sinks;
  std::vector<PassTier> pass_tiers;
  for (const Tier* t : tiers) {
    E2O_ASSIGN_OR_RETURN(std::unique_ptr<TierWriter> w,
                         TierWriter::Create(*t, params, table->rows(), table->cols(), meta, out.get()));
    if (!summary.audio_token_source.empty()) E2O_RETURN_IF_ERROR(w->AddSplice(summary.audio_token_id));
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
      ReportSizeBound(summary, writer_ptrs, *out, opts.variant, base, ids, threads)};
  for (const TierWriter* w : writer_ptrs)
    for (uint64_t e : w->planned_extents()) extents.push_back(e);
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
  summary.stages = {pass.stages.read, pass.stages.figures, pass.stages.sinks, pass.stages.encode};
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
    E2O_RETURN_IF_ERROR(ReadBackTier(*sinks[k], source, ids, &o, popts.threads, opts.numpy));
    if (w.has_splice()) {
      E2O_RETURN_IF_ERROR(ReadBackSplice(w, source.cols(), ids));
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
