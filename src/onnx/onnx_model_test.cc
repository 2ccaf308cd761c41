// The .onnx reader on files written to a temporary folder: what ONNX Runtime 1.30
// accepts is read, what it refuses is refused with one line naming the file and the
// initializer. tests/e2e/hostile_onnx.sh checks the same cases against ORT itself.
#include "onnx/onnx_model.h"

#include <gtest/gtest.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstring>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "onnx/graph_util.h"

namespace embed2onnx {
namespace {

namespace fs = std::filesystem;

constexpr int kRows = 16, kCols = 16;
constexpr uint64_t kBytes = kRows * kCols * 4;
constexpr char kWeight[] = "embed_tokens.weight";

std::string TableBytes() {
  std::string b(kBytes, '\0');
  for (size_t i = 0; i < b.size(); ++i) b[i] = static_cast<char>(i * 7 + 1);
  return b;
}

bool Has(const Status& s, const std::string& part) { return s.message().find(part) != std::string::npos; }

class OnnxModelTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/e2o_onnx_model_test_XXXXXX";
    ASSERT_NE(::mkdtemp(tmpl), nullptr);
    dir_ = fs::canonical(tmpl).string();  // messages show resolved paths
  }
  void TearDown() override {
    std::error_code ec;
    fs::remove_all(dir_, ec);
  }

  // Gather(weight, input_ids) with one FLOAT [16, 16] initializer per entry of `kv`:
  // external with those key/value pairs, or inline (empty kv) holding `inline_bytes`.
  static onnx::ModelProto Model(const std::vector<std::vector<std::pair<std::string, std::string>>>& inits,
                                const std::string& inline_bytes = TableBytes()) {
    onnx::ModelProto m;
    m.set_ir_version(10);
    m.add_opset_import()->set_version(20);
    onnx::GraphProto* g = m.mutable_graph();
    g->set_name("g");
    AddLookupIO(g, kCols);
    for (size_t i = 0; i < inits.size(); ++i) {
      onnx::TensorProto* t = g->add_initializer();
      // Named by hand: GCC 12 warns (-Wrestrict, wrongly) on "w" + std::to_string(i).
      static const char* const kNames[] = {kWeight, "w1", "w2", "w3"};
      if (i >= std::size(kNames)) std::abort();  // a test needs more names
      t->set_name(kNames[i]);
      t->set_data_type(onnx::TensorProto::FLOAT);
      t->add_dims(kRows);
      t->add_dims(kCols);
      if (inits[i].empty()) {
        t->set_raw_data(inline_bytes);
        continue;
      }
      t->set_data_location(onnx::TensorProto::EXTERNAL);
      for (const auto& [k, v] : inits[i]) {
        auto* e = t->add_external_data();
        e->set_key(k);
        e->set_value(v);
      }
    }
    AddNode(g, "Gather", {kWeight, kInputName}, {kOutputName}, "gather");
    return m;
  }
  static onnx::ModelProto External(const std::string& location, uint64_t offset = 0,
                                   std::vector<std::pair<std::string, std::string>> extra = {}) {
    std::vector<std::pair<std::string, std::string>> kv = {
        {"location", location}, {"offset", std::to_string(offset)}, {"length", std::to_string(kBytes)}};
    kv.insert(kv.end(), extra.begin(), extra.end());
    return Model({kv});
  }

  std::string Path(const std::string& rel) const { return dir_ + "/" + rel; }
  std::string WriteFile(const std::string& rel, const std::string& bytes) {
    const std::string p = Path(rel);
    fs::create_directories(fs::path(p).parent_path());
    std::ofstream(p, std::ios::binary).write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
    return p;
  }
  std::string WriteModel(const std::string& rel, const onnx::ModelProto& m) {
    return WriteFile(rel, m.SerializeAsString());
  }
  void Link(const std::string& rel, const std::string& target) {
    fs::create_directories(fs::path(Path(rel)).parent_path());
    ASSERT_EQ(::symlink(target.c_str(), Path(rel).c_str()), 0) << rel;
  }
  // Loads and expects a refusal whose message starts with `file` and contains `parts`.
  void ExpectRefused(const std::string& model, const std::string& file, std::vector<std::string> parts) {
    auto r = LoadedModel::Load(model);
    ASSERT_FALSE(r.ok()) << model << " was accepted";
    const std::string& msg = r.status().message();
    EXPECT_EQ(msg.rfind(file, 0), 0u) << msg;
    for (const std::string& p : parts) EXPECT_TRUE(Has(r.status(), p)) << "'" << p << "' not in: " << msg;
    EXPECT_EQ(msg.find('\n'), std::string::npos) << msg;
  }
  void ExpectReadsTable(const std::string& model) {
    auto r = LoadedModel::Load(model);
    ASSERT_TRUE(r.ok()) << r.status().message();
    const InitializerData& d = (*r)->initializers().at(kWeight);
    std::string got(kBytes, '\0');
    ASSERT_TRUE(d.Read(0, kBytes, got.data()).ok());
    EXPECT_EQ(got, TableBytes());
  }

