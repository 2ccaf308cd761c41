#include "stream/table_pass.h"

#include <time.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <condition_variable>
#include <exception>
#include <map>
#include <memory>
#include <mutex>
#include <thread>
#include <tuple>

#include "numerics/decode.h"
#include "numerics/half.h"
#include "numerics/simd.h"
#include "stream/figures_accumulator.h"
#include "util/thread_pool.h"

namespace embed2onnx {

namespace {

enum class Pass { kFirst, kRefine };

using Clock = std::chrono::steady_clock;
// CPU seconds (user and system) of the calling thread: what a stage costs, whether or
// not the machine's other work preempted it meanwhile.
double ThreadCpuSeconds() {
  timespec ts{};
  ::clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + 1e-9 * static_cast<double>(ts.tv_nsec);
}
// Adds the calling thread's CPU seconds from its construction to the end of its scope
// to *to.
struct BusyTimer {
  double* to;
  double t0 = ThreadCpuSeconds();
  ~BusyTimer() { *to += ThreadCpuSeconds() - t0; }
};

// Rows sampled, evenly spaced, to guess each p99 before pass 1 (at most kSampleValues
// values, so wide tables sample fewer rows).
constexpr uint64_t kSampleRows = 512;
constexpr uint64_t kSampleValues = uint64_t{1} << 20;

// 65504 is the largest finite fp16, the narrowest float any tier stores (fp16w's values,
// int4's scales): rows whose every |x| is below it overflow in no tier, so only the rare
// rows with a larger value are decoded again to count what became inf.
constexpr float kNarrowestFloatMax = 65504.0f;

// Float32 values a worker takes through every stage at once (whole rows, at least one):
// 64 KiB, so they and their errors stay in a core's L2 cache.
constexpr size_t kBlockFloats = 16384;

// |decoded - source| in place of decoded, in float32 as numpy computes it.
E2O_AVX2_CLONES void AbsErrorsInPlace(const float* source, size_t count, float* decoded) {
  for (size_t i = 0; i < count; ++i) decoded[i] = std::fabs(decoded[i] - source[i]);
}

// One chunk of rows in flight, with every buffer its stages need.
struct Slot {
  uint64_t first = 0, rows = 0;
  std::vector<uint8_t> raw;
  std::vector<float> values;
  std::vector<std::vector<std::vector<uint8_t>>> encoded;  // [tier][streamed initializer]
  std::vector<std::vector<NumpySumPart>> sums;             // [quantised tier][block]
  std::vector<std::vector<double>> cosines;                // [quantised tier] per row
  std::vector<std::vector<KeptValues>> kept;               // [quantised tier][worker]
  Status status;                                           // the reader's, for this chunk
  uint64_t chunk = 0;                                      // its index in the pass
  int lanes_pending = 0;                                   // sink lanes still to take it
  enum State { kFree, kRead, kSinking } state = kFree;
  // While the chunk is encoded, its blocks of rows go to whichever thread asks next:
  // the encoders, and the sink lanes waiting for this chunk (Runner::EncodeBlocks).
  bool encoding = false;  // guarded by the Runner's mutex
  Pass pass = Pass::kFirst;
  std::vector<char> skip;                 // [tier]: not encoded in this pass
  std::vector<int64_t> bad;               // [worker]: first non-finite value seen, or -1
  size_t blocks = 0;                      // of the chunk
  std::atomic<size_t> next_block{0};      // the next to hand out
  std::atomic<size_t> stop_at{SIZE_MAX};  // blocks from here on are skipped (a bad one)
  std::atomic<size_t> blocks_done{0};     // encoded or skipped
  // Signalled when `state` changes (and on failure): a thread waits on the slot of the
  // chunk it wants next, so a hand-over wakes only the threads waiting for that slot.
  std::condition_variable cv;
};

struct Overflow {
  uint64_t count = 0;
  float max_abs = 0.0f;
};

// The pass's threads, split: sink lanes take at most half of them (one per tier with a
// sink, at least one), the encoders the rest (at least one). The lanes encode too while
// they wait for their next chunk (Runner::WaitForSinking), so no core idles when the
// writes are lighter than the encoding. More busy threads than cores only made them
// preempt each other: on 2 cores, one encoder and one lane exported three tiers of the
// Granite table in 0.48 s against 0.55 s for two of each, five tiers in 1.20 s against
// 1.18 s (bench/RESULTS.md, issue 14).
int LaneCount(const std::vector<PassTier>& tiers, int threads) {
  int sinks = 0;
  for (const PassTier& t : tiers) sinks += t.sink != nullptr;
  return std::clamp(sinks, 1, std::max(1, threads / 2));
}
int EncoderCount(const std::vector<PassTier>& tiers, int threads) {
  return std::max(1, threads - LaneCount(tiers, threads));
}

class Runner {
 public:
  Runner(const RowSource& source, const std::vector<PassTier>& tiers, const PassOptions& opts)
      : src_(source),
        tiers_(tiers),
        opts_(opts),
        threads_(std::clamp(opts.threads, 1, kMaxPassThreads)),
        pool_(EncoderCount(tiers, threads_)),
        d_(source.cols()),
        stats_of_(tiers.size()),
        dead_(new std::atomic<bool>[tiers.size()]),
        results_(tiers.size()) {
    chunk_rows_ = std::max<uint64_t>(1, opts.chunk_bytes / (d_ * sizeof(float)));
    chunk_rows_ = std::min(chunk_rows_, src_.rows());
    for (size_t t = 0; t < tiers_.size(); ++t) {
      dead_[t] = false;
      if (tiers_[t].tier->stats_key) {
        stats_of_[t] = stats_.size();
        stats_.push_back(t);
      }
    }
    for (Slot& s : slots_) {
      s.raw.resize(chunk_rows_ * src_.row_bytes());
      s.values.resize(chunk_rows_ * d_);
      s.encoded.resize(tiers_.size());
      for (size_t t = 0; t < tiers_.size(); ++t)
        for (int i = 0; i < tiers_[t].tier->num_streamed && !StoresFloat32Table(t) && !StoresSourceBits(t);
             ++i)
          s.encoded[t].emplace_back(chunk_rows_ * RowBytes(t, i));
      for (size_t t : stats_) s.cosines.emplace_back(tiers_[t].tier->report_cosine ? chunk_rows_ : 0);
    }
    PlanSinkLanes();
    stages_.sinks_per_lane.assign(lanes_.size(), 0.0);
    // Workers: the encoders, then the lanes (which encode blocks while they wait).
    workers_ = pool_.size() + static_cast<int>(lanes_.size());
    block_rows_ = std::max<size_t>(1, kBlockFloats / d_);
    for (Slot& s : slots_)
      s.sums.assign(stats_.size(), std::vector<NumpySumPart>((chunk_rows_ + block_rows_ - 1) / block_rows_));
    errors_.resize(static_cast<size_t>(workers_));
    for (std::vector<float>& e : errors_) e.resize(std::min<uint64_t>(block_rows_, chunk_rows_) * d_);
    for (size_t t : stats_)
      figures_.emplace_back(src_.rows(), d_, workers_, tiers_[t].tier->report_cosine, opts_.numpy);
    for (Slot& s : slots_) {
      s.kept.resize(stats_.size());
      for (std::vector<KeptValues>& per_worker : s.kept) per_worker.resize(static_cast<size_t>(workers_));
    }
    refine_.assign(tiers_.size(), 0);
    overflow_.assign(static_cast<size_t>(workers_), std::vector<Overflow>(tiers_.size()));
    scratch_.resize(static_cast<size_t>(workers_));
    stages_.encode.assign(static_cast<size_t>(workers_), 0.0);
  }

