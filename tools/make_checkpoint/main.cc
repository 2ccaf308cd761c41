// make_checkpoint: writes a synthetic Hugging Face style safetensors checkpoint that holds
// one token-embedding table plus a few small filler tensors, for the tests of embed2onnx.
//
// It deliberately shares no code with the embed2onnx library: the reader is tested against
// files written by an independent writer (and against the real fixtures in
// shared/fixtures/real, written by `transformers` itself).
//
// Layout written (safetensors, see SPEC §7):
//   u64 little-endian header length N, N bytes of JSON padded with spaces so that the data
//   starts at a multiple of 8, then the tensors back to back, little-endian, row-major.
// With --shards K > 1 the files are `model-0000i-of-0000K.safetensors` plus
// `model.safetensors.index.json`; the table always goes in the last shard.
//
// Values: normal(0, std) from splitmix64 + Box-Muller, a pure function of (seed, row, col),
// computed in double, rounded to float32, then to the storage dtype with round-to-nearest-
// even; --odd-row-std gives the odd rows their own deviation. --edge-rows replaces the first rows with
// hand-picked values that stress the fp16 and int8 encoders (see EdgeRowValues). The table is streamed in
// chunks of rows, so a 262144 x 4096 bf16 table (2 GiB) needs a few MiB of memory.

#include <CLI/CLI.hpp>
#include <algorithm>
#include <bit>
#include <cerrno>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <future>
#include <nlohmann/json.hpp>
#include <numbers>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

