#include "stream/figures_accumulator.h"

#include <algorithm>
#include <stdexcept>

#include "numerics/half.h"

namespace embed2onnx {

namespace {
// +-16 high-bit buckets around the guess is about +-9 % (a bucket is 1/128 of an octave).
constexpr uint32_t kWindowHalfWidth = 16;
}  // namespace

FiguresAccumulator::FiguresAccumulator(uint64_t rows, uint64_t cols, int workers, bool cosine,
                                       NumpyRules rules)
    : rows_(rows),
      values_(rows * cols),
      cosine_(cosine),
      workers_(static_cast<size_t>(std::max(workers, 1))),
      quantile_(rows * cols, 0.99, rules),
      shape_(rows * cols, rules),
      sum_(rows * cols, rules) {}

void FiguresAccumulator::GuessWindow(const std::vector<float>& sample_errors) {
  if (sample_errors.empty()) return;
  // The window is centred on the high-bits bucket of the sample's p99 order statistic,
  // so that bucket is all the guess needs: a count per bucket finds it (non-negative
  // floats order like their bits), where a selection of the value itself cost several
  // times as much, before pass 1, with the other cores idle.
  const uint64_t rank = static_cast<uint64_t>(NumpyQuantileIndex(sample_errors.size(), 0.99));
  HighBitsHistogram counts;
  counts.Add(sample_errors.data(), sample_errors.size());
  const uint32_t bucket = BucketOfRank(counts.counts, rank);
  quantile_.SetWindow(QuantileWindow::Around(BitsToFloat(bucket << 16), kWindowHalfWidth));
  // Pass 1 will count below the window instead (none is kept for huge tables).
  if (!quantile_.window().empty())
    for (Worker& w : workers_) w.high.reset();
}

void FiguresAccumulator::Keep(KeptValues* kept, const QuantileWindow& window, const float* errs, size_t n,
                              uint64_t* below, float* max) {
  if (kept->capacity < kept->n + n) {
    // A worker hands over its rows of a chunk a block at a time: grow by doubling, so
    // the copies cost no more than the values, and the capacity soon covers a chunk.
    const size_t capacity = std::max(2 * kept->capacity, kept->n + n);
    std::unique_ptr<float[]> grown(new float[capacity]);
    std::copy(kept->values.get(), kept->values.get() + kept->n, grown.get());
    kept->values = std::move(grown);
    kept->capacity = capacity;
  }
  kept->n += window.Filter(errs, n, kept->values.get() + kept->n, below, max);
}

void FiguresAccumulator::CountPass1(int worker, const float* errs, size_t n, KeptValues* kept) {
  Worker& w = workers_[static_cast<size_t>(worker)];
  // With a window, pass 1 counts only what falls below it and keeps what falls inside
  // (and the filter takes the max on its way); without one it counts every value's high
  // bits, as the first of two passes.
  if (quantile_.window().empty()) {
    w.max = RunningMax(errs, n, w.max);
    w.high->Add(errs, n);
  } else {
    Keep(kept, quantile_.window(), errs, n, &w.below, &w.max);
  }
}

void FiguresAccumulator::CountPass2(int worker, const float* errs, size_t n, KeptValues* kept) {
  if (stage_ == Stage::kHighBits)
    workers_[static_cast<size_t>(worker)].high->Add(errs, n);
  else
    Keep(kept, pass2_window_, errs, n, nullptr, nullptr);
}

void FiguresAccumulator::AddKept(KeptValues* kept) {
  if (stage_ == Stage::kLowBits)
    quantile_.AddPass2(kept->values.get(), kept->n);
  else if (stage_ == Stage::kFirst)
    quantile_.AddToWindow(kept->values.get(), kept->n);
  kept->n = 0;
}

void FiguresAccumulator::AddInOrder(const NumpySumPart* parts, size_t count, const double* row_cosines,
                                    size_t rows) {
  for (size_t i = 0; i < count; ++i)
    if (!sum_.AddPart(parts[i])) throw std::logic_error("numpy's mean: a part out of table order");
  if (cosine_)
    for (size_t r = 0; r < rows; ++r) cosine_sum_ += row_cosines[r];
}

bool FiguresAccumulator::NeedsAnotherPass() {
  switch (stage_) {
    case Stage::kFirst:
      if (!quantile_.window().empty()) {
        for (Worker& w : workers_) quantile_.AddBelowWindow(w.below);
        if (quantile_.ResolvedByWindow()) return Finish();
        // The guess missed: count every value's high bits, then refine.
        stage_ = Stage::kHighBits;
        for (Worker& w : workers_) w.high = std::make_unique<HighBitsHistogram>();
        return true;
      }
      [[fallthrough]];  // pass 1 counted the high bits
    case Stage::kHighBits:
      for (Worker& w : workers_) {
        quantile_.MergePass1(*w.high);
        w.high.reset();  // the low-bits pass needs none of them
      }
      if (quantile_.ResolvedInPass1()) return Finish();
      stage_ = Stage::kLowBits;
      pass2_window_ = quantile_.StartPass2();
      return true;
    case Stage::kLowBits:
    case Stage::kDone:
      return Finish();
  }
  return Finish();
}

bool FiguresAccumulator::Finish() {
  stage_ = Stage::kDone;
  for (Worker& w : workers_) w.high.reset();
  return false;
}

ErrorFigures FiguresAccumulator::Figures() const {
  ErrorFigures f;
  float max = 0.0f;
  for (const Worker& w : workers_) max = std::max(max, w.max);
  f.max_abs_err = max;
  f.mean_abs_err = sum_.Mean(values_);
  f.p99_abs_err = quantile_.Result();
  f.has_cosine = cosine_;
  f.mean_row_cosine = cosine_ ? cosine_sum_ / static_cast<double>(rows_) : 0.0;
  return f;
}

}  // namespace embed2onnx