  std::string dir_;
};

TEST_F(OnnxModelTest, ReadsExternalAndInline) {
  WriteFile("a/m.onnx_data", TableBytes());
  ExpectReadsTable(WriteModel("a/m.onnx", External("m.onnx_data")));
  ExpectReadsTable(WriteModel("b/m.onnx", Model({{}})));
  auto r = LoadedModel::Load(Path("a/m.onnx"));
  ASSERT_TRUE(r.ok());
  ASSERT_EQ((*r)->sidecars().size(), 1u);
  EXPECT_EQ((*r)->sidecar_path(), Path("a/m.onnx_data"));
  EXPECT_EQ((*r)->location(), "m.onnx_data");
  EXPECT_EQ((*r)->sidecar_size(), kBytes);
  EXPECT_EQ((*r)->initializers().at(kWeight).location, "m.onnx_data");
}

// What ONNX Runtime accepts besides our own layout.
TEST_F(OnnxModelTest, AcceptsWhatOnnxRuntimeAccepts) {
  WriteFile("ok/m.onnx_data", TableBytes());
  ExpectReadsTable(WriteModel("ok/checksum.onnx", External("m.onnx_data", 0, {{"checksum", "00"}})));
  ExpectReadsTable(WriteModel("ok/no_length.onnx", Model({{{"location", "m.onnx_data"}}})));
  ExpectReadsTable(WriteModel("ok/dot_slash.onnx", External("./m.onnx_data")));
  WriteFile("ok/sub/x", "");
  ExpectReadsTable(WriteModel("ok/back_inside.onnx", External("sub/../m.onnx_data")));
  WriteFile("ok/weights/t.bin", TableBytes());
  ExpectReadsTable(WriteModel("ok/subfolder.onnx", External("weights/t.bin")));
  WriteFile("ok/unaligned.bin", "abc" + TableBytes());
  ExpectReadsTable(WriteModel("ok/unaligned.onnx", External("unaligned.bin", 3)));
  // A sidecar that links to a file inside the folder.
  Link("ok/linked.bin", "weights/t.bin");
  ExpectReadsTable(WriteModel("ok/linked.onnx", External("linked.bin")));
}

TEST_F(OnnxModelTest, ReadsSeveralSidecars) {
  WriteFile("two/a.bin", TableBytes());
  WriteFile("two/b.bin", std::string(8, 'x') + TableBytes());
  const std::string len = std::to_string(kBytes);
  onnx::ModelProto m = Model({{{"location", "a.bin"}, {"length", len}},
                              {{"location", "b.bin"}, {"offset", "8"}, {"length", len}},
                              {{"location", "a.bin"}, {"length", len}}});
  auto r = LoadedModel::Load(WriteModel("two/m.onnx", m));
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_EQ((*r)->sidecars().size(), 2u);
  for (const char* name : {kWeight, "w1", "w2"}) {
    std::string got(kBytes, '\0');
    ASSERT_TRUE((*r)->initializers().at(name).Read(0, kBytes, got.data()).ok()) << name;
    EXPECT_EQ(got, TableBytes()) << name;
  }
  // An export in progress has one staged sidecar: a second location contradicts it.
  auto staged = LoadedModel::Load(Path("two/m.onnx"), Path("two/a.bin"));
  ASSERT_FALSE(staged.ok());
  EXPECT_TRUE(Has(staged.status(), "several files")) << staged.status().message();
}

