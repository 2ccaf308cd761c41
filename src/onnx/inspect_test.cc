// inspect on files written to a temporary folder: it refuses what the reader refuses
// (and ONNX Runtime with it), says so in one line naming the file and the initializer,
// and still describes what it could read; its JSON always parses.
#include "embed2onnx/inspect.h"

#include <gtest/gtest.h>
#include <stdlib.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <string>

#include "onnx/graph_util.h"
#include "util/json_text.h"

namespace embed2onnx {
namespace {

namespace fs = std::filesystem;

constexpr uint64_t kBytes = 8 * 32 * 4;

class InspectTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/e2o_inspect_test_XXXXXX";
    ASSERT_NE(::mkdtemp(tmpl), nullptr);
    dir_ = fs::canonical(tmpl).string();
  }
  void TearDown() override {
    std::error_code ec;
    fs::remove_all(dir_, ec);
  }
  // A lookup graph whose FLOAT [8, 32] weight `name` is external at `location`.
  std::string WriteModel(const std::string& rel, const std::string& location,
                         const std::string& name = "embed_tokens.weight") {
    onnx::ModelProto m;
    m.set_ir_version(10);
    m.set_producer_name("inspect_test");
    m.add_opset_import()->set_version(20);
    onnx::GraphProto* g = m.mutable_graph();
    g->set_name("g");
    AddLookupIO(g, 32);
    onnx::TensorProto* t = g->add_initializer();
    t->set_name(name);
    t->set_data_type(onnx::TensorProto::FLOAT);
    t->add_dims(8);
    t->add_dims(32);
    t->set_data_location(onnx::TensorProto::EXTERNAL);
    for (auto [k, v] : {std::pair<std::string, std::string>{"location", location},
                        {"offset", "0"},
                        {"length", std::to_string(kBytes)}}) {
      auto* e = t->add_external_data();
      e->set_key(k);
      e->set_value(v);
    }
    AddNode(g, "Gather", {name, kInputName}, {kOutputName}, "gather");
    return Write(rel, m.SerializeAsString());
  }
  std::string Write(const std::string& rel, const std::string& bytes) {
    const std::string p = dir_ + "/" + rel;
    fs::create_directories(fs::path(p).parent_path());
    std::ofstream(p, std::ios::binary).write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
    return p;
  }
  // Runs inspect --json; the output must parse whatever the verdict.
  nlohmann::json Json(const std::string& model, Status* s) {
    std::string out;
    *s = InspectModel(model, true, &out);
    EXPECT_FALSE(out.empty()) << s->message();
    EXPECT_TRUE(IsValidUtf8(out));
    return nlohmann::json::parse(out);  // throws (failing the test) if it does not parse
  }

  std::string dir_;
};

TEST_F(InspectTest, DescribesASoundModel) {
  const std::string m = WriteModel("ok/m.onnx", "m.onnx_data");
  Write("ok/m.onnx_data", std::string(kBytes, 'x'));
  Status s;
  nlohmann::json j = Json(m, &s);
  ASSERT_TRUE(s.ok()) << s.message();
  EXPECT_EQ(j["ok"], true);
  EXPECT_FALSE(j.contains("error"));
  EXPECT_EQ(j["file"], m);
  EXPECT_EQ(j["producer_name"], "inspect_test");
  const auto& init = j["initializers"][0];
  EXPECT_EQ(init["name"], "embed_tokens.weight");
  EXPECT_EQ(init["bytes"], kBytes);
  EXPECT_EQ(init["location"], "m.onnx_data");
  EXPECT_EQ(init["offset"], 0);
  EXPECT_EQ(init["length"], kBytes);
  EXPECT_EQ(j["sidecar"]["path"], dir_ + "/ok/m.onnx_data");
  EXPECT_EQ(j["sidecar"]["ranges_fit"], true);
  EXPECT_EQ(j["sidecar"]["bytes"], kBytes);

  auto text = InspectModel(m, false);
  ASSERT_TRUE(text.ok());
  EXPECT_NE(text->find("every external range fits"), std::string::npos) << *text;
  EXPECT_NE(text->find("external m.onnx_data offset 0 length 1024"), std::string::npos) << *text;
}

TEST_F(InspectTest, ASpliceGraphIsOneOfItsThreeInputLists) {
  const std::string m = WriteModel("s/m.onnx", "m.onnx_data");
  Write("s/m.onnx_data", std::string(kBytes, 'x'));
  onnx::ModelProto proto;
  {
    std::ifstream in(m, std::ios::binary);
    ASSERT_TRUE(proto.ParseFromIstream(&in));
  }
  // Written with `inputs` after input_ids; what inspect says of it.
  auto splice_inputs = [&](const std::vector<std::string>& inputs) {
    onnx::ModelProto p = proto;
    for (const std::string& name : inputs) p.mutable_graph()->add_input()->set_name(name);
    Write("s/m.onnx", p.SerializeAsString());
    Status s;
    nlohmann::json j = Json(m, &s);
    return j["splice"].get<bool>() ? j["splice_inputs"].get<std::string>()
                                   : std::string("not a splice graph");
  };
  EXPECT_EQ(splice_inputs({}), "not a splice graph");
  EXPECT_EQ(splice_inputs({"audio_features"}), "input_ids + audio_features");
  EXPECT_EQ(splice_inputs({"image_features"}), "input_ids + image_features");
  EXPECT_EQ(splice_inputs({"image_features", "audio_features"}),
            "input_ids + image_features + audio_features");
  EXPECT_EQ(splice_inputs({"audio_features", "image_features"}), "not a splice graph");
  EXPECT_EQ(splice_inputs({"audio_features", "audio_features"}), "not a splice graph");
  EXPECT_EQ(splice_inputs({"audio_features", "pixel_values"}), "not a splice graph");
}

