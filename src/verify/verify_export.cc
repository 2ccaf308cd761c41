#include <dirent.h>
#include <fmt/core.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <memory>
#include <nlohmann/json.hpp>
#include <random>

#include "check/contract.h"
#include "check/evaluator.h"
#include "check/parity.h"
#include "embed2onnx/checkpoint.h"
#include "embed2onnx/tensor_finder.h"
#include "embed2onnx/verify.h"
#include "numerics/decode.h"
#include "numerics/error_stats.h"
#include "numerics/numpy_sum.h"
#include "onnx/onnx_model.h"
#include "schema/names.h"
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

constexpr uint64_t kChunkFloatBytes = 4ull << 20;

// One .onnx being verified, with its per-worker accumulators.
struct TierFile {
  FileVerification* out = nullptr;
  const Tier* tier = nullptr;
  TierParams params;
  std::unique_ptr<LoadedModel> model;
  const InitializerData* stored[kMaxStreamed] = {};
  bool failed = false;
  // Quantised tiers: whole-table statistics.
  std::vector<HighBitsHistogram> high;
  std::vector<LowBitsHistogram> low;
  std::vector<float> max;
  std::unique_ptr<TwoPassQuantile> quantile;
  NumpyFloat32Sum sum;  // fed in table order, as the exporter and numpy do
  double cosine_sum = 0;

  void Fail(const std::string& msg) {
    if (failed) return;
    failed = true;
    out->ok = false;
    out->message = msg;
  }
  uint64_t RowBytes(int i, uint64_t d) const { return TierRowBytes(*tier, i, d, params); }
};

std::vector<std::string> ListTierFiles(const std::string& dir) {
  std::vector<std::string> names;
  if (DIR* d = ::opendir(dir.c_str())) {
    while (dirent* e = ::readdir(d)) {
      std::string n = e->d_name;
      if (n.rfind(TierFilePrefix(), 0) == 0 && n.size() > 5 && n.compare(n.size() - 5, 5, ".onnx") == 0)
        names.push_back(n);
    }
    ::closedir(d);
  }
  std::sort(names.begin(), names.end());
  return names;
}

// Loads one file and checks everything that does not need the table's rows.
void Prepare(const std::string& dir, const std::string& name, const TableReader& table, TierFile* tf) {
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
  Status s = CheckLookupContract(*tf->model, contract);
  if (!s.ok()) return tf->Fail(s.message());

  const uint64_t d = table.cols();
  for (int i = 0; i < tf->tier->num_streamed; ++i) {
    const StreamedInitializer& si = tf->tier->streamed[i];
    auto it = tf->model->initializers().find(si.name);
    if (it == tf->model->initializers().end())
      return tf->Fail(tf->out->file + ": initializer '" + si.name + "' is missing");
    const InitializerData& init = it->second;
    if (init.elem_type != si.elem_type)
      return tf->Fail(tf->out->file + ": initializer '" + si.name + "' has the wrong element type");
    // int4: the block size follows from the scales' shape.
    if (si.shape == RowShape::kBlocks && init.dims.size() == 2 && init.dims[1] > 0 && d % init.dims[1] == 0)
      tf->params.int4_block = static_cast<uint32_t>(d / init.dims[1]);
    tf->stored[i] = &init;
  }
  if (tf->tier->check_params) {
    s = tf->tier->check_params(d, tf->params);
    if (!s.ok()) return tf->Fail(tf->out->file + ": " + s.message());
  }
  for (int i = 0; i < tf->tier->num_streamed; ++i) {
    const InitializerData& init = *tf->stored[i];
    std::vector<int64_t> want = {static_cast<int64_t>(table.rows())};
    if (tf->tier->streamed[i].shape != RowShape::kOne)
      want.push_back(static_cast<int64_t>(TierRowElems(*tf->tier, i, d, tf->params)));
    if (init.dims != want)
      return tf->Fail(tf->out->file + ": initializer '" + init.name + "' does not have the table's shape");
  }
}