TEST_F(OnnxModelTest, OverrideReadsTheStagedSidecarWhateverTheLocation) {
  WriteFile("st/.tmp-data", TableBytes());
  const std::string m = WriteModel("st/m.onnx", External("m.onnx_data"));
  auto r = LoadedModel::Load(m, Path("st/.tmp-data"));
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_EQ((*r)->sidecar_path(), Path("st/.tmp-data"));
  std::string got(kBytes, '\0');
  ASSERT_TRUE((*r)->initializers().at(kWeight).Read(0, kBytes, got.data()).ok());
  EXPECT_EQ(got, TableBytes());
}

TEST_F(OnnxModelTest, RefusesAbsoluteLocations) {
  WriteFile("outside/m.onnx_data", TableBytes());
  const std::string m1 = WriteModel("abs/m.onnx", External(Path("outside/m.onnx_data")));
  ExpectRefused(m1, m1, {kWeight, "absolute"});
  const std::string m2 = WriteModel("abs/etc.onnx", External("/etc/passwd"));
  ExpectRefused(m2, m2, {kWeight, "'/etc/passwd'", "absolute"});
}

TEST_F(OnnxModelTest, RefusesLocationsThatLeaveTheFolder) {
  WriteFile("outside/m.onnx_data", TableBytes());
  const std::string m = WriteModel("dd/m.onnx", External("../outside/m.onnx_data"));
  ExpectRefused(m, Path("dd/../outside/m.onnx_data"), {kWeight, "outside the model's folder", m});
  const std::string etc = WriteModel("dd/etc.onnx", External("../../../../../../../../../../etc/passwd"));
  ExpectRefused(etc, Path("dd/../../"), {kWeight, "resolves to /etc/passwd"});
  // A model in a subfolder whose location climbs to its parent.
  WriteFile("up/m.onnx_data", TableBytes());
  const std::string sub = WriteModel("up/sub/m.onnx", External("../m.onnx_data"));
  ExpectRefused(sub, Path("up/sub/../m.onnx_data"), {kWeight, "outside"});
}

TEST_F(OnnxModelTest, RefusesSymlinksThatLeaveTheFolder) {
  WriteFile("outside/m.onnx_data", TableBytes());
  const std::string m = WriteModel("link/m.onnx", External("m.onnx_data"));
  Link("link/m.onnx_data", Path("outside/m.onnx_data"));
  ExpectRefused(m, Path("link/m.onnx_data"), {kWeight, "resolves to " + Path("outside/m.onnx_data")});

  const std::string etc = WriteModel("etc/m.onnx", External("m.onnx_data"));
  Link("etc/m.onnx_data", "/etc/passwd");
  ExpectRefused(etc, Path("etc/m.onnx_data"), {kWeight, "resolves to /etc/passwd", "outside"});

  // A subfolder that is a link to elsewhere.
  const std::string dir = WriteModel("dirlink/m.onnx", External("weights/m.onnx_data"));
  Link("dirlink/weights", Path("outside"));
  ExpectRefused(dir, Path("dirlink/weights/m.onnx_data"), {kWeight, "outside"});
}

// A Hugging Face cache snapshot: both files link into blobs/, and ORT 1.30 loads it
// because the sidecar lies in the folder of the resolved model file.
TEST_F(OnnxModelTest, HuggingFaceCacheSnapshot) {
  WriteModel("hf/blobs/1111", External("m.onnx_data"));
  WriteFile("hf/blobs/2222", TableBytes());
  Link("hf/snapshots/abc/m.onnx", "../../blobs/1111");
  Link("hf/snapshots/abc/m.onnx_data", "../../blobs/2222");
  ExpectReadsTable(Path("hf/snapshots/abc/m.onnx"));

  // hf-xet's sharded blobs/xx/ folders: the two resolve into different folders, which
  // ORT 1.30 refuses.
  WriteModel("hx/blobs/11/1111", External("m.onnx_data"));
  WriteFile("hx/blobs/22/2222", TableBytes());
  Link("hx/snapshots/abc/m.onnx", "../../blobs/11/1111");
  Link("hx/snapshots/abc/m.onnx_data", "../../blobs/22/2222");
  ExpectRefused(Path("hx/snapshots/abc/m.onnx"), Path("hx/snapshots/abc/m.onnx_data"),
                {kWeight, "outside", "blobs/11"});
}