namespace {

namespace fs = std::filesystem;

enum class DType { kBF16, kF16, kF32 };

struct DTypeInfo {
  const char* flag;         // spelling on the command line
  const char* safetensors;  // spelling in the header
  int bytes;
};

constexpr DTypeInfo kDTypes[] = {
    {"bf16", "BF16", 2},
    {"f16", "F16", 2},
    {"f32", "F32", 4},
};

const DTypeInfo& Info(DType t) { return kDTypes[static_cast<int>(t)]; }

// ---------------------------------------------------------------------------------------
// Float conversions, round to nearest, ties to even.

uint16_t Bf16FromF32(float f) {
  uint32_t x = std::bit_cast<uint32_t>(f);
  if ((x & 0x7fffffffu) > 0x7f800000u) return static_cast<uint16_t>((x >> 16) | 0x0040u);  // quiet NaN
  // Adding 0x7fff plus the lowest kept bit rounds half to even; overflow carries into inf.
  return static_cast<uint16_t>((x + 0x7fffu + ((x >> 16) & 1u)) >> 16);
}

uint16_t F16FromF32(float f) {
  const uint32_t x = std::bit_cast<uint32_t>(f);
  const uint16_t sign = static_cast<uint16_t>((x >> 16) & 0x8000u);
  const uint32_t ax = x & 0x7fffffffu;
  if (ax > 0x7f800000u) return sign | 0x7e00u;   // NaN stays a (quiet) NaN
  if (ax >= 0x477ff000u) return sign | 0x7c00u;  // >= 65520 (incl. inf): rounds to inf
  if (ax < 0x38800000u) {
    // Below 2^-14: result is an fp16 subnormal k * 2^-24 (or zero, or the smallest normal
    // after a carry). |x| = m * 2^(e - 150) with m the 24-bit significand, so
    // k = round(m * 2^(e - 126)) = round(m >> (126 - e)).
    const int e = static_cast<int>(ax >> 23);
    if (e < 102) return sign;  // |x| < 2^-25 rounds to zero (2^-25 itself is handled below)
    const uint32_t m = (ax & 0x7fffffu) | 0x800000u;
    const int shift = 126 - e;  // 14..24
    uint32_t k = m >> shift;
    const uint32_t rest = m & ((1u << shift) - 1u);
    const uint32_t half = 1u << (shift - 1);
    if (rest > half || (rest == half && (k & 1u))) ++k;
    return static_cast<uint16_t>(sign | k);
  }
  // Normal range: rebias the exponent (127 -> 15) and round away 13 mantissa bits.
  const uint32_t rebased = ax - (112u << 23);
  return static_cast<uint16_t>(sign | ((rebased + 0xfffu + ((rebased >> 13) & 1u)) >> 13));
}

// ---------------------------------------------------------------------------------------
// Deterministic values.

uint64_t SplitMix64(uint64_t& state) {
  uint64_t z = (state += 0x9e3779b97f4a7c15ull);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  return z ^ (z >> 31);
}

// Fills `out` with normal(0, stddev) values for one row of the stream `stream` (the table
// and each filler tensor use distinct streams). Columns 2c and 2c+1 come from the c-th
// 64-bit draw of a generator seeded from (seed, stream, row), so a value depends only on
// (seed, stream, row, col).
void NormalRow(uint64_t seed, uint64_t stream, uint64_t row, double stddev, float* out, size_t n) {
  uint64_t state = seed;
  state ^= SplitMix64(state) + stream * 0xd1342543de82ef95ull;
  state ^= SplitMix64(state) + row * 0x2545f4914f6cdd1dull;
  SplitMix64(state);
  constexpr double kTwoPi = 2.0 * std::numbers::pi;
  for (size_t col = 0; col < n; col += 2) {
    const uint64_t r = SplitMix64(state);
    const double u1 = (static_cast<double>(r >> 32) + 0.5) * 0x1p-32;  // in (0, 1): log is finite
    const double u2 = static_cast<double>(r & 0xffffffffu) * 0x1p-32;
    const double radius = std::sqrt(-2.0 * std::log(u1));
    out[col] = static_cast<float>(stddev * radius * std::cos(kTwoPi * u2));
    if (col + 1 < n) out[col + 1] = static_cast<float>(stddev * radius * std::sin(kTwoPi * u2));
  }
}

// The hand-picked rows of --edge-rows, as float32 before rounding to the storage dtype.
// Returns false if `row` is not an edge row. Patterns repeat across the columns.
// Rows 0 and 1 are among the parity sample ids of SPEC §5, so they stay finite in every
// tier; the fp16-overflow row (f32 sources only) is row 9.
bool EdgeRowValues(uint64_t row, DType dtype, float* out, size_t d) {
  auto fill = [&](const std::vector<float>& pattern) {
    for (size_t j = 0; j < d; ++j) out[j] = pattern[j % pattern.size()];
  };
  auto p2 = [](int e) { return std::ldexp(1.0f, e); };
  switch (row) {
    case 0:  // all zero
      fill({0.0f});
      return true;
    case 1: {  // exactly halfway between two fp16 values: ties to even, both directions
      // (2k+1) * 2^-25 lies halfway between fp16 subnormals k*2^-24 and (k+1)*2^-24 and
      // has at most 8 significant bits, so bf16 holds it exactly.
      std::vector<float> v = {p2(-25),     -p2(-25),     3 * p2(-25),   -3 * p2(-25), 5 * p2(-25),
                              7 * p2(-25), -7 * p2(-25), 255 * p2(-25), 253 * p2(-25)};
      if (dtype == DType::kF32) {  // normal-range ties need more than bf16's 8 bits
        const std::vector<float> more = {
            1 + p2(-11),            // -> 1 (even)
            1 + 3 * p2(-11),        // -> 1 + 2^-9 (even)
            -(1 + p2(-11)),         // -> -1
            2049.0f,                // spacing 2: -> 2048
            2051.0f,                // -> 2052
            1000.25f,               // spacing 0.5: -> 1000
            1000.75f,               // -> 1001
            p2(-14) + p2(-25),      // -> 2^-14
            p2(-14) - p2(-25),      // largest subnormal + half: carries into 2^-14
            1 + p2(-11) + p2(-23),  // just above the tie -> up
            1 + p2(-11) - p2(-24),  // just below the tie -> down
            -(32768.0f + 16.0f),    // spacing 32: -> -32768
            -(32768.0f + 48.0f),    // -> -32832 (even mantissa)
        };
        v.insert(v.end(), more.begin(), more.end());
      }
      fill(v);
      return true;
    }
    case 2:  // fp16 subnormal range and below its smallest subnormal
      fill({p2(-24), -p2(-24), 3 * p2(-23), p2(-14), 1023 * p2(-24), p2(-26), -p2(-30), 1e-6f, 3e-5f,
            -5.9e-8f, 1e-8f, 1.5f * p2(-25), 1e-40f, -1e-45f, 6.0e-5f, -6.1e-5f});
      return true;
    case 3: {  // int8 ties: absmax 127/128 gives s = 1/128 exactly, so w/s = k + 0.5
      std::vector<float> v = {127.0f / 128.0f};
      const int ks[] = {0, 1, 2, 3, 4, 5, 62, 63, 125, 126};
      float sign = 1.0f;
      for (int k : ks) {
        v.push_back(sign * (static_cast<float>(k) + 0.5f) / 128.0f);
        sign = -sign;
        v.push_back(sign * (static_cast<float>(k) + 0.5f) / 128.0f);
      }
      v.push_back(-127.0f / 128.0f);
      fill(v);
      return true;
    }
    case 4:  // negative zero among ordinary values
      fill({-0.0f, 0.5f, -0.0f, -0.25f, 0.0f, -0.0f, 0.125f, -0.0f, -0.015625f});
      return true;
    case 5:  // all negative zero
      fill({-0.0f});
      return true;
    case 6:  // a single non-zero value
      fill({0.0f});
      out[std::min<size_t>(3, d - 1)] = -0.0390625f;
      return true;
    case 7: {  // large magnitudes that fp16 still holds (65504 is not a bf16 value)
      std::vector<float> v = {65280.0f, -65280.0f, 32768.0f, -49152.0f, 61440.0f,
                              1024.0f,  -4096.0f,  0.001f,   -1.0f,     12288.0f};
      if (dtype != DType::kBF16) v.push_back(65504.0f), v.push_back(-65504.0f);
      fill(v);
      return true;
    }
    case 8:  // every |w| below 1e-12: the int8 scale clamp decides
      fill({1e-13f, -3e-13f, 5e-13f, 9.9e-13f, -1e-40f, 2e-14f, 0.0f, -7.5e-13f});
      return true;
    case 9:  // f32 only: beyond fp16's range, overflows to +-inf in the fp16w tier
      if (dtype != DType::kF32) return false;
      fill({65504.0f, 65519.99609375f, 65520.0f, -65520.0f, 65536.0f, -70000.0f, 1e6f, 1e10f, -3e38f, 0.5f});
      return true;
    default:
      return false;
  }
}

void Encode(const float* v, size_t n, DType dtype, uint8_t* out) {
  switch (dtype) {
    case DType::kF32:
      for (size_t i = 0; i < n; ++i) {
        const uint32_t b = std::bit_cast<uint32_t>(v[i]);
        for (int k = 0; k < 4; ++k) out[4 * i + k] = static_cast<uint8_t>(b >> (8 * k));
      }
      break;
    case DType::kBF16:
    case DType::kF16:
      for (size_t i = 0; i < n; ++i) {
        const uint16_t b = dtype == DType::kBF16 ? Bf16FromF32(v[i]) : F16FromF32(v[i]);
        out[2 * i] = static_cast<uint8_t>(b);
        out[2 * i + 1] = static_cast<uint8_t>(b >> 8);
      }
      break;
  }
}

// ---------------------------------------------------------------------------------------
// Tensors and files.

struct Options {
  std::string out_dir;
  uint64_t vocab = 0;
  uint64_t hidden = 0;
  std::string dtype_flag = "bf16";
  DType dtype = DType::kBF16;
  std::string tensor = "language_model.model.embed_tokens.weight";
  int shards = 1;
  uint64_t seed = 0;
  double stddev = 0.02;
  double odd_row_stddev = -1;  // < 0: the same as stddev
  bool edge_rows = false;
  int64_t nonfinite_row = -1;
  bool metadata = true;
};

// `produce(first_row, count, buffer)` fills `buffer` with rows [first_row, first_row +
// count) of a tensor, encoded in the storage dtype.
using RowProducer = std::function<void(uint64_t, uint64_t, uint8_t*)>;

struct TensorPlan {
  std::string name;
  std::vector<uint64_t> shape;  // 1-D or 2-D
  uint64_t rows = 0;
  uint64_t row_bytes = 0;
  RowProducer produce;
  uint64_t Bytes() const { return rows * row_bytes; }
};

struct ShardPlan {
  std::string file_name;
  std::vector<TensorPlan> tensors;
};

[[noreturn]] void Fail(const std::string& message) { throw std::runtime_error(message); }

// A small filler tensor: values from its own stream, so they never equal the table's.
TensorPlan Filler(const Options& opt, const std::string& name, std::vector<uint64_t> shape, uint64_t stream) {
  TensorPlan t;
  t.name = name;
  t.shape = shape;
  t.rows = shape.size() == 2 ? shape[0] : 1;
  const uint64_t cols = shape.back();
  t.row_bytes = cols * Info(opt.dtype).bytes;
  const DType dtype = opt.dtype;
  const uint64_t seed = opt.seed;
  t.produce = [=](uint64_t first, uint64_t count, uint8_t* buf) {
    std::vector<float> v(cols);
    for (uint64_t r = 0; r < count; ++r) {
      NormalRow(seed, stream, first + r, 0.05, v.data(), cols);
      if (shape.size() == 1) std::for_each(v.begin(), v.end(), [](float& x) { x += 1.0f; });  // norm-like
      Encode(v.data(), cols, dtype, buf + r * cols * Info(dtype).bytes);
    }
  };
  return t;
}

TensorPlan Table(const Options& opt) {
  TensorPlan t;
  t.name = opt.tensor;
  t.shape = {opt.vocab, opt.hidden};
  t.rows = opt.vocab;
  t.row_bytes = opt.hidden * Info(opt.dtype).bytes;
  const Options o = opt;
  t.produce = [o](uint64_t first, uint64_t count, uint8_t* buf) {
    // Rows are independent: split the chunk across the available cores.
    const unsigned workers = static_cast<unsigned>(
        std::clamp<uint64_t>(std::thread::hardware_concurrency(), 1, std::max<uint64_t>(count / 64, 1)));
    auto work = [&](uint64_t begin, uint64_t end) {
      std::vector<float> v(o.hidden);
      for (uint64_t r = begin; r < end; ++r) {
        const uint64_t row = first + r;
        if (!(o.edge_rows && EdgeRowValues(row, o.dtype, v.data(), v.size())))
          NormalRow(o.seed, 0, row, (row & 1) && o.odd_row_stddev >= 0 ? o.odd_row_stddev : o.stddev,
                    v.data(), v.size());
        if (static_cast<int64_t>(row) == o.nonfinite_row)
          v[std::min<size_t>(1, v.size() - 1)] = std::nanf("");
        Encode(v.data(), v.size(), o.dtype, buf + r * o.hidden * Info(o.dtype).bytes);
      }
    };
    if (workers <= 1) {
      work(0, count);
      return;
    }
    std::vector<std::thread> threads;
    const uint64_t per = (count + workers - 1) / workers;
    for (unsigned w = 0; w < workers; ++w) {
      const uint64_t b = std::min<uint64_t>(count, w * per), e = std::min<uint64_t>(count, b + per);
      if (b < e) threads.emplace_back(work, b, e);
    }
    for (auto& th : threads) th.join();
  };
  return t;
}

std::string ShardName(int index, int count) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "model-%05d-of-%05d.safetensors", index + 1, count);
  return buf;
}