// Reads rows [first, first + n) of every streamed initializer.
Status ReadStored(const TierFile& tf, uint64_t first, uint64_t n, uint64_t d,
                  std::vector<std::vector<uint8_t>>* bufs) {
  bufs->resize(tf.tier->num_streamed);
  for (int i = 0; i < tf.tier->num_streamed; ++i) {
    uint64_t rb = tf.RowBytes(i, d);
    (*bufs)[i].resize(n * rb);
    E2O_RETURN_IF_ERROR(tf.stored[i]->Read(first * rb, n * rb, (*bufs)[i].data()));
  }
  return Status::Ok();
}

class Verifier {
 public:
  Verifier(const TableReader& table, std::vector<TierFile>& files, int threads)
      : table_(table), files_(files), pool_(threads) {
    d_ = table.cols();
    chunk_rows_ = std::min<uint64_t>(table.rows(), std::max<uint64_t>(1, kChunkFloatBytes / (d_ * 4)));
    for (TierFile& tf : files_) {
      if (tf.failed || !tf.tier->stats_key) continue;
      tf.high.resize(pool_.size());
      tf.max.assign(pool_.size(), 0.0f);
      tf.quantile = std::make_unique<TwoPassQuantile>(table.rows() * d_, 0.99);
    }
  }

  Status Run() {
    E2O_RETURN_IF_ERROR(Pass(false));
    bool any = false;
    for (TierFile& tf : files_) {
      if (tf.failed || !tf.quantile) continue;
      for (auto& h : tf.high) tf.quantile->MergePass1(h);
      tf.low.assign(pool_.size(), tf.quantile->StartPass2());
      any = true;
    }
    if (any) E2O_RETURN_IF_ERROR(Pass(true));
    for (TierFile& tf : files_) {
      if (tf.failed) continue;
      tf.out->rows_checked = table_.rows();
      if (!tf.quantile) continue;
      for (auto& l : tf.low) tf.quantile->MergePass2(l);
      ErrorFigures& f = tf.out->stats;
      tf.out->has_stats = true;
      f.max_abs_err = *std::max_element(tf.max.begin(), tf.max.end());
      f.mean_abs_err = tf.sum.Mean(table_.rows() * d_);
      f.p99_abs_err = tf.quantile->Result();
      f.has_cosine = tf.tier->report_cosine;
      f.mean_row_cosine = tf.cosine_sum / static_cast<double>(table_.rows());
    }
    return Status::Ok();
  }

 private:
  // One streaming pass over the table. Pass 2 only refines the quantiles.
  Status Pass(bool refine) {
    std::vector<uint8_t> raw(chunk_rows_ * table_.row_bytes());
    std::vector<float> src(chunk_rows_ * d_), work(pool_.size() * d_ * 2), errs(chunk_rows_ * d_);
    std::vector<double> row_cos(chunk_rows_);
    for (uint64_t first = 0; first < table_.rows(); first += chunk_rows_) {
      const uint64_t n = std::min(chunk_rows_, table_.rows() - first);
      E2O_RETURN_IF_ERROR(table_.ReadRows(first, n, raw.data()));
      int64_t bad = DecodeToFloat(table_.dtype(), raw.data(), src.data(), n * d_);
      if (bad >= 0)
        return Status::InvalidArgument(table_.info().file + ": tensor '" + table_.info().name + "' row " +
                                       std::to_string(first + bad / d_) + " holds NaN or inf");
      for (TierFile& tf : files_) {
        if (tf.failed || (refine && !tf.quantile)) continue;
        std::vector<std::vector<uint8_t>> stored;
        Status s = ReadStored(tf, first, n, d_, &stored);
        if (!s.ok()) {
          tf.Fail(s.message());
          continue;
        }
        CheckChunk(tf, first, n, src.data(), stored, refine, &work, &errs, &row_cos);
      }
    }
    return Status::Ok();
  }

