#include "export/pipeline.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <condition_variable>
#include <cstring>
#include <limits>
#include <memory>
#include <mutex>
#include <thread>

#include "numerics/decode.h"
#include "numerics/numpy_sum.h"
#include "util/thread_pool.h"

namespace embed2onnx {

namespace {

// What pass a run over the table is.
enum class Pass { kWriteAndCount, kRefineQuantile };

// One chunk of rows in flight, with every buffer its stages need.
struct Slot {
  uint64_t first = 0, rows = 0;
  std::vector<uint8_t> raw;
  std::vector<float> values;
  std::vector<std::vector<std::vector<uint8_t>>> encoded;  // [tier][streamed initializer]
  std::vector<std::vector<float>> errors;                  // [stats tier] n*d
  std::vector<std::vector<double>> row_cosines;            // [stats tier] per row
  Status status;                                           // reader's result for this chunk
  enum State { kFree, kRead, kEncoded } state = kFree;
};

// Per-worker accumulators for one stats tier.
struct WorkerStats {
  HighBitsHistogram high;
  LowBitsHistogram low;
  float max = 0.0f;
  // This chunk's errors inside the quantile window, counted by the encoding thread
  // after each chunk. Allocated without being touched: only what is kept costs memory.
  std::unique_ptr<float[]> kept;
  size_t kept_capacity = 0, kept_n = 0;
};

// Rows sampled, evenly spaced, to guess each p99 before pass 1 (at most kSampleValues
// values, so wide tables sample fewer rows), and the window kept around the guess: +-16
// high-bit buckets is about +-9 % (a bucket is 1/128 of an octave).
constexpr uint64_t kSampleRows = 512;
constexpr uint64_t kSampleValues = uint64_t{1} << 20;
constexpr uint32_t kWindowHalfWidth = 16;

// Turns decoded values into |decoded - source|, in float32 as numpy computes it.
void AbsErrorsInPlace(const float* source, size_t count, float* decoded) {
  for (size_t i = 0; i < count; ++i) decoded[i] = std::fabs(decoded[i] - source[i]);
}

class Runner {
 public:
  Runner(const TableReader& table, const std::vector<TierWriter*>& writers, const PipelineOptions& opts)
      : table_(table), writers_(writers), opts_(opts), pool_(opts.threads), progress_(opts.progress) {
    d_ = table.cols();
    chunk_rows_ = std::max<uint64_t>(1, opts.chunk_bytes / (d_ * sizeof(float)));
    chunk_rows_ = std::min(chunk_rows_, table.rows());
    for (size_t t = 0; t < writers_.size(); ++t)
      if (writers_[t]->tier().stats_key) stats_tiers_.push_back(t);
    for (Slot& s : slots_) {
      s.raw.resize(chunk_rows_ * table.row_bytes());
      s.values.resize(chunk_rows_ * d_);
      s.encoded.resize(writers_.size());
      for (size_t t = 0; t < writers_.size(); ++t) {
        const Tier& tier = writers_[t]->tier();
        for (int i = 0; i < tier.num_streamed; ++i)
          s.encoded[t].emplace_back(chunk_rows_ * TierRowBytes(tier, i, d_, writers_[t]->params()));
      }
      s.errors.assign(stats_tiers_.size(), std::vector<float>(chunk_rows_ * d_));
      s.row_cosines.assign(stats_tiers_.size(), std::vector<double>(chunk_rows_));
    }
    worker_stats_.resize(stats_tiers_.size());
    for (std::vector<WorkerStats>& per_worker : worker_stats_)
      per_worker = std::vector<WorkerStats>(pool_.size());
    for (size_t k = 0; k < stats_tiers_.size(); ++k) quantiles_.emplace_back(table.rows() * d_, 0.99);
    np_sums_.resize(stats_tiers_.size());
    refine_.assign(stats_tiers_.size(), 0);
    refine_tier_.assign(writers_.size(), 0);
    cosine_sums_.assign(stats_tiers_.size(), 0.0);
  }