  Status Run(PassResult* result) {
    const auto t0 = Clock::now();
    E2O_RETURN_IF_ERROR(GuessWindows());
    E2O_RETURN_IF_ERROR(RunPass(Pass::kFirst));
    const auto t1 = Clock::now();
    result->seconds_pass1 = std::chrono::duration<double>(t1 - t0).count();
    result->seconds_pass2 = 0;
    // At most two more, and only for tiers whose guessed p99 window missed.
    for (;;) {
      bool any = false;
      for (size_t k = 0; k < stats_.size(); ++k) {
        const size_t t = stats_[k];
        refine_[t] = !dead_[t] && figures_[k].NeedsAnotherPass();
        any = any || refine_[t];
      }
      if (!any) break;
      E2O_RETURN_IF_ERROR(RunPass(Pass::kRefine));
      result->seconds_pass2 = std::chrono::duration<double>(Clock::now() - t1).count();
    }
    for (size_t t = 0; t < tiers_.size(); ++t) {
      TierPassResult& r = results_[t];
      if (dead_[t]) continue;
      if (tiers_[t].tier->stats_key) {
        r.has_figures = true;
        r.figures = figures_[stats_of_[t]].Figures();
      }
      for (const std::vector<Overflow>& per_worker : overflow_) {
        r.overflow.count += per_worker[t].count;
        r.overflow.max_abs_source = std::max<double>(r.overflow.max_abs_source, per_worker[t].max_abs);
      }
    }
    result->tiers = std::move(results_);
    stages_.figures += kept_seconds_;
    stages_.sinks = 0;
    for (double lane : stages_.sinks_per_lane) stages_.sinks += lane;
    result->stages = stages_;
    return Status::Ok();
  }