  void CheckChunk(TierFile& tf, uint64_t first, uint64_t n, const float* src,
                  const std::vector<std::vector<uint8_t>>& stored, bool refine, std::vector<float>* work,
                  std::vector<float>* errs, std::vector<double>* row_cos) {
    const Tier& tier = *tf.tier;
    std::vector<int64_t> bad_row(pool_.size(), -1);
    std::vector<std::string> bad_msg(pool_.size());
    pool_.ParallelFor(n, [&](size_t b, size_t e, int w) {
      float* dec = work->data() + w * d_ * 2;
      float* bound = dec + d_;
      std::vector<std::vector<uint8_t>> expect(tier.num_streamed);
      for (size_t r = b; r < e; ++r) {
        const float* x = src + r * d_;
        const uint8_t* row[kMaxStreamed];
        for (int i = 0; i < tier.num_streamed; ++i) row[i] = stored[i].data() + r * tf.RowBytes(i, d_);
        if (!refine) {
          // Every tier stores exactly the encoding of the source: the quantised ones
          // too (the original script's int8 is numpy's, which ours equals byte for
          // byte), so a changed byte is found even where it would stay inside the
          // quantisation bound (a scale's low mantissa bit, a code of a zero block).
          uint8_t* outs[kMaxStreamed];
          for (int i = 0; i < tier.num_streamed; ++i) {
            expect[i].resize(tf.RowBytes(i, d_));
            outs[i] = expect[i].data();
          }
          tier.encode(x, 1, d_, tf.params, outs);
          for (int i = 0; i < tier.num_streamed; ++i)
            if (std::memcmp(outs[i], row[i], expect[i].size()) != 0) {
              bad_row[w] = static_cast<int64_t>(first + r);
              bad_msg[w] = "initializer '" + std::string(tier.streamed[i].name) +
                           "' differs from the encoding of the checkpoint";
              if (tier.stats_key) {
                // Say also whether the decoded values still respect the bound.
                tier.decode(row, 1, d_, tf.params, dec);
                tier.row_bound(row, d_, tf.params, bound);
                for (size_t j = 0; j < d_; ++j)
                  if (!(std::fabs(dec[j] - x[j]) <= bound[j])) {
                    bad_msg[w] +=
                        fmt::format("; column {} decodes to {:.9g}, source {:.9g}, outside the bound {:.3g}",
                                    j, dec[j], x[j], bound[j]);
                    break;
                  }
              }
              return;
            }
          if (!tier.stats_key) continue;
        }
        tier.decode(row, 1, d_, tf.params, dec);
        if (!refine) (*row_cos)[r] = tier.report_cosine ? RowCosine(x, dec, d_) : 0.0;
        // |decoded - source| in float32, kept for the in-order mean when counting.
        float* err = refine ? dec : errs->data() + r * d_;
        float m = tf.max[w];
        for (size_t j = 0; j < d_; ++j) {
          err[j] = std::fabs(dec[j] - x[j]);
          m = err[j] > m ? err[j] : m;
        }
        if (refine) {
          tf.low[w].Add(err, d_);
        } else {
          tf.high[w].Add(err, d_);
          tf.max[w] = m;
        }
      }
    });
    for (size_t w = 0; w < bad_row.size(); ++w)
      if (bad_row[w] >= 0) {
        // Report the lowest failing row whatever the thread split.
        size_t best = w;
        for (size_t v = 0; v < bad_row.size(); ++v)
          if (bad_row[v] >= 0 && bad_row[v] < bad_row[best]) best = v;
        tf.Fail(tf.out->file + ": row " + std::to_string(bad_row[best]) + ": " + bad_msg[best]);
        return;
      }
    if (tier.stats_key && !refine) {
      tf.sum.Add(errs->data(), n * d_);
      for (uint64_t r = 0; r < n; ++r) tf.cosine_sum += (*row_cos)[r];
    }
  }

