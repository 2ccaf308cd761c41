#include "util/thread_pool.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <mutex>
#include <set>
#include <vector>

namespace embed2onnx {
namespace {

// Runs ParallelFor and records which worker saw which index, and the parts given.
struct Recorded {
  std::vector<int> worker_of;
  std::vector<std::pair<size_t, size_t>> parts;
};

Recorded RunAndRecord(ThreadPool& pool, size_t n) {
  Recorded r;
  r.worker_of.assign(n, -1);
  std::mutex mu;
  std::atomic<int> overlaps{0};
  pool.ParallelFor(n, [&](size_t b, size_t e, int w) {
    for (size_t i = b; i < e; ++i)
      if (r.worker_of[i] != -1)
        ++overlaps;
      else
        r.worker_of[i] = w;
    std::lock_guard<std::mutex> lock(mu);
    r.parts.push_back({b, e});
  });
  EXPECT_EQ(overlaps.load(), 0);
  return r;
}

TEST(ThreadPoolTest, EveryIndexRunsOnceInContiguousParts) {
  for (int threads : {1, 2, 3, 4}) {
    ThreadPool pool(threads);
    EXPECT_EQ(pool.size(), threads);
    for (size_t n : {0, 1, 2, 5, 1000, 1001}) {
      Recorded r = RunAndRecord(pool, n);
      for (size_t i = 0; i < n; ++i)
        ASSERT_NE(r.worker_of[i], -1) << threads << " threads, n " << n << ", " << i;
      // Parts never empty, at most one per thread, and worker w's part is the w-th.
      EXPECT_LE(r.parts.size(), static_cast<size_t>(threads));
      for (auto [b, e] : r.parts) EXPECT_LT(b, e);
      for (size_t i = 1; i < n; ++i) EXPECT_LE(r.worker_of[i - 1], r.worker_of[i]);
    }
  }
}

TEST(ThreadPoolTest, PartsDependOnlyOnNAndTheThreadCount) {
  ThreadPool a(3), b(3);
  Recorded ra = RunAndRecord(a, 100), rb = RunAndRecord(b, 100), again = RunAndRecord(a, 100);
  EXPECT_EQ(ra.worker_of, rb.worker_of);
  EXPECT_EQ(ra.worker_of, again.worker_of);
  // Even split: 100 over 3 threads gives 33, 33, 34.
  EXPECT_EQ(std::count(ra.worker_of.begin(), ra.worker_of.end(), 0), 33);
  EXPECT_EQ(std::count(ra.worker_of.begin(), ra.worker_of.end(), 2), 34);
}

TEST(ThreadPoolTest, UsesSeveralThreadsAndTheCaller) {
  ThreadPool pool(2);
  std::set<std::thread::id> ids;
  std::mutex mu;
  pool.ParallelFor(2, [&](size_t, size_t, int) {
    std::lock_guard<std::mutex> lock(mu);
    ids.insert(std::this_thread::get_id());
  });
  EXPECT_EQ(ids.size(), 2u);
  EXPECT_EQ(ids.count(std::this_thread::get_id()), 1u);  // worker 0 is the caller
}

TEST(ThreadPoolTest, NonPositiveCountMeansOneThread) {
  ThreadPool pool(0);
  EXPECT_EQ(pool.size(), 1);
  Recorded r = RunAndRecord(pool, 10);
  EXPECT_EQ(r.parts.size(), 1u);
}

TEST(ThreadPoolTest, AvailableCoresIsPositive) { EXPECT_GE(AvailableCores(), 1); }

}  // namespace
}  // namespace embed2onnx