 private:
  uint64_t RowBytes(size_t t, int i) const { return TierRowBytes(*tiers_[t].tier, i, d_, tiers_[t].params); }

  // A tier whose one streamed initializer is the float32 table itself (fp32): its
  // encoding is the widened rows, so the sinks are handed those and nothing is copied.
  bool StoresFloat32Table(size_t t) const {
    const Tier& tier = *tiers_[t].tier;
    return tier.exact_output && tier.num_streamed == 1 && tier.streamed[0].elem_bytes == sizeof(float) &&
           tier.streamed[0].elem_type == onnx::TensorProto::FLOAT && tier.streamed[0].shape == RowShape::kD;
  }
  // A tier that stores the table rounded to nearest-even in the checkpoint's own 16-bit
  // type (bf16w of a bf16 checkpoint, fp16w of an f16 one): widening is exact and
  // rounding it back changes nothing, so its encoding is the rows as read.
  bool StoresSourceBits(size_t t) const {
    const Tier& tier = *tiers_[t].tier;
    if (tier.stats_key || tier.num_streamed != 1 || tier.streamed[0].shape != RowShape::kD) return false;
    const int32_t type = tier.streamed[0].elem_type;
    return (src_.dtype() == TableDType::kBF16 && type == onnx::TensorProto::BFLOAT16) ||
           (src_.dtype() == TableDType::kF16 && type == onnx::TensorProto::FLOAT16);
  }
  // Row `row` of the slot's encoding of streamed initializer i of tier t.
  uint8_t* Encoded(Slot& s, size_t t, int i, uint64_t row) const {
    if (StoresFloat32Table(t)) return reinterpret_cast<uint8_t*>(s.values.data() + row * d_);
    if (StoresSourceBits(t)) return s.raw.data() + row * src_.row_bytes();
    return s.encoded[t][static_cast<size_t>(i)].data() + row * RowBytes(t, i);
  }

  // The tiers with a sink, in lanes: one thread per lane hands each chunk to its lane's
  // sinks, so the sidecar writes (the kernel's copy into the page cache, most of an
  // export's CPU) run on several cores (LaneCount). A file's writes stay
  // on one thread, in table order (buffered writes to one file take its inode's lock, so
  // splitting one file between threads would only make them wait); the lanes are
  // balanced by the bytes per row their tiers store, largest first. There is always one
  // lane, without sinks if no tier has one.
  void PlanSinkLanes() {
    std::vector<std::pair<uint64_t, size_t>> by_bytes;  // (bytes per row, tier)
    for (size_t t = 0; t < tiers_.size(); ++t) {
      if (!tiers_[t].sink) continue;
      uint64_t bytes = 0;
      for (int i = 0; i < tiers_[t].tier->num_streamed; ++i) bytes += RowBytes(t, i);
      by_bytes.emplace_back(bytes, t);
    }
    std::stable_sort(by_bytes.begin(), by_bytes.end(),
                     [](const auto& a, const auto& b) { return a.first > b.first; });
    lanes_.resize(static_cast<size_t>(LaneCount(tiers_, threads_)));
    std::vector<uint64_t> load(lanes_.size(), 0);
    for (const auto& [bytes, t] : by_bytes) {
      const size_t l = static_cast<size_t>(std::min_element(load.begin(), load.end()) - load.begin());
      lanes_[l].push_back(t);
      load[l] += bytes;
    }
    // Each lane's sinks in table order, as one thread would have called them.
    for (std::vector<size_t>& lane : lanes_) std::sort(lane.begin(), lane.end());
  }