TEST_F(OnnxModelTest, ModelThatIsASymlink) {
  WriteModel("real/m.onnx", External("m.onnx_data"));
  WriteFile("real/m.onnx_data", TableBytes());
  // The sidecar is looked up beside the link (as ORT does), where it is a regular file.
  Link("a/m.onnx", "../real/m.onnx");
  WriteFile("a/m.onnx_data", TableBytes());
  ExpectReadsTable(Path("a/m.onnx"));
  // Nothing beside the link: the sidecar beside the target is not looked for.
  Link("b/m.onnx", "../real/m.onnx");
  ExpectRefused(Path("b/m.onnx"), Path("b/m.onnx_data"), {"no such file", kWeight});
  // Beside the link, a link into the target's folder.
  Link("c/m.onnx", "../real/m.onnx");
  Link("c/m.onnx_data", "../real/m.onnx_data");
  ExpectReadsTable(Path("c/m.onnx"));
}

TEST_F(OnnxModelTest, RefusesBrokenFiles) {
  const std::string empty = WriteFile("empty.onnx", "");
  ExpectRefused(empty, empty, {"empty file"});
  const std::string whole = External("m.onnx_data").SerializeAsString();
  const std::string cut = WriteFile("cut.onnx", whole.substr(0, whole.size() / 2));
  ExpectRefused(cut, cut, {"not a valid ONNX model"});
  const std::string text = WriteFile("lfs.onnx", "version https://git-lfs.github.com/spec/v1\n");
  ExpectRefused(text, text, {"not a valid ONNX model"});
  onnx::ModelProto no_graph;
  no_graph.set_ir_version(10);
  const std::string ng = WriteModel("nograph.onnx", no_graph);
  ExpectRefused(ng, ng, {"no graph"});
  onnx::ModelProto no_ir = Model({{}});
  no_ir.clear_ir_version();
  const std::string ni = WriteModel("noir.onnx", no_ir);
  ExpectRefused(ni, ni, {"no ir_version"});
  auto missing = LoadedModel::Load(Path("absent.onnx"));
  EXPECT_EQ(missing.status().code(), Status::Code::kNotFound);
}

TEST_F(OnnxModelTest, RefusesMissingOrOddSidecars) {
  const std::string m = WriteModel("ms/m.onnx", External("m.onnx_data"));
  auto r = LoadedModel::Load(m);
  ASSERT_FALSE(r.ok());
  // The model itself missing is NotFound (the check cannot run); a sidecar it names
  // missing is a damaged export.
  EXPECT_EQ(r.status().code(), Status::Code::kCorruption);
  ExpectRefused(m, Path("ms/m.onnx_data"), {"no such file", kWeight, m});

  const std::string d = WriteModel("dir/m.onnx", External("m.onnx_data"));
  fs::create_directories(Path("dir/m.onnx_data"));
  ExpectRefused(d, Path("dir/m.onnx_data"), {"not a regular file"});

  const std::string f = WriteModel("fifo/m.onnx", External("m.onnx_data"));
  ASSERT_EQ(::mkfifo(Path("fifo/m.onnx_data").c_str(), 0600), 0);
  ExpectRefused(f, Path("fifo/m.onnx_data"), {"not a regular file"});
}

TEST_F(OnnxModelTest, RefusesRangesThatDoNotFit) {
  WriteFile("r/m.onnx_data", TableBytes());
  const std::string past = WriteModel("r/past.onnx", External("m.onnx_data", 8));
  ExpectRefused(past, Path("r/m.onnx_data"), {kWeight, "offset 8", "runs past the end", "1024 bytes"});
  WriteFile("r/short.bin", TableBytes().substr(0, 100));
  const std::string shrt = WriteModel("r/short.onnx", External("short.bin"));
  ExpectRefused(shrt, Path("r/short.bin"), {kWeight, "runs past the end", "(100 bytes)"});
  const std::string huge = WriteModel("r/huge.onnx", External("m.onnx_data", UINT64_MAX));
  ExpectRefused(huge, Path("r/m.onnx_data"), {kWeight, "runs past the end"});
}