class File {
 public:
  explicit File(const fs::path& path) : path_(path), f_(std::fopen(path.c_str(), "wb")) {
    if (!f_) Fail("cannot create " + path.string() + ": " + std::strerror(errno));
  }
  ~File() {
    if (f_) std::fclose(f_);
  }
  void Write(const void* data, size_t n) {
    if (n && std::fwrite(data, 1, n, f_) != n)
      Fail("write error on " + path_.string() + ": " + std::strerror(errno));
    written_ += n;
  }
  void Close() {
    const bool ok = std::fflush(f_) == 0;
    const bool closed = std::fclose(f_) == 0;
    f_ = nullptr;
    if (!ok || !closed) Fail("write error on " + path_.string());
  }
  uint64_t written() const { return written_; }

 private:
  fs::path path_;
  std::FILE* f_;
  uint64_t written_ = 0;
};

// Writes one .safetensors file; it appears under its final name only when complete.
// Returns the bytes of tensor data written.
uint64_t WriteSafetensors(const fs::path& dir, const ShardPlan& shard, const Options& opt) {
  nlohmann::ordered_json header = nlohmann::ordered_json::object();
  if (opt.metadata) header["__metadata__"] = {{"format", "pt"}};
  uint64_t offset = 0;
  for (const TensorPlan& t : shard.tensors) {
    header[t.name] = {{"dtype", Info(opt.dtype).safetensors},
                      {"shape", t.shape},
                      {"data_offsets", {offset, offset + t.Bytes()}}};
    offset += t.Bytes();
  }
  std::string text = header.dump();
  text.append((8 - text.size() % 8) % 8, ' ');  // data starts 8-byte aligned

  const fs::path final_path = dir / shard.file_name;
  const fs::path tmp_path = dir / (shard.file_name + ".partial");
  File file(tmp_path);
  uint8_t len[8];
  for (int k = 0; k < 8; ++k) len[k] = static_cast<uint8_t>(static_cast<uint64_t>(text.size()) >> (8 * k));
  file.Write(len, 8);
  file.Write(text.data(), text.size());

  // Two chunk buffers: the next chunk is computed while the current one is written.
  constexpr uint64_t kChunkBytes = 8ull << 20;
  std::vector<uint8_t> ready, next;
  for (const TensorPlan& t : shard.tensors) {
    const uint64_t rows_per_chunk = std::max<uint64_t>(1, kChunkBytes / std::max<uint64_t>(t.row_bytes, 1));
    auto compute = [&t, rows_per_chunk](uint64_t first, std::vector<uint8_t>& buf) {
      const uint64_t count = std::min(rows_per_chunk, t.rows - first);
      buf.assign(count * t.row_bytes, 0);
      t.produce(first, count, buf.data());
    };
    if (t.rows == 0) continue;
    compute(0, ready);
    for (uint64_t first = 0; first < t.rows; first += rows_per_chunk) {
      const uint64_t following = first + rows_per_chunk;
      std::future<void> pending;
      if (following < t.rows) pending = std::async(std::launch::async, compute, following, std::ref(next));
      file.Write(ready.data(), ready.size());
      if (pending.valid()) pending.get();
      std::swap(ready, next);
    }
  }
  const uint64_t expected = 8 + text.size() + offset;
  if (file.written() != expected)
    Fail("internal error: wrote " + std::to_string(file.written()) + " bytes to " + tmp_path.string() +
         ", expected " + std::to_string(expected));
  file.Close();
  fs::rename(tmp_path, final_path);
  return offset;
}

