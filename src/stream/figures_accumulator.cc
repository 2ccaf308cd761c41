#include "stream/figures_accumulator.h"

#include <algorithm>

namespace embed2onnx {

namespace {
// +-16 high-bit buckets around the guess is about +-9 % (a bucket is 1/128 of an octave).
constexpr uint32_t kWindowHalfWidth = 16;
}  // namespace

FiguresAccumulator::FiguresAccumulator(uint64_t rows, uint64_t cols, int workers, bool cosine)
    : rows_(rows),
      values_(rows * cols),
      cosine_(cosine),
      workers_(static_cast<size_t>(std::max(workers, 1))),
      quantile_(rows * cols, 0.99) {}

void FiguresAccumulator::GuessWindow(std::vector<float>& sample_errors) {
  if (sample_errors.empty()) return;
  auto at = sample_errors.begin() + static_cast<ptrdiff_t>(NumpyQuantileIndex(sample_errors.size(), 0.99));
  std::nth_element(sample_errors.begin(), at, sample_errors.end());
  quantile_.SetWindow(QuantileWindow::Around(*at, kWindowHalfWidth));
}

void FiguresAccumulator::Keep(Worker& w, const QuantileWindow& window, const float* errs, size_t n) {
  if (w.capacity < w.kept_n + n) {
    // A worker may see more than one piece per chunk only when a caller splits it so.
    std::unique_ptr<float[]> grown(new float[w.kept_n + n]);
    std::copy(w.kept.get(), w.kept.get() + w.kept_n, grown.get());
    w.kept = std::move(grown);
    w.capacity = w.kept_n + n;
  }
  w.kept_n += window.Filter(errs, n, w.kept.get() + w.kept_n);
}

void FiguresAccumulator::CountPass1(int worker, const float* errs, size_t n) {
  Worker& w = workers_[static_cast<size_t>(worker)];
  w.high->Add(errs, n);
  w.max = RunningMax(errs, n, w.max);
  Keep(w, quantile_.window(), errs, n);
}

void FiguresAccumulator::CountPass2(int worker, const float* errs, size_t n) {
  Keep(workers_[static_cast<size_t>(worker)], pass2_window_, errs, n);
}

void FiguresAccumulator::EndChunk() {
  for (Worker& w : workers_) {
    if (pass2_)
      quantile_.AddPass2(w.kept.get(), w.kept_n);
    else
      quantile_.AddToWindow(w.kept.get(), w.kept_n);
    w.kept_n = 0;
  }
}

void FiguresAccumulator::AddInOrder(const float* errs, size_t n, const double* row_cosines, size_t rows) {
  sum_.Add(errs, n);
  if (cosine_)
    for (size_t r = 0; r < rows; ++r) cosine_sum_ += row_cosines[r];
}

bool FiguresAccumulator::NeedsPass2() {
  for (Worker& w : workers_) {
    quantile_.MergePass1(*w.high);
    w.high.reset();  // pass 2 needs none of them
  }
  if (quantile_.ResolvedInPass1()) return false;
  pass2_ = true;
  pass2_window_ = quantile_.StartPass2();
  return true;
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
