#include "util/no_throw.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <memory>
#include <new>
#include <nlohmann/json.hpp>
#include <stdexcept>
#include <vector>

#include "embed2onnx/export.h"
#include "embed2onnx/inspect.h"
#include "embed2onnx/tiers.h"
#include "embed2onnx/verify.h"
#include "util/thread_pool.h"

namespace embed2onnx {
namespace {

TEST(CatchAll, PassesValuesAndStatusesThrough) {
  Result<int> r = CatchAll("f", [] { return Result<int>(7); });
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(*r, 7);
  Status s = CatchAll("f", [] { return Status::NotFound("f: gone"); });
  EXPECT_EQ(s.code(), Status::Code::kNotFound);
  EXPECT_EQ(s.message(), "f: gone");
  EXPECT_TRUE(CatchAll("f", [] { return Status::Ok(); }).ok());
}

TEST(CatchAll, BadAllocIsOutOfMemoryNamingTheFile) {
  Result<std::vector<int>> r =
      CatchAll("model.onnx", []() -> Result<std::vector<int>> { throw std::bad_alloc(); });
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), Status::Code::kIOError);
  EXPECT_EQ(r.status().message(), "model.onnx: out of memory");
}

TEST(CatchAll, StdExceptionKeepsItsMessage) {
  Status s = CatchAll("dir", []() -> Status { throw std::runtime_error("boom"); });
  EXPECT_EQ(s.code(), Status::Code::kCorruption);
  EXPECT_EQ(s.message(), "dir: boom");
}

TEST(CatchAll, NlohmannTypeErrorOnBytesThatAreNotUtf8) {
  // The exception behind issue 9's aborts: dump() of a string holding 0xFF.
  Result<std::string> r = CatchAll("report", []() -> Result<std::string> {
    nlohmann::json j = {{"checkpoint", std::string("ck\xff\xfe")}};
    return j.dump();
  });
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), Status::Code::kCorruption);
  EXPECT_NE(r.status().message().find("report: "), std::string::npos);
  EXPECT_NE(r.status().message().find("UTF-8"), std::string::npos) << r.status().message();
}

TEST(CatchAll, FilesystemErrorAndNonStdExceptions) {
  Status s = CatchAll("x", []() -> Status {
    auto size = std::filesystem::file_size("/nonexistent/e2o-no-such-file");  // throws filesystem_error
    return Status::Corruption("x: file_size returned " + std::to_string(size));
  });
  EXPECT_EQ(s.code(), Status::Code::kCorruption);
  EXPECT_EQ(s.message().rfind("x: ", 0), 0u) << s.message();
  EXPECT_NE(s.message().find("e2o-no-such-file"), std::string::npos) << s.message();
  Status t = CatchAll("y", []() -> Status { throw 42; });
  EXPECT_EQ(t.message(), "y: unexpected error");
}

// The public entry points return errors as values even for inputs that used to reach a
// throwing call.
TEST(CatchAll, PublicEntryPointsReturnStatuses) {
  auto tiers = ParseTierList(",,");
  EXPECT_FALSE(tiers.ok());
  ExportOptions eo;
  eo.model_dir = "/nonexistent/e2o-\xff";
  eo.out_dir = "/nonexistent/e2o-out";
  EXPECT_FALSE(ExportTable(eo).ok());
  VerifyOptions vo;
  vo.export_dir = "/nonexistent/e2o-\xff";
  vo.model_dir = "/nonexistent/e2o-\xff";
  EXPECT_FALSE(VerifyExport(vo).ok());
  EXPECT_FALSE(InspectModel("/nonexistent/e2o-\xff.onnx", true).ok());
}

// A worker thread's exception must reach CatchAll on the calling thread, not std::terminate.
TEST(CatchAll, ExceptionInAPoolWorkerReachesTheCaller) {
  ThreadPool pool(4);
  for (int thrower : {0, 3}) {  // the calling thread's part, then a worker's
    std::vector<int> done(4, 0);
    Status s = CatchAll("pool", [&]() -> Status {
      pool.ParallelFor(4, [&](size_t b, size_t, int w) {
        if (w == thrower) throw std::runtime_error("part " + std::to_string(b));
        done[w] = 1;
      });
      return Status::Ok();
    });
    EXPECT_EQ(s.message(), "pool: part " + std::to_string(thrower)) << s.message();
    for (int w = 0; w < 4; ++w) {
      if (w == thrower) continue;
      EXPECT_EQ(done[w], 1) << "part " << w << " did not finish before the rethrow";
    }
  }
  // The pool still works afterwards.
  std::vector<int> seen(8, 0);
  pool.ParallelFor(8, [&](size_t b, size_t e, int) {
    for (size_t i = b; i < e; ++i) seen[i] = 1;
  });
  for (int v : seen) EXPECT_EQ(v, 1);
}

}  // namespace
}  // namespace embed2onnx