  Status Run(std::vector<TableStats>* stats) {
    auto t0 = std::chrono::steady_clock::now();
    E2O_RETURN_IF_ERROR(GuessQuantileWindows());
    E2O_RETURN_IF_ERROR(RunPass(Pass::kWriteAndCount));
    auto t1 = std::chrono::steady_clock::now();
    if (opts_.seconds_pass1) *opts_.seconds_pass1 = std::chrono::duration<double>(t1 - t0).count();
    if (opts_.seconds_pass2) *opts_.seconds_pass2 = 0.0;
    if (stats_tiers_.empty()) return Status::Ok();
    bool all_resolved = true;
    for (size_t k = 0; k < stats_tiers_.size(); ++k) {
      for (WorkerStats& w : worker_stats_[k]) quantiles_[k].MergePass1(w.high);
      refine_[k] = !quantiles_[k].ResolvedInPass1();
      refine_tier_[stats_tiers_[k]] = refine_[k];
      if (!refine_[k]) continue;
      all_resolved = false;
      LowBitsHistogram empty = quantiles_[k].StartPass2();
      for (WorkerStats& w : worker_stats_[k]) w.low = empty;
    }
    if (!all_resolved) {
      E2O_RETURN_IF_ERROR(RunPass(Pass::kRefineQuantile));
      if (opts_.seconds_pass2)
        *opts_.seconds_pass2 = std::chrono::duration<double>(std::chrono::steady_clock::now() - t1).count();
    }
    for (size_t k = 0; k < stats_tiers_.size(); ++k) {
      TableStats ts;
      ts.tier = writers_[stats_tiers_[k]]->tier().name;
      float max = 0.0f;
      for (WorkerStats& w : worker_stats_[k]) {
        if (refine_[k]) quantiles_[k].MergePass2(w.low);
        max = std::max(max, w.max);
      }
      ts.summary.max_abs_err = max;
      ts.summary.mean_abs_err = np_sums_[k].Mean(table_.rows() * d_);
      ts.summary.p99_abs_err = quantiles_[k].Result();
      ts.mean_row_cosine = cosine_sums_[k] / static_cast<double>(table_.rows());
      ts.has_cosine = writers_[stats_tiers_[k]]->tier().report_cosine;
      stats->push_back(ts);
    }
    return Status::Ok();
  }

 private:
  // Guesses each stats tier's p99 from kSampleRows rows spread over the table and sets
  // the window pass 1 counts low bits in. A wrong guess costs pass 2, never exactness.
  Status GuessQuantileWindows() {
    if (stats_tiers_.empty()) return Status::Ok();
    const uint64_t n = std::min({table_.rows(), kSampleRows, std::max<uint64_t>(1, kSampleValues / d_)});
    std::vector<uint8_t> raw(table_.row_bytes());
    std::vector<float> vals(n * d_), errs(n * d_);
    for (uint64_t i = 0; i < n; ++i) {
      E2O_RETURN_IF_ERROR(table_.ReadRows(i * table_.rows() / n, 1, raw.data()));
      // A non-finite weight: pass 1 reports it with its row and column.
      if (DecodeToFloat(table_.dtype(), raw.data(), vals.data() + i * d_, d_) >= 0) return Status::Ok();
    }
    for (size_t k = 0; k < stats_tiers_.size(); ++k) {
      const TierWriter& w = *writers_[stats_tiers_[k]];
      std::vector<std::vector<uint8_t>> enc;
      enc.reserve(kMaxStreamed);  // outs points into it
      uint8_t* outs[kMaxStreamed];
      for (int i = 0; i < w.tier().num_streamed; ++i) {
        enc.emplace_back(n * TierRowBytes(w.tier(), i, d_, w.params()));
        outs[i] = enc.back().data();
      }
      w.tier().encode(vals.data(), n, d_, w.params(), outs);
      w.tier().decode(outs, n, d_, w.params(), errs.data());
      AbsErrorsInPlace(vals.data(), errs.size(), errs.data());
      auto at = errs.begin() + static_cast<ptrdiff_t>(NumpyQuantileIndex(errs.size(), 0.99));
      std::nth_element(errs.begin(), at, errs.end());
      quantiles_[k].SetWindow(QuantileWindow::Around(*at, kWindowHalfWidth));
    }
    return Status::Ok();
  }