std::vector<ShardPlan> Plan(const Options& opt) {
  const uint64_t d = opt.hidden;
  const uint64_t small = std::min<uint64_t>(d, 16);
  std::vector<ShardPlan> shards(opt.shards);
  uint64_t stream = 1;
  if (opt.shards == 1) {
    shards[0].file_name = "model.safetensors";
    shards[0].tensors.push_back(Filler(opt, "model.layers.0.input_layernorm.weight", {d}, stream++));
    shards[0].tensors.push_back(Filler(opt, "model.layers.0.self_attn.q_proj.weight", {small, d}, stream++));
  } else {
    for (int i = 0; i + 1 < opt.shards; ++i) {
      shards[i].file_name = ShardName(i, opt.shards);
      const std::string layer = "model.layers." + std::to_string(i) + ".";
      shards[i].tensors.push_back(Filler(opt, layer + "input_layernorm.weight", {d}, stream++));
      shards[i].tensors.push_back(Filler(opt, layer + "self_attn.q_proj.weight", {small, d}, stream++));
      shards[i].tensors.push_back(Filler(opt, layer + "mlp.down_proj.weight", {d, small}, stream++));
    }
    shards.back().file_name = ShardName(opt.shards - 1, opt.shards);
  }
  // The last shard: a small lm_head before the table (so the table's offset is not 0) and
  // the final norm after it.
  ShardPlan& last = shards.back();
  last.tensors.push_back(Filler(opt, "lm_head.weight", {4, d}, stream++));
  last.tensors.push_back(Table(opt));
  last.tensors.push_back(Filler(opt, "model.norm.weight", {d}, stream++));

  size_t same_name = 0;
  for (const ShardPlan& s : shards)
    for (const TensorPlan& t : s.tensors) same_name += t.name == opt.tensor;
  if (same_name != 1) Fail("--tensor " + opt.tensor + " collides with a filler tensor name");
  return shards;
}

