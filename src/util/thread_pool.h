// A fixed set of worker threads that split index ranges: ParallelFor(n, fn) runs
// fn(begin, end, worker) over contiguous parts of [0, n), one part per thread, the
// calling thread included, and returns when all are done. Parts are contiguous and
// fixed by n and the thread count, so results written per index are deterministic.
#pragma once

#include <condition_variable>
#include <cstddef>
#include <exception>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

namespace embed2onnx {

class ThreadPool {
 public:
  // `threads` >= 1 counts the calling thread.
  explicit ThreadPool(int threads);
  ~ThreadPool();
  ThreadPool(const ThreadPool&) = delete;
  ThreadPool& operator=(const ThreadPool&) = delete;

  int size() const { return threads_; }
  // REQUIRES: called from one thread at a time.
  // An exception thrown by fn on any thread is rethrown here, on the calling thread, once
  // every part has finished (the first one caught, when several throw): a worker thread
  // must never end the process with std::terminate behind the library's CatchAll.
  void ParallelFor(size_t n, const std::function<void(size_t, size_t, int)>& fn);

 private:
  void WorkerLoop(int index);
  int threads_;
  std::vector<std::thread> workers_;
  std::mutex mu_;
  std::condition_variable start_cv_, done_cv_;
  const std::function<void(size_t, size_t, int)>* job_ = nullptr;
  size_t job_n_ = 0;
  std::exception_ptr error_;  // first exception of the current job, guarded by mu_
  unsigned long generation_ = 0;
  int pending_ = 0;
  bool stop_ = false;
};

// Cores this process may use (at least 1).
int AvailableCores();

}  // namespace embed2onnx