  // Guesses each quantised tier's p99 from rows spread over the table.
  Status GuessWindows() {
    if (stats_.empty()) return Status::Ok();
    const uint64_t n = std::min({src_.rows(), kSampleRows, std::max<uint64_t>(1, kSampleValues / d_)});
    std::vector<uint8_t> raw(src_.row_bytes());
    std::vector<float> vals(n * d_);
    for (uint64_t i = 0; i < n; ++i) {
      E2O_RETURN_IF_ERROR(src_.ReadRows(i * src_.rows() / n, 1, raw.data()));
      // A non-finite weight: pass 1 reports it with its row and column.
      if (DecodeToFloat(src_.dtype(), raw.data(), vals.data() + i * d_, d_) >= 0) return Status::Ok();
    }
    for (size_t k = 0; k < stats_.size(); ++k) {
      const PassTier& pt = tiers_[stats_[k]];
      std::vector<std::vector<uint8_t>> enc;
      uint8_t* outs[kMaxStreamed];
      for (int i = 0; i < pt.tier->num_streamed; ++i) enc.emplace_back(n * RowBytes(stats_[k], i));
      for (int i = 0; i < pt.tier->num_streamed; ++i) outs[i] = enc[static_cast<size_t>(i)].data();
      std::vector<float> errs(n * d_);
      pt.tier->encode(vals.data(), n, d_, pt.params, outs);
      pt.tier->decode(outs, n, d_, pt.params, errs.data());
      AbsErrorsInPlace(vals.data(), errs.size(), errs.data());
      figures_[k].GuessWindow(errs);
    }
    return Status::Ok();
  }