  const TableReader& table_;
  std::vector<TierFile>& files_;
  ThreadPool pool_;
  uint64_t d_ = 0, chunk_rows_ = 0;
};

// The graph on sample and random ids must output the decoding of its stored rows.
void EvaluateIds(TierFile& tf, const TableReader& table, const std::vector<int64_t>& ids) {
  auto got = EvaluateLookup(*tf.model, MakeIdsTensor(ids, 1, static_cast<int64_t>(ids.size())));
  if (!got.ok()) return tf.Fail(got.status().message());
  const uint64_t d = table.cols();
  if (got->elem_type != onnx::TensorProto::FLOAT || got->count() != ids.size() * d)
    return tf.Fail(tf.out->file + ": the graph's output is not float32 [1, " + std::to_string(ids.size()) +
                   ", " + std::to_string(d) + "]");
  std::vector<float> expect(d);
  for (size_t k = 0; k < ids.size(); ++k) {
    std::vector<std::vector<uint8_t>> stored;
    Status s = ReadStored(tf, static_cast<uint64_t>(ids[k]), 1, d, &stored);
    if (!s.ok()) return tf.Fail(s.message());
    const uint8_t* row[kMaxStreamed];
    for (int i = 0; i < tf.tier->num_streamed; ++i) row[i] = stored[i].data();
    tf.tier->decode(row, 1, d, tf.params, expect.data());
    if (std::memcmp(expect.data(), got->data.data() + k * d * 4, d * 4) != 0)
      return tf.Fail(tf.out->file + ": graph output for id " + std::to_string(ids[k]) +
                     " differs from the decoding of its stored row");
  }
  tf.out->ids_evaluated = ids.size();
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

}  // namespace

static Result<VerifyResult> VerifyExportImpl(const VerifyOptions& opts) {
  E2O_ASSIGN_OR_RETURN(Checkpoint ckpt, Checkpoint::OpenDir(opts.model_dir));
  E2O_ASSIGN_OR_RETURN(const TensorInfo* info, FindEmbeddingTable(ckpt, opts.tensor));
  E2O_ASSIGN_OR_RETURN(std::unique_ptr<TableReader> table, TableReader::Open(*info));
  std::vector<std::string> names = ListTierFiles(opts.export_dir);
  if (names.empty())
    return Status::NotFound(opts.export_dir + ": no " + TierFilePrefix() + "*.onnx to verify");

  VerifyResult result;
  result.tensor = info->name;
  result.vocab = table->rows();
  result.hidden = table->cols();
  result.files.resize(names.size());
  std::vector<TierFile> files(names.size());
  for (size_t i = 0; i < names.size(); ++i) {
    files[i].out = &result.files[i];
    files[i].out->ok = true;
    files[i].out->message = "ok";
    Prepare(opts.export_dir, names[i], *table, &files[i]);
  }

  Verifier verifier(*table, files, opts.threads > 0 ? opts.threads : AvailableCores());
  E2O_RETURN_IF_ERROR(verifier.Run());

  std::vector<int64_t> ids = SampleIds(table->rows());
  std::mt19937_64 rng(opts.seed);
  for (uint32_t k = 0; k < opts.random_ids; ++k) ids.push_back(static_cast<int64_t>(rng() % table->rows()));
  nlohmann::json report;
  auto text = ReadFileToString(opts.export_dir + "/" + kReportFileName, 64ull << 20);
  if (text.ok()) report = nlohmann::json::parse(*text, nullptr, false);
  for (TierFile& tf : files) {
    if (tf.failed) continue;
    EvaluateIds(tf, *table, ids);
    if (!tf.failed && !report.is_discarded()) CompareWithReport(tf, report);
  }
  return result;
}

Result<VerifyResult> VerifyExport(const VerifyOptions& opts) {
  return CatchAll(opts.export_dir, [&] { return VerifyExportImpl(opts); });
}

}  // namespace embed2onnx