  Status RunPass(Pass pass) {
    const uint64_t chunks = (table_.rows() + chunk_rows_ - 1) / chunk_rows_;
    for (Slot& s : slots_) s.state = Slot::kFree;
    failed_ = false;
    Status reader_status, writer_status;
    std::thread reader([&] {
      for (uint64_t c = 0; c < chunks; ++c) {
        Slot& s = slots_[c % kSlots];
        if (!WaitFor(s, Slot::kFree)) return;
        s.first = c * chunk_rows_;
        s.rows = std::min(chunk_rows_, table_.rows() - s.first);
        s.status = table_.ReadRows(s.first, s.rows, s.raw.data());
        SetState(s, Slot::kRead);
        if (!s.status.ok()) return;
      }
    });
    std::thread writer;
    if (pass == Pass::kWriteAndCount) {
      writer = std::thread([&] {
        for (uint64_t c = 0; c < chunks; ++c) {
          Slot& s = slots_[c % kSlots];
          if (!WaitFor(s, Slot::kEncoded)) return;
          // numpy's mean sums the errors in table order: the writer sees chunks in order.
          for (size_t k = 0; k < stats_tiers_.size(); ++k) np_sums_[k].Add(s.errors[k].data(), s.rows * d_);
          for (size_t t = 0; t < writers_.size() && writer_status.ok(); ++t) {
            const uint8_t* outs[kMaxStreamed];
            for (size_t i = 0; i < s.encoded[t].size(); ++i) outs[i] = s.encoded[t][i].data();
            writer_status = writers_[t]->WriteRows(s.first, s.rows, outs);
          }
          if (!writer_status.ok()) {
            Fail();
            return;
          }
          if (progress_) progress_(1, s.first + s.rows);
          SetState(s, Slot::kFree);
        }
      });
    }
    Status encode_status;
    for (uint64_t c = 0; c < chunks && encode_status.ok(); ++c) {
      Slot& s = slots_[c % kSlots];
      if (!WaitFor(s, Slot::kRead)) break;
      if (!s.status.ok()) {
        encode_status = s.status;
        Fail();
        break;
      }
      encode_status = Encode(s, pass);
      if (!encode_status.ok()) {
        Fail();
        break;
      }
      if (pass == Pass::kRefineQuantile && progress_) progress_(2, s.first + s.rows);
      SetState(s, pass == Pass::kWriteAndCount ? Slot::kEncoded : Slot::kFree);
    }
    reader.join();
    if (writer.joinable()) writer.join();
    E2O_RETURN_IF_ERROR(encode_status);
    return writer_status;
  }