  Status RunPass(Pass pass) {
    const uint64_t chunks = (src_.rows() + chunk_rows_ - 1) / chunk_rows_;
    for (Slot& s : slots_) s.state = Slot::kFree;
    failed_ = false;
    thread_error_ = nullptr;
    sink_failed_chunk_ = UINT64_MAX;
    std::thread reader([&] {
      Guarded([&] {
        for (uint64_t c = 0; c < chunks; ++c) {
          Slot& s = slots_[c % kSlots];
          if (!WaitFor(s, Slot::kFree)) return;
          s.first = c * chunk_rows_;
          s.rows = std::min(chunk_rows_, src_.rows() - s.first);
          {
            BusyTimer busy{&stages_.read};
            s.status = src_.ReadRows(s.first, s.rows, s.raw.data());
          }
          SetState(s, Slot::kRead);
          if (!s.status.ok()) return;
        }
      });
    });
    // A lane's sink error, with the chunk and tier it came from: lanes run up to two
    // chunks apart, so the one returned is the earliest in (chunk, tier) order, the one a
    // single thread would have met first.
    struct LaneFailure {
      Status status;
      uint64_t chunk = UINT64_MAX;
      size_t tier = SIZE_MAX;
    };
    std::vector<LaneFailure> lane_failure(lanes_.size());
    std::vector<std::thread> lanes;
    if (pass == Pass::kFirst) {
      for (size_t l = 0; l < lanes_.size(); ++l)
        lanes.emplace_back([&, l] {
          Guarded([&] {
            for (uint64_t c = 0; c < chunks; ++c) {
              Slot& s = slots_[c % kSlots];
              if (!WaitForSinking(s, c, l)) return;
              LaneFailure& f = lane_failure[l];
              f.status = RunSinks(s, l, &f.tier);
              if (!f.status.ok()) {
                f.chunk = c;
                {
                  std::lock_guard<std::mutex> lock(mu_);
                  sink_failed_chunk_ = std::min(sink_failed_chunk_, c);
                }
                return Fail();
              }
              bool last;
              {
                std::lock_guard<std::mutex> lock(mu_);
                last = --s.lanes_pending == 0;
              }
              if (last) ChunkDone(s);
            }
          });
        });
    }
    Status encode_status;
    Guarded([&] {
      for (uint64_t c = 0; c < chunks && encode_status.ok(); ++c) {
        Slot& s = slots_[c % kSlots];
        if (!WaitFor(s, Slot::kRead)) break;
        bool abandoned = false;
        encode_status = s.status.ok() ? Encode(s, pass, c, &abandoned) : s.status;
        if (!encode_status.ok()) {
          Fail();
          break;
        }
        if (abandoned) break;  // another thread failed: its error is the pass's
        if (pass == Pass::kRefine) {
          if (opts_.progress) opts_.progress(2, s.first + s.rows);
          SetState(s, Slot::kFree);
          continue;
        }
        // Once the lanes have the chunk, they may free the slot and the reader refill its
        // first row and row count.
        const uint64_t rows = s.rows;
        {
          std::lock_guard<std::mutex> lock(mu_);
          s.lanes_pending = static_cast<int>(lanes_.size());  // s.chunk is c since Encode
          s.state = Slot::kSinking;
        }
        s.cv.notify_all();
        // The in-order figures and the kept values, added while the lanes write the chunk:
        // with three tiers a lane is the busier thread and this one has a core's slack.
        // Chunks come here in table order, as the means' and cosines' order needs. Only
        // the encoders write what these read, and this thread encodes the slot again only
        // after the lanes free it and the reader refills it.
        AddFiguresInOrder(s, rows);
        CountKept(s);
      }
    });
    reader.join();
    for (std::thread& lane : lanes) lane.join();
    // An exception on any thread (the library turns it into a Status at its API), once
    // every thread is done with the slots.
    if (thread_error_) std::rethrow_exception(thread_error_);
    E2O_RETURN_IF_ERROR(encode_status);
    const LaneFailure* first = nullptr;
    for (const LaneFailure& f : lane_failure)
      if (!f.status.ok() && (!first || std::tie(f.chunk, f.tier) < std::tie(first->chunk, first->tier)))
        first = &f;
    return first ? first->status : Status::Ok();
  }

  // Runs body; an exception it throws is kept (the first one) and fails the pass, so no
  // thread ends the process and the others stop waiting.
  template <class Body>
  void Guarded(Body&& body) {
    try {
      body();
    } catch (...) {
      {
        std::lock_guard<std::mutex> lock(mu_);
        if (!thread_error_) thread_error_ = std::current_exception();
      }
      Fail();
    }
  }

  // The encoders' stage: widen, encode, and count errors and overflow, on the pool and,
  // in pass 1, on the lanes waiting for this chunk.
  // *abandoned: the pass failed elsewhere before every block was encoded.
  Status Encode(Slot& s, Pass pass, uint64_t chunk, bool* abandoned) {
    s.pass = pass;
    s.skip.resize(tiers_.size());
    for (size_t t = 0; t < tiers_.size(); ++t)
      s.skip[t] = pass == Pass::kFirst ? dead_[t].load() : !refine_[t];
    s.bad.assign(static_cast<size_t>(workers_), -1);
    for (std::vector<KeptValues>& per_worker : s.kept)
      for (KeptValues& kept : per_worker) kept.n = 0;  // what an abandoned chunk left
    s.blocks = (s.rows + block_rows_ - 1) / block_rows_;
    s.next_block = 0;
    s.stop_at = SIZE_MAX;
    s.blocks_done = 0;
    {
      std::lock_guard<std::mutex> lock(mu_);
      s.chunk = chunk;
      s.encoding = true;
    }
    s.cv.notify_all();
    pool_.ParallelFor(static_cast<size_t>(pool_.size()), [&](size_t, size_t, int w) { EncodeBlocks(s, w); });
    {
      std::unique_lock<std::mutex> lock(mu_);
      s.cv.wait(lock, [&] { return failed_ || s.blocks_done.load() == s.blocks; });
      s.encoding = false;
      // Another thread failed, perhaps a lane in the middle of a block (an exception):
      // the chunk is not whole, so it is never handed to the sinks.
      if (failed_) {
        *abandoned = true;
        return Status::Ok();
      }
    }
    int64_t first_bad = -1;
    for (int64_t at : s.bad)
      if (at >= 0 && (first_bad < 0 || at < first_bad)) first_bad = at;
    if (first_bad >= 0) {
      const uint64_t at = static_cast<uint64_t>(first_bad);
      return NonFiniteWeight(src_, at / d_, at % d_);
    }
    // Pass 1 counts what the chunk kept once the lanes have it (RunPass).
    if (pass == Pass::kRefine) CountKept(s);
    return Status::Ok();
  }