TEST_F(OnnxModelTest, RefusesBadExternalDataEntries) {
  WriteFile("e/m.onnx_data", TableBytes());
  struct Case {
    const char* file;
    std::vector<std::pair<std::string, std::string>> kv;
    const char* why;
  };
  const std::string len = std::to_string(kBytes);
  const std::vector<Case> cases = {
      {"length.onnx",
       {{"location", "m.onnx_data"}, {"length", "1020"}},
       "external length 1020, expected 1024"},
      {"unknown.onnx", {{"location", "m.onnx_data"}, {"basepath", "."}}, "'basepath'"},
      {"twice.onnx", {{"location", "m.onnx_data"}, {"location", "zz"}}, "'location' appears twice"},
      {"empty.onnx", {{"location", ""}, {"length", len}}, "without a location"},
      {"noloc.onnx", {{"length", len}}, "without a location"},
      {"nul.onnx", {{"location", std::string("m.onnx_data\0x", 13)}}, "NUL"},
      {"negative.onnx", {{"location", "m.onnx_data"}, {"offset", "-1"}}, "bad offset '-1'"},
      {"hex.onnx", {{"location", "m.onnx_data"}, {"offset", "0x10"}}, "bad offset"},
      {"badlen.onnx", {{"location", "m.onnx_data"}, {"length", "1e3"}}, "bad length"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.file);
    const std::string m = WriteModel(std::string("e/") + c.file, Model({c.kv}));
    ExpectRefused(m, m, {kWeight, c.why});
  }
}

TEST_F(OnnxModelTest, RefusesBadInlineAndDuplicateInitializers) {
  const std::string shrt = WriteModel("i/short.onnx", Model({{}}, TableBytes().substr(4)));
  ExpectRefused(shrt, shrt, {kWeight, "holds 1020 bytes, expected 1024"});
  onnx::ModelProto twice = Model({{}});
  *twice.mutable_graph()->add_initializer() = twice.graph().initializer(0);
  const std::string tw = WriteModel("i/twice.onnx", twice);
  ExpectRefused(tw, tw, {kWeight, "appears twice"});
  onnx::ModelProto bytes_check;
  EXPECT_FALSE(ParseModelBytes(twice.SerializeAsString(), "x.onnx", &bytes_check).ok());
}

// A name from the file cannot split the error line.
TEST_F(OnnxModelTest, NamesWithControlBytesStayOnOneLine) {
  onnx::ModelProto m = External("/abs");
  m.mutable_graph()->mutable_initializer(0)->set_name("evil\nembed2onnx: error: fake\x1b[0m");
  const std::string p = WriteModel("ctl/m.onnx", m);
  ExpectRefused(p, p, {"evil\\x0aembed2onnx: error: fake\\x1b[0m"});
  EXPECT_EQ(PrintableName("a\tb\x7f\xff"), "a\\x09b\\x7f\xff");
}

TEST_F(OnnxModelTest, LoadPartialKeepsWhatItRead) {
  WriteFile("p/m.onnx_data", TableBytes());
  const std::string len = std::to_string(kBytes);
  onnx::ModelProto m = Model({{{"location", "m.onnx_data"}, {"length", len}},
                              {{"location", "m.onnx_data"}, {"offset", "512"}, {"length", len}}});
  const std::string p = WriteModel("p/m.onnx", m);
  std::unique_ptr<LoadedModel> partial;
  Status s = LoadedModel::LoadPartial(p, &partial);
  ASSERT_FALSE(s.ok());
  EXPECT_TRUE(Has(s, "'w1'")) << s.message();
  ASSERT_NE(partial, nullptr);
  EXPECT_EQ(partial->proto().graph().initializer_size(), 2);
  EXPECT_EQ(partial->initializers().size(), 1u);
  EXPECT_EQ(partial->sidecars().size(), 1u);

  const std::string junk = WriteFile("p/junk.onnx", "\xff\xff\xff");
  EXPECT_FALSE(LoadedModel::LoadPartial(junk, &partial).ok());
  EXPECT_EQ(partial, nullptr);
}

}  // namespace
}  // namespace embed2onnx
