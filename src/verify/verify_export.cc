#include <dirent.h>
#include <fmt/core.h>
#include <sys/stat.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <random>
#include <set>

#include "check/contract.h"
#include "check/parity.h"
#include "check/splice_check.h"
#include "embed2onnx/checkpoint.h"
#include "embed2onnx/tensor_finder.h"
#include "embed2onnx/tiers.h"
#include "embed2onnx/verify.h"
#include "onnx/onnx_model.h"
#include "onnx/splice_graph.h"
#include "schema/names.h"
#include "stream/row_source.h"
#include "stream/stored_rows.h"
#include "stream/table_pass.h"
#include "tiers/tier.h"
#include "util/file_io.h"
#include "util/no_throw.h"
#include "util/thread_pool.h"

namespace embed2onnx {

bool VerifyResult::ok() const {
  if (files.empty()) return false;
  for (const FileVerification& f : files)
    if (!f.ok) return false;
  return true;
}

namespace {

// One .onnx being verified.
struct TierFile {
  FileVerification* out = nullptr;
  const Tier* tier = nullptr;
  std::unique_ptr<LoadedModel> model;
  StoredTier stored;
  std::unique_ptr<VerifySink> sink;
  bool failed = false;

  void Fail(const std::string& msg) {
    if (failed) return;
    failed = true;
    out->ok = false;
    out->message = msg;
  }
};

// A splice graph's name: some tier's file name with _audio, _image or _image_audio
// before .onnx.
bool IsSpliceName(const std::string& n) {
  for (const std::string& tier : TierNames())
    if (!SpliceModalitiesOfName(FindTier(tier)->file_name, n).empty()) return true;
  return false;
}

std::vector<std::string> ListTierFiles(const std::string& dir) {
  std::vector<std::string> names;
  if (DIR* d = ::opendir(dir.c_str())) {
    while (dirent* e = ::readdir(d)) {
      std::string n = e->d_name;
      if (n.rfind(TierFilePrefix(), 0) == 0 && n.ends_with(".onnx") && !IsSpliceName(n)) names.push_back(n);
    }
    ::closedir(d);
  }
  // The tier table's order, as export lists them; other names after, by name.
  auto rank = [](const std::string& n) {
    const Tier* t = FindTierByFileName(n);
    return t ? static_cast<size_t>(t - AllTiers().data()) : AllTiers().size();
  };
  std::sort(names.begin(), names.end(), [&](const std::string& a, const std::string& b) {
    return std::pair(rank(a), a) < std::pair(rank(b), b);
  });
  return names;
}

// Loads one file and checks everything that does not need the table's rows.
void Prepare(const std::string& dir, const std::string& name, const TableReader& table, int32_t output_elem,
             TierFile* tf) {
  tf->out->file = dir + "/" + name;
  tf->tier = FindTierByFileName(name);
  if (!tf->tier) return tf->Fail(tf->out->file + ": not a file name of any tier embed2onnx knows");
  tf->out->tier = tf->tier->name;
  auto model = LoadedModel::Load(tf->out->file);
  if (!model.ok()) return tf->Fail(model.status().message());
  tf->model = std::move(*model);
  ContractOptions contract;
  contract.hidden = static_cast<int64_t>(table.cols());
  contract.our_layout = false;  // exports of the original script are welcome
  contract.output_elem = output_elem;
  Status s = CheckLookupContract(*tf->model, contract);
  if (!s.ok()) return tf->Fail(s.message());
  auto stored = FindStoredTier(*tf->model, *tf->tier, table.rows(), table.cols());
  if (!stored.ok()) return tf->Fail(stored.status().message());
  tf->stored = std::move(*stored);
  tf->stored.params.output_elem = output_elem;
}

// The output element type the report records (float32 when it records none, as reports
// written before --output-dtype, and the original script's, do not).
Result<int32_t> ReportedOutputElem(const nlohmann::json& report, const std::string& dir) {
  if (!report.is_object() || !report.contains(report_key::kOutputDType)) return onnx::TensorProto::FLOAT;
  const nlohmann::json& v = report[report_key::kOutputDType];
  const int32_t elem = v.is_string() ? OutputElemFromName(v.get<std::string>()) : 0;
  if (elem == 0)
    return Status::Mismatch(dir + "/" + kReportFileName + ": " + report_key::kOutputDType + " is " +
                            v.dump() + ", not \"float32\" or \"float16\"");
  return elem;
}

// A float16 output's overflow count against the report's (absent: none).
Status CompareOutputOverflow(const OverflowFigures& o, const nlohmann::json& report, const std::string& dir) {
  uint64_t want = 0;
  if (report.is_object() && report.contains(report_key::kOutputOverflow)) {
    const nlohmann::json& r = report[report_key::kOutputOverflow];
    if (!r.is_object() || !r.contains(report_key::kOverflowCount) ||
        !r[report_key::kOverflowCount].is_number_unsigned())
      return Status::Mismatch(dir + "/" + kReportFileName + ": " + report_key::kOutputOverflow + " " +
                              r.dump() + " has no count");
    want = r[report_key::kOverflowCount].get<uint64_t>();
  }
  if (want != o.count)
    return Status::Mismatch(
        fmt::format("{}/{}: the report's {} count {} does not match the table ({} values "
                    "beyond float16's range)",
                    dir, kReportFileName, report_key::kOutputOverflow, want, o.count));
  return Status::Ok();
}

// The SPEC sample ids, then `random` ids drawn from `seed`, handed out in batches so that
// memory does not grow with their number.
class IdStream {
 public:
  IdStream(uint64_t vocab, uint32_t random, uint64_t seed)
      : vocab_(vocab), sample_(SampleIds(vocab)), random_left_(random), rng_(seed) {}
  // Up to `max` more ids into `ids`; false when none are left.
  bool Next(size_t max, std::vector<int64_t>* ids) {
    ids->clear();
    while (ids->size() < max && next_sample_ < sample_.size()) ids->push_back(sample_[next_sample_++]);
    while (ids->size() < max && random_left_ > 0) {
      ids->push_back(static_cast<int64_t>(rng_() % vocab_));
      --random_left_;
    }
    return !ids->empty();
  }