  // Worker w takes the slot's blocks of rows, a few rows at a time through every stage so
  // the values and errors stay in its core's cache between the dozen sweeps over them,
  // until none is left. The blocks go out in table order to whichever thread asks first:
  // the reader and the lanes share the cores with the encoders, and halves fixed ahead
  // left a core idle whenever one encoder was preempted. A worker that meets a
  // non-finite weight stops the blocks after it; every block before it is still
  // encoded, so the least index any worker saw is the table's first.
  void EncodeBlocks(Slot& s, int w) {
    BusyTimer busy{&stages_.encode[static_cast<size_t>(w)]};
    for (;;) {
      const size_t k = s.next_block.fetch_add(1);
      if (k >= s.blocks) return;
      if (k < s.stop_at.load()) {
        const size_t b = k * block_rows_;
        if (!EncodeRows(s, b, std::min<size_t>(s.rows, b + block_rows_), w)) {
          size_t at = s.stop_at.load();
          while (k < at && !s.stop_at.compare_exchange_weak(at, k)) {
          }
        }
      }
      if (s.blocks_done.fetch_add(1) + 1 == s.blocks) {
        { std::lock_guard<std::mutex> lock(mu_); }  // the encoder is waiting or has not looked
        s.cv.notify_all();
      }
    }
  }

  // Rows [b, e) of the slot through every stage of its pass, on worker w; false (and
  // s.bad[w] set to the value's index in the table) at a non-finite weight.
  bool EncodeRows(Slot& s, size_t b, size_t e, int w) {
    const Pass pass = s.pass;
    const std::vector<char>& skip = s.skip;
    const size_t n = e - b;
    float* vals = s.values.data() + b * d_;
    uint32_t max_abs = 0;
    const int64_t bad_at =
        DecodeToFloat(src_.dtype(), s.raw.data() + b * src_.row_bytes(), vals, n * d_, &max_abs);
    if (bad_at >= 0) {
      s.bad[static_cast<size_t>(w)] = static_cast<int64_t>((s.first + b) * d_) + bad_at;
      return false;
    }
    uint8_t* outs[kMaxStreamed];
    for (size_t t = 0; t < tiers_.size(); ++t) {
      if (skip[t] || StoresFloat32Table(t) || StoresSourceBits(t)) continue;
      const PassTier& pt = tiers_[t];
      for (int i = 0; i < pt.tier->num_streamed; ++i) outs[i] = Encoded(s, t, i, b);
      pt.tier->encode(vals, n, d_, pt.params, outs);
    }
    for (size_t k = 0; k < stats_.size(); ++k) {
      const size_t t = stats_[k];
      if (skip[t]) continue;
      const PassTier& pt = tiers_[t];
      for (int i = 0; i < pt.tier->num_streamed; ++i) outs[i] = Encoded(s, t, i, b);
      float* errs = errors_[static_cast<size_t>(w)].data();  // the tier's errors of the block
      const bool cosine = pass == Pass::kFirst && pt.tier->report_cosine;
      if (pt.tier->abs_errors && !cosine) {
        pt.tier->abs_errors(outs, n, d_, pt.params, vals, errs);
      } else {
        pt.tier->decode(outs, n, d_, pt.params, errs);
        if (cosine) RowCosines(vals, errs, n, d_, s.cosines[k].data() + b);
        AbsErrorsInPlace(vals, n * d_, errs);
      }
      if (pass == Pass::kFirst) {
        figures_[k].CountPass1(w, errs, n * d_, &s.kept[k][static_cast<size_t>(w)]);
        figures_[k].SumPart((s.first + b) * d_, errs, n * d_, &s.sums[k][b / block_rows_]);
      } else {
        figures_[k].CountPass2(w, errs, n * d_, &s.kept[k][static_cast<size_t>(w)]);
      }
    }
    if (pass == Pass::kFirst && max_abs >= FloatBits(kNarrowestFloatMax)) CountOverflow(s, b, n, w, skip);
    return true;
  }

