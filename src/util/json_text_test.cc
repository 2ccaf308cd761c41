#include "util/json_text.h"

#include <gtest/gtest.h>

namespace embed2onnx {
namespace {

TEST(JsonText, Utf8Validity) {
  EXPECT_TRUE(IsValidUtf8(""));
  EXPECT_TRUE(IsValidUtf8("plain/ascii.onnx"));
  EXPECT_TRUE(IsValidUtf8("caf\xC3\xA9 \xE2\x82\xAC \xF0\x9F\x98\x80"));  // é € 😀
  EXPECT_TRUE(IsValidUtf8("\xF4\x8F\xBF\xBF"));                           // U+10FFFF
  EXPECT_FALSE(IsValidUtf8("\xff\xfe"));
  EXPECT_FALSE(IsValidUtf8("\xC0\xAF"));          // overlong '/'
  EXPECT_FALSE(IsValidUtf8("\xE0\x80\xAF"));      // overlong
  EXPECT_FALSE(IsValidUtf8("\xED\xA0\x80"));      // a surrogate
  EXPECT_FALSE(IsValidUtf8("\xF4\x90\x80\x80"));  // above U+10FFFF
  EXPECT_FALSE(IsValidUtf8("\xE2\x82"));          // cut short
  EXPECT_FALSE(IsValidUtf8("\x80"));              // a lone continuation byte
}

TEST(JsonText, ReplacesEachBadByte) {
  EXPECT_EQ(JsonText("ok"), "ok");
  EXPECT_EQ(JsonText("caf\xC3\xA9"), "caf\xC3\xA9");
  EXPECT_EQ(JsonText("a\xff\xfe"
                     "b"),
            "a\xEF\xBF\xBD\xEF\xBF\xBD"
            "b");
  EXPECT_EQ(JsonText("\xE2\x82"), "\xEF\xBF\xBD\xEF\xBF\xBD");
  EXPECT_TRUE(IsValidUtf8(JsonText("\xC0\xAF\xED\xA0\x80\xF4\x90\x80\x80")));
}

TEST(JsonText, HexRoundTrip) {
  const std::string bytes("/tmp/ck\xff\xfe\x00z", 10);
  EXPECT_EQ(ToHex("\xff\xfe"), "fffe");
  auto back = FromHex(ToHex(bytes), "x");
  ASSERT_TRUE(back.ok());
  EXPECT_EQ(*back, bytes);
  EXPECT_EQ(*FromHex("FFfe", "x"), "\xff\xfe");
  auto odd = FromHex("fff", "checkpoint_hex");
  ASSERT_FALSE(odd.ok());
  EXPECT_EQ(odd.status().message().rfind("checkpoint_hex: ", 0), 0u);
  EXPECT_FALSE(FromHex("zz", "x").ok());
}

TEST(JsonText, SetTextAddsTheExactFormOnlyWhenNeeded) {
  nlohmann::ordered_json j = nlohmann::ordered_json::object();
  SetText(j, "checkpoint", "models/plain");
  EXPECT_EQ(j["checkpoint"], "models/plain");
  EXPECT_FALSE(j.contains("checkpoint_hex"));

  const std::string raw = "models/ck\xff\xfe/model.safetensors";
  SetText(j, "path", raw);
  EXPECT_EQ(j["path"], "models/ck\xEF\xBF\xBD\xEF\xBF\xBD/model.safetensors");
  EXPECT_EQ(j["path_hex"], ToHex(raw));
  // The dump no longer throws, and what is parsed back gives the exact bytes.
  const std::string text = DumpJson(j, 2);
  nlohmann::json parsed = nlohmann::json::parse(text);
  auto back = ReadText(parsed, "path");
  ASSERT_TRUE(back.ok()) << back.status().message();
  EXPECT_EQ(*back, raw);
  EXPECT_EQ(*ReadText(parsed, "checkpoint"), "models/plain");
  EXPECT_EQ(ReadText(parsed, "absent").status().code(), Status::Code::kNotFound);
  parsed["num"] = 3;
  EXPECT_FALSE(ReadText(parsed, "num").ok());
}

TEST(JsonText, DumpJsonNeverThrows) {
  nlohmann::ordered_json j = {{"name", std::string("w\xff")}};
  EXPECT_THROW(j.dump(), nlohmann::json::type_error);  // what the helper is for
  std::string text;
  EXPECT_NO_THROW(text = DumpJson(j));
  EXPECT_TRUE(IsValidUtf8(text));
  nlohmann::json plain = {{"name", std::string("w\xff")}};
  EXPECT_NO_THROW(text = DumpJson(plain, 2));
  EXPECT_TRUE(nlohmann::json::accept(text));
}

}  // namespace
}  // namespace embed2onnx