  Status Encode(Slot& s, Pass pass) {
    std::vector<int64_t> bad_row(pool_.size(), -1), bad_col(pool_.size(), -1);
    const uint64_t row_bytes = table_.row_bytes();
    pool_.ParallelFor(s.rows, [&](size_t b, size_t e, int w) {
      const size_t n = e - b;
      float* vals = s.values.data() + b * d_;
      int64_t bad = DecodeToFloat(table_.dtype(), s.raw.data() + b * row_bytes, vals, n * d_);
      if (bad >= 0) {
        bad_row[w] = static_cast<int64_t>(s.first + b) + bad / static_cast<int64_t>(d_);
        bad_col[w] = bad % static_cast<int64_t>(d_);
        return;
      }
      for (size_t t = 0; t < writers_.size(); ++t) {
        const Tier& tier = writers_[t]->tier();
        if (pass == Pass::kRefineQuantile && !refine_tier_[t]) continue;
        uint8_t* outs[kMaxStreamed];
        for (int i = 0; i < tier.num_streamed; ++i)
          outs[i] = s.encoded[t][i].data() + b * TierRowBytes(tier, i, d_, writers_[t]->params());
        tier.encode(vals, n, d_, writers_[t]->params(), outs);
      }
      for (size_t k = 0; k < stats_tiers_.size(); ++k) {
        if (pass == Pass::kRefineQuantile && !refine_[k]) continue;
        const size_t t = stats_tiers_[k];
        const Tier& tier = writers_[t]->tier();
        const uint8_t* outs[kMaxStreamed];
        for (int i = 0; i < tier.num_streamed; ++i)
          outs[i] = s.encoded[t][i].data() + b * TierRowBytes(tier, i, d_, writers_[t]->params());
        float* errs = s.errors[k].data() + b * d_;
        tier.decode(outs, n, d_, writers_[t]->params(), errs);
        if (pass == Pass::kWriteAndCount && tier.report_cosine)
          for (size_t r = 0; r < n; ++r)
            s.row_cosines[k][b + r] = RowCosine(vals + r * d_, errs + r * d_, d_);
        AbsErrorsInPlace(vals, n * d_, errs);
        WorkerStats& ws = worker_stats_[k][w];
        if (pass == Pass::kRefineQuantile) {
          ws.low.Add(errs, n * d_);
          continue;
        }
        ws.high.Add(errs, n * d_);
        float m = ws.max;
        for (size_t i = 0; i < n * d_; ++i) m = errs[i] > m ? errs[i] : m;
        ws.max = m;
        if (ws.kept_capacity < n * d_) {
          ws.kept.reset(new float[n * d_]);
          ws.kept_capacity = n * d_;
        }
        ws.kept_n = quantiles_[k].window().Filter(errs, n * d_, ws.kept.get());
      }
    });
    int64_t first_bad = -1, col = -1;
    for (size_t w = 0; w < bad_row.size(); ++w)
      if (bad_row[w] >= 0 && (first_bad < 0 || bad_row[w] < first_bad))
        first_bad = bad_row[w], col = bad_col[w];
    if (first_bad >= 0)
      return Status::InvalidArgument(table_.info().file + ": tensor '" + table_.info().name + "' row " +
                                     std::to_string(first_bad) + " column " + std::to_string(col) +
                                     " holds NaN or inf; a checkpoint's weights must be finite");
    if (pass == Pass::kWriteAndCount)
      for (size_t k = 0; k < stats_tiers_.size(); ++k) {
        for (uint64_t r = 0; r < s.rows; ++r) {
          cosine_sums_[k] += s.row_cosines[k][r];
        }
        for (WorkerStats& ws : worker_stats_[k]) {
          quantiles_[k].AddToWindow(ws.kept.get(), ws.kept_n);
          ws.kept_n = 0;
        }
      }
    return Status::Ok();
  }

  bool WaitFor(Slot& s, Slot::State want) {
    std::unique_lock<std::mutex> lock(mu_);
    cv_.wait(lock, [&] { return failed_ || s.state == want; });
    return !failed_;
  }
  void SetState(Slot& s, Slot::State st) {
    {
      std::lock_guard<std::mutex> lock(mu_);
      s.state = st;
    }
    cv_.notify_all();
  }
  void Fail() {
    {
      std::lock_guard<std::mutex> lock(mu_);
      failed_ = true;
    }
    cv_.notify_all();
  }

  static constexpr int kSlots = 3;
  const TableReader& table_;
  const std::vector<TierWriter*>& writers_;
  const PipelineOptions& opts_;
  ThreadPool pool_;
  std::function<void(int, uint64_t)> progress_;
  uint64_t d_ = 0, chunk_rows_ = 0;
  std::vector<size_t> stats_tiers_;  // indices into writers_
  Slot slots_[kSlots];
  std::vector<std::vector<WorkerStats>> worker_stats_;  // [stats tier][worker]
  std::vector<TwoPassQuantile> quantiles_;
  std::vector<char> refine_;              // [stats tier]: its p99 needs pass 2
  std::vector<char> refine_tier_;         // [writer]: pass 2 re-encodes it
  std::vector<NumpyFloat32Sum> np_sums_;  // [stats tier], fed in table order by the writer
  std::vector<double> cosine_sums_;
  std::mutex mu_;
  std::condition_variable cv_;
  bool failed_ = false;
};

}  // namespace

Status StreamTable(const TableReader& table, const std::vector<TierWriter*>& writers,
                   const PipelineOptions& opts, std::vector<TableStats>* stats) {
  Runner runner(table, writers, opts);
  return runner.Run(stats);
}

}  // namespace embed2onnx