  // Decodes rows [b, b + n) of the slot again, per tier, and counts the finite source
  // values that decode to a non-finite one.
  void CountOverflow(Slot& s, size_t b, size_t n, int w, const std::vector<char>& skip) {
    std::vector<float>& dec = scratch_[static_cast<size_t>(w)];
    dec.resize(d_);
    for (size_t t = 0; t < tiers_.size(); ++t) {
      if (skip[t]) continue;
      const PassTier& pt = tiers_[t];
      Overflow& o = overflow_[static_cast<size_t>(w)][t];
      for (size_t r = b; r < b + n; ++r) {
        const uint8_t* rows[kMaxStreamed];
        for (int i = 0; i < pt.tier->num_streamed; ++i) rows[i] = Encoded(s, t, i, r);
        pt.tier->decode(rows, 1, d_, pt.params, dec.data());
        const float* x = s.values.data() + r * d_;
        for (size_t j = 0; j < d_; ++j)
          if (!std::isfinite(dec[j])) {
            ++o.count;
            o.max_abs = std::max(o.max_abs, std::fabs(x[j]));
          }
      }
    }
  }

  // What each worker's rows of the slot's chunk left in each p99 window, into the
  // window's counts; on the encoder thread, one chunk after another.
  void CountKept(Slot& s) {
    BusyTimer busy{&kept_seconds_};
    for (size_t k = 0; k < stats_.size(); ++k)
      if (!s.skip[stats_[k]])
        for (KeptValues& kept : s.kept[k]) figures_[k].AddKept(&kept);
  }

  // Pass 1's in-order stage, on the encoder thread: the means and cosines of the slot's
  // chunk of `rows` rows, in table order.
  void AddFiguresInOrder(const Slot& s, uint64_t rows) {
    BusyTimer busy{&stages_.figures};
    for (size_t k = 0; k < stats_.size(); ++k) {
      // A tier skipped at Encode (dead then) has no parts; one dead since has no figures.
      if (s.skip[stats_[k]] || dead_[stats_[k]]) continue;
      figures_[k].AddInOrder(s.sums[k].data(), s.blocks, s.cosines[k].data(), rows);
    }
  }

  // Lane l's sinks take the slot's chunk (their tiers' chunks arrive in table order);
  // *failed_tier names the tier of an error returned.
  Status RunSinks(Slot& s, size_t l, size_t* failed_tier) {
    BusyTimer busy{&stages_.sinks_per_lane[l]};
    for (size_t t : lanes_[l]) {
      if (dead_[t]) continue;
      EncodedChunk chunk;
      chunk.first = s.first;
      chunk.rows = s.rows;
      chunk.cols = d_;
      chunk.source = s.values.data();
      for (int i = 0; i < tiers_[t].tier->num_streamed; ++i) chunk.encoded[i] = Encoded(s, t, i, 0);
      Status st = tiers_[t].sink->Consume(chunk);
      if (st.ok()) continue;
      *failed_tier = t;
      if (!opts_.isolate_sink_errors) return st;
      results_[t].status = st;
      dead_[t] = true;
    }
    return Status::Ok();
  }

  // The lanes are done with the slot: progress, and the reader may reuse it. The encoder
  // thread may still be adding the chunk's figures (from sums, cosines, kept, skip and
  // blocks); the reader writes only first, rows, raw and status, so that is safe while it
  // stays so. Chunks end in table order, one after another: the lane that ends chunk c
  // (the last to finish it) calls this before it takes chunk c + 1, so no later chunk can
  // end first. The calls come from different lanes, though; the lock makes that safe
  // whatever the callback touches.
  void ChunkDone(Slot& s) {
    if (opts_.progress) {
      std::lock_guard<std::mutex> lock(progress_mu_);
      opts_.progress(1, s.first + s.rows);
    }
    SetState(s, Slot::kFree);
  }