 private:
  uint64_t vocab_;
  std::vector<int64_t> sample_;
  size_t next_sample_ = 0;
  uint32_t random_left_;
  std::mt19937_64 rng_;
};

// The graph on the sample and random ids must output the decoding of its stored rows.
void EvaluateIds(TierFile& tf, const VerifyOptions& opts, uint64_t vocab) {
  // A quarter chunk of output per batch leaves room for the interpreter's intermediates.
  const size_t batch = std::max<uint64_t>(1, kChunkFloatBytes / 4 / (tf.stored.cols * sizeof(float)));
  IdStream stream(vocab, opts.random_ids, opts.seed);
  std::vector<int64_t> ids;
  while (stream.Next(batch, &ids)) {
    Status s = CheckGraphOnIds(*tf.model, tf.stored, ids);
    if (!s.ok()) return tf.Fail(s.message());
    tf.out->ids_evaluated += ids.size();
  }
}

// Compares the recomputed overflow count with the report's, when it has one.
void CompareOverflowWithReport(TierFile& tf, const nlohmann::json& report) {
  const std::string key = std::string(tf.tier->name) + report_key::kOverflowSuffix;
  if (!report.is_object() || !report.contains(key)) return;
  const nlohmann::json& r = report[key];
  const OverflowFigures& o = tf.out->overflow;
  if (!r.is_object() || !r.contains(report_key::kOverflowCount) ||
      !r[report_key::kOverflowCount].is_number_unsigned() ||
      r[report_key::kOverflowCount].get<uint64_t>() != o.count)
    tf.Fail(fmt::format("{}: the report's {} {} does not match the stored table ({} values overflow)",
                        tf.out->file, key, r.dump(), o.count));
}

// Compares recomputed statistics with the report's, when it has them.
void CompareWithReport(TierFile& tf, const nlohmann::json& report) {
  if (!tf.tier->stats_key || !report.is_object() || !report.contains(tf.tier->stats_key)) return;
  const nlohmann::json& r = report[tf.tier->stats_key];
  const ErrorFigures& f = tf.out->stats;
  auto close = [](const nlohmann::json& j, const char* key, double want, double rel) {
    if (!j.contains(key) || !j[key].is_number()) return false;
    double got = j[key].get<double>();
    return std::fabs(got - want) <= rel * std::max(std::fabs(want), 1e-30);
  };
  // The figures are recomputed the way the exporter computes them, which is numpy 1.24's
  // way (float32 pairwise mean over 8192-value buffers in table order, numpy's quantile
  // index and lerp): our reports must agree to the last bit (1e-6 leaves only printing
  // slack). A report written by other software (the original script) may come from
  // another numpy whose float32 mean sums in other blocks: over 1e8 values that moves the
  // mean by about 1e-6, so those get the looser 1e-4.
  const bool ours = report.contains("tool") && report["tool"].is_object() &&
                    report["tool"].contains("name") && report["tool"]["name"] == kToolName;
  const double rel = ours ? 1e-6 : 1e-4;
  bool ok = close(r, "max_abs_err", f.max_abs_err, 1e-6) && close(r, "mean_abs_err", f.mean_abs_err, rel) &&
            close(r, "p99_abs_err", f.p99_abs_err, rel);
  if (ok && f.has_cosine && r.contains("mean_row_cosine"))
    ok = close(r, "mean_row_cosine", f.mean_row_cosine, 1e-9);
  if (!ok)
    return tf.Fail(tf.out->file + ": the report's " + tf.tier->stats_key + " " + r.dump() +
                   " do not match the stored table (recomputed max " + std::to_string(f.max_abs_err) +
                   ", mean " + std::to_string(f.mean_abs_err) + ", p99 " + std::to_string(f.p99_abs_err) +
                   ")");
  tf.out->stats_compared = true;
}

// The token id of each of `modalities` in `splice`: the report's, else the graph's
// metadata; both present and different is a mismatch.
Result<SpliceTokens> SpliceTokensOf(const LoadedModel& splice, const std::vector<std::string>& modalities,
                                    const nlohmann::json& report) {
  SpliceTokens tokens;
  for (const std::string& modality : modalities) {
    const std::string key = SplicedInput{modality, 0}.metadata_key();
    std::optional<int64_t> from_graph, from_report;
    for (const auto& p : splice.proto().metadata_props())
      if (p.key() == key) {
        try {
          size_t used = 0;
          from_graph = std::stoll(p.value(), &used);
          if (used != p.value().size()) from_graph.reset();
        } catch (...) {
        }
      }
    if (report.is_object() && report.contains(report_key::kSplice) &&
        report[report_key::kSplice].is_object()) {
      const nlohmann::json& r = report[report_key::kSplice];
      if (r.contains(key) && r[key].is_number_integer()) from_report = r[key].get<int64_t>();
    }
    if (from_graph && from_report && *from_graph != *from_report)
      return Status::Mismatch(fmt::format("{}: the graph's {} token id {} is not the report's {}",
                                          splice.path(), modality, *from_graph, *from_report));
    const std::optional<int64_t> id = from_report ? from_report : from_graph;
    if (!id)
      return Status::Mismatch(splice.path() + ": no " + modality +
                              " token id in the report or in the graph's metadata");
    (modality == "image" ? tokens.image : tokens.audio) = *id;
  }
  return tokens;
}

// The splice graphs beside the tier files that passed, and those the report lists.
void VerifySplices(const std::string& dir, const std::vector<TierFile>& tiers, const nlohmann::json& report,
                   uint64_t cols, uint64_t vocab, int32_t output_elem, std::vector<FileVerification>* out) {
  std::set<std::string> listed;
  if (report.is_object() && report.contains(report_key::kSplice) && report[report_key::kSplice].is_object() &&
      report[report_key::kSplice].contains(report_key::kSpliceGraphs) &&
      report[report_key::kSplice][report_key::kSpliceGraphs].is_object())
    for (const auto& [tier, path] : report[report_key::kSplice][report_key::kSpliceGraphs].items())
      if (path.is_string()) {
        const std::string& p = path.get_ref<const std::string&>();
        listed.insert(p.substr(p.find_last_of('/') + 1));
      }
  for (const TierFile& tf : tiers) {
    if (!tf.tier) continue;
    for (const std::string& name : SpliceFileNames(tf.tier->file_name)) {
      const std::vector<std::string> modalities = SpliceModalitiesOfName(tf.tier->file_name, name);
      FileVerification v;
      v.file = dir + "/" + name;
      v.tier = tf.tier->name;
      v.splice = true;
      v.ok = false;
      struct stat st;
      if (::stat(v.file.c_str(), &st) != 0) {
        if (!listed.count(name)) continue;
        v.message = v.file + ": the report lists this splice graph but it is missing";
        out->push_back(v);
        listed.erase(name);
        continue;
      }
      listed.erase(name);
      int64_t evaluated = 0;
      Status s = [&]() -> Status {
        if (tf.failed) return Status::Mismatch(v.file + ": its tier's graph " + tf.out->file + " failed");
        E2O_ASSIGN_OR_RETURN(std::unique_ptr<LoadedModel> splice, LoadedModel::Load(v.file));
        ContractOptions contract;
        contract.hidden = static_cast<int64_t>(cols);
        contract.our_layout = false;
        contract.splice_modalities = modalities;
        contract.output_elem = output_elem;
        E2O_RETURN_IF_ERROR(CheckLookupContract(*splice, contract));
        E2O_ASSIGN_OR_RETURN(SpliceTokens tokens, SpliceTokensOf(*splice, modalities, report));
        return CheckSpliceGraph(*splice, *tf.model, tokens, SampleIds(vocab), &evaluated);
      }();
      v.ok = s.ok();
      v.message = s.ok() ? "ok" : s.message();
      if (s.ok()) v.ids_evaluated = static_cast<uint64_t>(evaluated);
      out->push_back(v);
    }
  }
  for (const std::string& name : listed) {
    FileVerification v;
    v.file = dir + "/" + name;
    v.splice = true;
    v.message = v.file + ": the report lists this splice graph but it is missing";
    out->push_back(v);
  }
}
}  // namespace

static Result<VerifyResult> VerifyExportImpl(const VerifyOptions& opts) {
  E2O_ASSIGN_OR_RETURN(Checkpoint ckpt, Checkpoint::OpenDir(opts.model_dir));
  E2O_ASSIGN_OR_RETURN(const TensorInfo* info, FindEmbeddingTable(ckpt, opts.tensor));
  E2O_ASSIGN_OR_RETURN(std::unique_ptr<TableReader> table, TableReader::Open(*info));
  std::vector<std::string> names = ListTierFiles(opts.export_dir);
  if (names.empty())
    return Status::NotFound(opts.export_dir + ": no " + TierFilePrefix() + "*.onnx to verify");

  // The report says what the graphs output; its figures are compared after the pass.
  nlohmann::json report;
  auto text = ReadFileToString(opts.export_dir + "/" + kReportFileName, 64ull << 20);
  if (text.ok()) report = nlohmann::json::parse(*text, nullptr, false);
  E2O_ASSIGN_OR_RETURN(const int32_t output_elem, ReportedOutputElem(report, opts.export_dir));

  VerifyResult result;
  result.output_dtype = OutputDTypeName(output_elem);
  result.tensor = info->name;
  result.vocab = table->rows();
  result.hidden = table->cols();
  result.files.resize(names.size());
  std::vector<TierFile> files(names.size());
  for (size_t i = 0; i < names.size(); ++i) {
    files[i].out = &result.files[i];
    files[i].out->ok = true;
    files[i].out->message = "ok";
    Prepare(opts.export_dir, names[i], *table, output_elem, &files[i]);
  }

  // Every stored byte against the encoding of the checkpoint, in one pass for all files.
  std::vector<PassTier> pass_tiers;
  std::vector<TierFile*> in_pass;
  for (TierFile& tf : files) {
    if (tf.failed) continue;
    tf.sink = std::make_unique<VerifySink>(tf.stored);
    pass_tiers.push_back({tf.tier, tf.stored.params, tf.sink.get()});
    in_pass.push_back(&tf);
  }
  // A float16 output overflows where fp16w's rows do: its encoder counts them, writing nothing.
  const size_t half_overflow_at = pass_tiers.size();
  if (output_elem == onnx::TensorProto::FLOAT16)
    pass_tiers.push_back({FindTier("fp16w"), TierParams{}, nullptr});
  PassOptions popts;
  popts.threads = opts.threads > 0 ? opts.threads : AvailableCores();
  popts.isolate_sink_errors = true;  // one bad file does not hide what the others hold
  const TableSource source(*table);
  PassResult pass;
  E2O_RETURN_IF_ERROR(RunTablePass(source, pass_tiers, popts, &pass));
  for (size_t k = 0; k < in_pass.size(); ++k) {
    TierFile& tf = *in_pass[k];
    const TierPassResult& r = pass.tiers[k];
    if (!r.status.ok()) {
      tf.Fail(r.status.message());
      continue;
    }
    tf.out->rows_checked = table->rows();
    tf.out->overflow = r.overflow;
    tf.out->has_stats = r.has_figures;
    tf.out->stats = r.figures;
  }
  if (output_elem == onnx::TensorProto::FLOAT16 && !report.is_discarded()) {
    result.output_overflow = pass.tiers[half_overflow_at].overflow;
    Status s = CompareOutputOverflow(result.output_overflow, report, opts.export_dir);
    if (!s.ok())
      for (TierFile& tf : files) tf.Fail(s.message());
  }
  for (TierFile& tf : files) {
    if (tf.failed) continue;
    EvaluateIds(tf, opts, table->rows());
    if (tf.failed || report.is_discarded()) continue;
    CompareWithReport(tf, report);
    CompareOverflowWithReport(tf, report);
  }
  // After the tiers: `files` points into result.files, which this appends to.
  std::vector<FileVerification> splices;
  VerifySplices(opts.export_dir, files, report.is_discarded() ? nlohmann::json() : report, table->cols(),
                table->rows(), output_elem, &splices);
  for (FileVerification& v : splices) result.files.push_back(std::move(v));
  return result;
}

Result<VerifyResult> VerifyExport(const VerifyOptions& opts) {
  return CatchAll(opts.export_dir, [&] { return VerifyExportImpl(opts); });
}

}  // namespace embed2onnx
