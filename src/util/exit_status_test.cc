#include "util/exit_status.h"

#include <gtest/gtest.h>

namespace embed2onnx {
namespace {

constexpr int Code(ExitStatus s) { return static_cast<int>(s); }

TEST(ExitStatusTest, TheNumbersScriptsSee) {
  EXPECT_EQ(Code(ExitStatus::kSuccess), 0);
  EXPECT_EQ(Code(ExitStatus::kFailure), 1);
  EXPECT_EQ(Code(ExitStatus::kUsage), 2);
}

TEST(ExitStatusTest, SuccessForEveryCommand) {
  for (Command c : {Command::kExport, Command::kVerify, Command::kInspect})
    EXPECT_EQ(ExitStatusFor(c, Status::Ok()), ExitStatus::kSuccess);
}

TEST(ExitStatusTest, ExportFailsOnItsInputWhateverTheCode) {
  for (const Status& s : {Status::NotFound("x"), Status::Corruption("x"), Status::InvalidArgument("x"),
                          Status::IOError("x"), Status::NotSupported("x"), Status::Mismatch("x")})
    EXPECT_EQ(ExitStatusFor(Command::kExport, s), ExitStatus::kFailure) << s.ToString();
}

TEST(ExitStatusTest, VerifyFailsOnlyOnAVerdict) {
  EXPECT_EQ(ExitStatusFor(Command::kVerify, Status::Mismatch("a.onnx: row 3 differs")), ExitStatus::kFailure);
  // The check could not run: no export folder, the checkpoint missing or unreadable.
  for (const Status& s : {Status::NotFound("x"), Status::Corruption("ckpt"), Status::IOError("x"),
                          Status::InvalidArgument("x"), Status::NotSupported("x")})
    EXPECT_EQ(ExitStatusFor(Command::kVerify, s), ExitStatus::kUsage) << s.ToString();
}

TEST(ExitStatusTest, InspectFailsOnADamagedFileNotOnAMissingOne) {
  for (const Status& s : {Status::Corruption("x"), Status::NotSupported("x"), Status::Mismatch("x")})
    EXPECT_EQ(ExitStatusFor(Command::kInspect, s), ExitStatus::kFailure) << s.ToString();
  for (const Status& s : {Status::NotFound("x"), Status::IOError("x"), Status::InvalidArgument("not a file")})
    EXPECT_EQ(ExitStatusFor(Command::kInspect, s), ExitStatus::kUsage) << s.ToString();
}

TEST(ExitStatusTest, HelpListsEveryCode) {
  const std::string help = ExitStatusHelp();
  for (const char* code : {"  0 ", "  1 ", "  2 ", "128+N"})
    EXPECT_NE(help.find(code), std::string::npos) << code;
}

}  // namespace
}  // namespace embed2onnx