  // After a failure a lane still takes the chunks handed over up to the first failing
  // sink's chunk, so that a sink of an earlier chunk or tier that fails too is the error
  // reported, whatever the lanes' timing.
  // While it waits, lane l encodes blocks of that chunk (as worker encoders + l).
  bool WaitForSinking(Slot& s, uint64_t chunk, size_t l) {
    std::unique_lock<std::mutex> lock(mu_);
    auto ready = [&] { return s.state == Slot::kSinking && s.chunk == chunk && chunk <= sink_failed_chunk_; };
    auto can_help = [&] { return s.encoding && s.chunk == chunk && s.next_block.load() < s.blocks; };
    for (;;) {
      s.cv.wait(lock, [&] { return failed_ || ready() || can_help(); });
      if (failed_ || ready()) return ready();
      lock.unlock();
      EncodeBlocks(s, pool_.size() + static_cast<int>(l));
      lock.lock();
    }
  }
  bool WaitFor(Slot& s, Slot::State want) {
    std::unique_lock<std::mutex> lock(mu_);
    s.cv.wait(lock, [&] { return failed_ || s.state == want; });
    return !failed_;
  }
  void SetState(Slot& s, Slot::State st) {
    {
      std::lock_guard<std::mutex> lock(mu_);
      s.state = st;
    }
    s.cv.notify_all();
  }
  void Fail() {
    {
      std::lock_guard<std::mutex> lock(mu_);
      failed_ = true;
    }
    for (Slot& s : slots_) s.cv.notify_all();
  }

  static constexpr int kSlots = 3;
  const RowSource& src_;
  const std::vector<PassTier>& tiers_;
  const PassOptions& opts_;
  const int threads_;  // of the pass: encoders and lanes
  ThreadPool pool_;    // the encoders
  const uint64_t d_;
  uint64_t chunk_rows_ = 0;
  std::vector<size_t> stats_;     // indices of the quantised tiers
  std::vector<size_t> stats_of_;  // [tier]: its index in stats_ (quantised tiers)
  std::vector<FiguresAccumulator> figures_;
  std::unique_ptr<std::atomic<bool>[]> dead_;    // [tier]: its sink failed (isolated)
  std::vector<char> refine_;                     // [tier]: pass 2 re-encodes it
  std::vector<std::vector<Overflow>> overflow_;  // [worker][tier]
  std::vector<std::vector<float>> scratch_;      // [worker]
  std::vector<std::vector<float>> errors_;       // [worker]: a block's errors, one tier at a time
  std::vector<TierPassResult> results_;
  PassStageSeconds stages_;                 // each field written by one thread at a time
  double kept_seconds_ = 0;                 // CountKept's, on the encoder thread: into stages_.figures
  std::vector<std::vector<size_t>> lanes_;  // [lane]: the tiers whose sinks it runs
  int workers_ = 1;                         // encoders + lanes
  size_t block_rows_ = 1;                   // rows per block of EncodeBlocks
  Slot slots_[kSlots];
  std::exception_ptr thread_error_;          // guarded by mu_
  uint64_t sink_failed_chunk_ = UINT64_MAX;  // the first chunk a sink failed on; guarded by mu_
  std::mutex progress_mu_;
  std::mutex mu_;
  bool failed_ = false;
};

}  // namespace

Status RunTablePass(const RowSource& source, const std::vector<PassTier>& tiers, const PassOptions& opts,
                    PassResult* result) {
  for (const PassTier& t : tiers) {
    if (!t.tier) return Status::InvalidArgument("a pass tier without a tier");
    if (t.tier->check_params) E2O_RETURN_IF_ERROR(t.tier->check_params(source.cols(), t.params));
  }
  Runner runner(source, tiers, opts);
  return runner.Run(result);
}

}  // namespace embed2onnx