TEST_F(InspectTest, RefusesAnEscapingSidecarButStillDescribes) {
  Write("outside/secret", std::string(kBytes, 's'));
  const std::string m = WriteModel("esc/m.onnx", "m.onnx_data");
  ASSERT_EQ(::symlink((dir_ + "/outside/secret").c_str(), (dir_ + "/esc/m.onnx_data").c_str()), 0);
  Status s;
  nlohmann::json j = Json(m, &s);
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.message().rfind(dir_ + "/esc/m.onnx_data: resolves to " + dir_ + "/outside/secret", 0), 0u)
      << s.message();
  EXPECT_NE(s.message().find("'embed_tokens.weight'"), std::string::npos) << s.message();
  EXPECT_EQ(j["ok"], false);
  EXPECT_EQ(j["error"], s.message());
  EXPECT_EQ(j["initializers"][0]["checked"], false);
  EXPECT_EQ(j["sidecar"]["ranges_fit"], false);
  // The Result form gives the error alone.
  auto r = InspectModel(m, true);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().message(), s.message());
}

TEST_F(InspectTest, RefusesAbsoluteAndClimbingLocations) {
  Status s;
  const std::string abs = WriteModel("abs/m.onnx", "/etc/passwd");
  nlohmann::json j = Json(abs, &s);
  EXPECT_EQ(s.message().rfind(abs + ": initializer 'embed_tokens.weight': location '/etc/passwd'", 0), 0u)
      << s.message();
  EXPECT_EQ(j["ok"], false);
  const std::string up = WriteModel("up/m.onnx", "../../../../../../../../../etc/passwd");
  Json(up, &s);
  EXPECT_NE(s.message().find("resolves to /etc/passwd, outside"), std::string::npos) << s.message();
}

TEST_F(InspectTest, MissingSidecarAndRangesThatDoNotFit) {
  Status s;
  const std::string m = WriteModel("miss/m.onnx", "m.onnx_data");
  nlohmann::json j = Json(m, &s);
  EXPECT_EQ(s.code(), Status::Code::kCorruption);  // a damaged export: exit 1, not 2
  EXPECT_EQ(j["sidecar"]["exists"], false);
  std::string text;
  EXPECT_FALSE(InspectModel(m, false, &text).ok());
  EXPECT_NE(text.find("MISSING"), std::string::npos) << text;

  const std::string s2 = WriteModel("short/m.onnx", "m.onnx_data");
  Write("short/m.onnx_data", std::string(100, 'x'));
  j = Json(s2, &s);
  EXPECT_NE(s.message().find("runs past the end"), std::string::npos) << s.message();
  EXPECT_EQ(j["sidecar"]["exists"], true);
  EXPECT_EQ(j["sidecar"]["bytes"], 100);
  EXPECT_EQ(j["sidecar"]["ranges_fit"], false);
}

TEST_F(InspectTest, FilesThatAreNotModelsPrintNothing) {
  for (const auto& [name, bytes] : {std::pair<std::string, std::string>{"empty.onnx", ""},
                                    {"junk.onnx", "\xff\xff\xff\xff"},
                                    {"lfs.onnx", "version https://git-lfs.github.com/spec/v1\n"}}) {
    std::string out = "stale";
    Status s = InspectModel(Write(name, bytes), true, &out);
    EXPECT_FALSE(s.ok()) << name;
    EXPECT_TRUE(out.empty()) << name;
    EXPECT_EQ(s.message().rfind(dir_ + "/" + name + ": ", 0), 0u) << s.message();
  }
  std::string out;
  EXPECT_EQ(InspectModel(dir_ + "/absent.onnx", false, &out).code(), Status::Code::kNotFound);
}

// Issue 9: a \xff in an initializer name made inspect --json abort in nlohmann's dump.
TEST_F(InspectTest, NamesThatAreNotUtf8) {
  const std::string raw = "embed\xff\xfe";
  const std::string m = WriteModel("bytes/m.onnx", "m.onnx_data", raw);
  Write("bytes/m.onnx_data", std::string(kBytes, 'x'));
  Status s;
  nlohmann::json j = Json(m, &s);
  ASSERT_TRUE(s.ok()) << s.message();
  const nlohmann::json& init = j["initializers"][0];
  EXPECT_EQ(init["name"], "embed\xEF\xBF\xBD\xEF\xBF\xBD");
  auto back = ReadText(init, "name");
  ASSERT_TRUE(back.ok());
  EXPECT_EQ(*back, raw);
  EXPECT_EQ(j["nodes"][0]["inputs"][0], "embed\xEF\xBF\xBD\xEF\xBF\xBD");
  // A model under a folder whose name is not UTF-8.
  const std::string in_bytes = WriteModel("dir\xff/m.onnx", "m.onnx_data");
  Write("dir\xff/m.onnx_data", std::string(kBytes, 'x'));
  j = Json(in_bytes, &s);
  ASSERT_TRUE(s.ok()) << s.message();
  EXPECT_EQ(*ReadText(j, "file"), in_bytes);
  EXPECT_EQ(*ReadText(j["sidecar"], "path"), dir_ + "/dir\xff/m.onnx_data");
}

}  // namespace
}  // namespace embed2onnx