void Run(const Options& opt) {
  const fs::path dir(opt.out_dir);
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec) Fail("cannot create " + dir.string() + ": " + ec.message());

  const std::vector<ShardPlan> shards = Plan(opt);
  uint64_t total = 0;
  for (const ShardPlan& s : shards) total += WriteSafetensors(dir, s, opt);

  if (opt.shards > 1) {
    nlohmann::ordered_json index;
    index["metadata"] = {{"total_size", total}};
    nlohmann::ordered_json map = nlohmann::ordered_json::object();
    for (const ShardPlan& s : shards)
      for (const TensorPlan& t : s.tensors) map[t.name] = s.file_name;
    index["weight_map"] = map;
    const fs::path path = dir / "model.safetensors.index.json";
    std::ofstream out(path.string() + ".partial", std::ios::binary);
    out << index.dump(2) << "\n";
    out.close();
    if (!out) Fail("write error on " + path.string());
    fs::rename(path.string() + ".partial", path);
  }
  std::printf("make_checkpoint: %s %s [%llu, %llu] in %d file(s) under %s\n", opt.tensor.c_str(),
              Info(opt.dtype).safetensors, static_cast<unsigned long long>(opt.vocab),
              static_cast<unsigned long long>(opt.hidden), opt.shards, dir.string().c_str());
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"make_checkpoint: write a synthetic safetensors checkpoint holding one embedding table"};
  Options opt;
  app.add_option("--out", opt.out_dir, "output folder (created if missing)")->required();
  app.add_option("--vocab", opt.vocab, "rows of the table (V)")
      ->required()
      ->check(CLI::Range(uint64_t{1}, uint64_t{1} << 31));
  app.add_option("--hidden", opt.hidden, "columns of the table (D)")
      ->required()
      ->check(CLI::Range(uint64_t{1}, uint64_t{1} << 20));
  app.add_option("--dtype", opt.dtype_flag, "storage dtype")->check(CLI::IsMember({"bf16", "f16", "f32"}));
  app.add_option("--tensor", opt.tensor, "name of the table tensor");
  app.add_option("--shards", opt.shards, "number of files (>1 adds model.safetensors.index.json)")
      ->check(CLI::Range(1, 99));
  app.add_option("--seed", opt.seed, "seed of the pseudo-random values");
  app.add_option("--std", opt.stddev, "standard deviation of the values")->check(CLI::Range(0.0, 1e6));
  app.add_option("--odd-row-std", opt.odd_row_stddev,
                 "standard deviation of the odd rows only (a table whose even rows look unlike it)")
      ->check(CLI::Range(0.0, 1e6));
  app.add_flag("--edge-rows", opt.edge_rows, "replace the first rows with hand-picked edge values");
  app.add_option("--nonfinite", opt.nonfinite_row, "put a NaN in this row (for error tests)")
      ->check(CLI::NonNegativeNumber);
  app.add_flag("--metadata,!--no-metadata", opt.metadata,
               "write __metadata__ {\"format\":\"pt\"} (default on)");
  CLI11_PARSE(app, argc, argv);

  for (int i = 0; i < 3; ++i)
    if (opt.dtype_flag == kDTypes[i].flag) opt.dtype = static_cast<DType>(i);
  try {
    if (opt.tensor.empty()) Fail("--tensor must not be empty");
    if (opt.nonfinite_row >= 0 && static_cast<uint64_t>(opt.nonfinite_row) >= opt.vocab)
      Fail("--nonfinite " + std::to_string(opt.nonfinite_row) + " is not a row of a table with " +
           std::to_string(opt.vocab) + " rows");
    Run(opt);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "make_checkpoint: error: %s\n", e.what());
    return 1;
  }
  return 0;
}
