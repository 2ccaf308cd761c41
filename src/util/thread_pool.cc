#include "util/thread_pool.h"

#include <sched.h>

#include <exception>

namespace embed2onnx {

namespace {
void Part(size_t n, int parts, int i, size_t* begin, size_t* end) {
  *begin = n * static_cast<size_t>(i) / static_cast<size_t>(parts);
  *end = n * static_cast<size_t>(i + 1) / static_cast<size_t>(parts);
}
}  // namespace

int AvailableCores() {
  cpu_set_t set;
  if (sched_getaffinity(0, sizeof set, &set) == 0) {
    int n = CPU_COUNT(&set);
    if (n > 0) return n;
  }
  unsigned hw = std::thread::hardware_concurrency();
  return hw ? static_cast<int>(hw) : 1;
}

ThreadPool::ThreadPool(int threads) : threads_(threads < 1 ? 1 : threads) {
  for (int i = 1; i < threads_; ++i) workers_.emplace_back([this, i] { WorkerLoop(i); });
}

ThreadPool::~ThreadPool() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stop_ = true;
  }
  start_cv_.notify_all();
  for (auto& t : workers_) t.join();
}

void ThreadPool::WorkerLoop(int index) {
  unsigned long seen = 0;
  for (;;) {
    const std::function<void(size_t, size_t, int)>* job;
    size_t n;
    {
      std::unique_lock<std::mutex> lock(mu_);
      start_cv_.wait(lock, [&] { return stop_ || generation_ != seen; });
      if (stop_) return;
      seen = generation_;
      job = job_;
      n = job_n_;
    }
    size_t b, e;
    Part(n, threads_, index, &b, &e);
    std::exception_ptr thrown;
    try {
      if (b < e) (*job)(b, e, index);
    } catch (...) {
      thrown = std::current_exception();
    }
    {
      std::lock_guard<std::mutex> lock(mu_);
      // Moved, and a second one dropped, under the lock: once the caller may rethrow it,
      // this thread holds no reference to the exception, so the caller (which caught it)
      // is the one that destroys it. A reference dropped here after the caller had
      // caught it would free it on this thread, ordered only by the C++ runtime's own
      // reference count, which ThreadSanitizer cannot see into (a race it reported).
      if (thrown && !error_) error_ = std::move(thrown);
      thrown = nullptr;
      if (--pending_ == 0) done_cv_.notify_one();
    }
  }
}

void ThreadPool::ParallelFor(size_t n, const std::function<void(size_t, size_t, int)>& fn) {
  if (threads_ == 1) {
    if (n) fn(0, n, 0);
    return;
  }
  {
    std::lock_guard<std::mutex> lock(mu_);
    job_ = &fn;
    job_n_ = n;
    pending_ = threads_ - 1;
    ++generation_;
  }
  start_cv_.notify_all();
  size_t b, e;
  Part(n, threads_, 0, &b, &e);
  // Even when our own part throws, the workers must be done with `fn` before it goes.
  std::exception_ptr thrown;
  try {
    if (b < e) fn(b, e, 0);
  } catch (...) {
    thrown = std::current_exception();
  }
  std::unique_lock<std::mutex> lock(mu_);
  done_cv_.wait(lock, [&] { return pending_ == 0; });
  if (!thrown) thrown = error_;
  error_ = nullptr;
  lock.unlock();
  if (thrown) std::rethrow_exception(thrown);
}

}  // namespace embed2onnx
