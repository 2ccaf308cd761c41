#include "stream/stored_rows.h"

#include <fmt/core.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cerrno>
#include <cmath>
#include <cstring>

#if defined(__x86_64__)
#include <immintrin.h>
#endif

#include "numerics/int8_quant.h"  // HaveAvx2
#include "util/file_io.h"
#include "util/thread_pool.h"

namespace embed2onnx {

Status StoredTier::ReadRows(uint64_t first, uint64_t n, std::vector<uint8_t>* bufs) const {
  for (int i = 0; i < tier->num_streamed; ++i) {
    const uint64_t rb = RowBytes(i);
    bufs[i].resize(n * rb);
    E2O_RETURN_IF_ERROR(init[i]->Read(first * rb, n * rb, bufs[i].data()));
  }
  return Status::Ok();
}

Result<StoredTier> FindStoredTier(const LoadedModel& model, const Tier& tier, uint64_t rows, uint64_t cols) {
  StoredTier st;
  st.tier = &tier;
  st.file = model.path();
  st.cols = cols;
  for (int i = 0; i < tier.num_streamed; ++i) {
    const StreamedInitializer& si = tier.streamed[i];
    auto it = model.initializers().find(si.name);
    if (it == model.initializers().end())
      return Status::Mismatch(st.file + ": initializer '" + si.name + "' is missing");
    const InitializerData& init = it->second;
    if (init.elem_type != si.elem_type)
      return Status::Mismatch(st.file + ": initializer '" + si.name + "' has the wrong element type");
    // int4: the block size follows from the scales' shape.
    if ((si.shape == RowShape::kBlocks || si.shape == RowShape::kInt4Blocks) && init.dims.size() >= 2 &&
        init.dims.back() > 0 && cols % static_cast<uint64_t>(init.dims.back()) == 0)
      st.params.int4_block = static_cast<uint32_t>(cols / static_cast<uint64_t>(init.dims.back()));
    st.init[i] = &init;
  }
  if (tier.check_params) {
    Status s = tier.check_params(cols, st.params);
    if (!s.ok()) return Status::Mismatch(st.file + ": " + s.message());
  }
  for (int i = 0; i < tier.num_streamed; ++i) {
    std::vector<int64_t> want = {static_cast<int64_t>(rows)};
    for (int64_t k : TierRowDims(tier, i, cols, st.params)) want.push_back(k);
    if (st.init[i]->dims != want)
      return Status::Mismatch(st.file + ": initializer '" + st.init[i]->name +
                              "' does not have the table's shape");
  }
  return st;
}

Status CompareStoredRows(const StoredTier& st, uint64_t first, uint64_t n, const float* source,
                         const uint8_t* const* expected, const uint8_t* const* stored) {
  const Tier& tier = *st.tier;
  uint64_t bad_row = n;
  int bad_init = -1;
  for (int i = 0; i < tier.num_streamed; ++i) {
    const uint64_t rb = st.RowBytes(i);
    if (std::memcmp(expected[i], stored[i], n * rb) == 0) continue;
    for (uint64_t r = 0; r < bad_row; ++r)
      if (std::memcmp(expected[i] + r * rb, stored[i] + r * rb, rb) != 0) {
        bad_row = r;
        bad_init = i;
        break;
      }
  }
  if (bad_init < 0) return Status::Ok();
  std::string msg = fmt::format(
      "{}: tier {}, initializer '{}', row {}: the stored bytes differ from the "
      "encoding of the checkpoint",
      st.file, tier.name, tier.streamed[bad_init].name, first + bad_row);
  if (tier.stats_key && tier.row_bound) {
    // Say also whether the decoded values still respect the bound.
    const uint64_t d = st.cols;
    std::vector<float> dec(d), bound(d);
    const uint8_t* row[kMaxStreamed];
    for (int i = 0; i < tier.num_streamed; ++i) row[i] = stored[i] + bad_row * st.RowBytes(i);
    tier.decode(row, 1, d, st.params, dec.data());
    tier.row_bound(row, d, st.params, bound.data());
    const float* x = source + bad_row * d;
    for (uint64_t j = 0; j < d; ++j)
      if (!(std::fabs(dec[j] - x[j]) <= bound[j])) {
        msg += fmt::format("; column {} decodes to {:.9g}, source {:.9g}, outside the bound {:.3g}", j,
                           dec[j], x[j], bound[j]);
        break;
      }
  }
  return Status::Mismatch(msg);
}

Status VerifySink::Consume(const EncodedChunk& chunk) {
  E2O_RETURN_IF_ERROR(st_.ReadRows(chunk.first, chunk.rows, scratch_));
  const uint8_t* stored[kMaxStreamed];
  for (int i = 0; i < st_.tier->num_streamed; ++i) stored[i] = scratch_[i].data();
  return CompareStoredRows(st_, chunk.first, chunk.rows, chunk.source, chunk.encoded, stored);
}

void ChecksumGroupsPortable(const uint8_t* p, size_t groups, uint64_t* a, uint64_t* b) {
  for (size_t g = 0; g < groups; ++g) {
    uint64_t w[4];
    std::memcpy(w, p + g * 32, 32);  // little-endian hosts only, as the whole tool
    for (size_t j = 0; j < 4; ++j) {
      a[j] += w[j];
      b[j] += a[j];
    }
  }
}

#if defined(__x86_64__)
namespace {
__attribute__((target("avx2"))) void ChecksumGroupsAvx2(const uint8_t* p, size_t groups, uint64_t* a,
                                                        uint64_t* b) {
  __m256i va = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(a));
  __m256i vb = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(b));
  for (size_t g = 0; g < groups; ++g) {
    va = _mm256_add_epi64(va, _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p + g * 32)));
    vb = _mm256_add_epi64(vb, va);
  }
  _mm256_storeu_si256(reinterpret_cast<__m256i*>(a), va);
  _mm256_storeu_si256(reinterpret_cast<__m256i*>(b), vb);
}
}  // namespace
#endif

void ChecksumGroups(const uint8_t* p, size_t groups, uint64_t* a, uint64_t* b) {
#if defined(__x86_64__)
  if (HaveAvx2()) return ChecksumGroupsAvx2(p, groups, a, b);
#endif
  ChecksumGroupsPortable(p, groups, a, b);
}

void ByteChecksum::AddGroups(const uint8_t* p, size_t groups) {
  static_assert(kLanes == 4 && kGroup == 32, "ChecksumGroups sums four 64-bit lanes");
  ChecksumGroups(p, groups, a_, b_);
}

void ByteChecksum::Add(const void* data, size_t n) {
  const uint8_t* p = static_cast<const uint8_t*>(data);
  length_ += n;
  if (tail_n_ > 0) {
    const size_t take = std::min(n, kGroup - tail_n_);
    std::memcpy(tail_ + tail_n_, p, take);
    tail_n_ += take;
    p += take;
    n -= take;
    if (tail_n_ < kGroup) return;
    AddGroups(tail_, 1);
    tail_n_ = 0;
  }
  AddGroups(p, n / kGroup);
  tail_n_ = n % kGroup;
  std::memcpy(tail_, p + (n - tail_n_), tail_n_);
}

void ByteChecksum::Append(const ByteChecksum& next) {
  // Per lane, a group adds its word to a and a to b. Over `g` further groups whose own sums
  // from zero are (a', b'), the running b also gains g times the a it started with.
  const uint64_t groups = next.length_ / kGroup;
  for (size_t j = 0; j < kLanes; ++j) {
    b_[j] += next.b_[j] + groups * a_[j];
    a_[j] += next.a_[j];
  }
  length_ += next.length_;
  tail_n_ = next.tail_n_;
  std::memcpy(tail_, next.tail_, next.tail_n_);
}

bool ByteChecksum::operator==(const ByteChecksum& o) const {
  return std::memcmp(a_, o.a_, sizeof a_) == 0 && std::memcmp(b_, o.b_, sizeof b_) == 0 &&
         length_ == o.length_ && tail_n_ == o.tail_n_ && std::memcmp(tail_, o.tail_, tail_n_) == 0;
}

std::string ByteChecksum::ToString() const {
  // The unfinished group counts as if padded with zeros.
  ByteChecksum c = *this;
  if (c.tail_n_ > 0) {
    std::memset(c.tail_ + c.tail_n_, 0, kGroup - c.tail_n_);
    c.AddGroups(c.tail_, 1);
  }
  uint64_t a = 0, b = 0;
  for (size_t j = 0; j < kLanes; ++j) {
    a = a * 0x9e3779b97f4a7c15ull + c.a_[j];
    b = b * 0x9e3779b97f4a7c15ull + c.b_[j];
  }
  return fmt::format("{:016x}{:016x}+{:x}", a, b, length_);
}

Result<ByteChecksum> ChecksumStored(const InitializerData& init, int threads) {
  ByteChecksum sum;
  if (!init.external) {
    sum.Add(init.raw->data(), init.byte_size);
    return sum;
  }
  // Windows of 8 MiB (a whole number of checksum groups): large enough that mapping costs
  // little, small enough to stay out of the peak resident memory; summed on `threads`
  // threads and joined in order. Not MAP_POPULATE: it maps page by page, while the read
  // faults of a plain mapping map the page cache's folios a whole run at a time (1.44 GB
  // of page cache summed in 0.08-0.17 s here, against 0.17-0.27 s populated).
  constexpr uint64_t kWindow = 8ull << 20;
  static_assert(kWindow % ByteChecksum::group_bytes() == 0);
  const uint64_t page = static_cast<uint64_t>(::sysconf(_SC_PAGESIZE));
  const size_t windows = static_cast<size_t>((init.byte_size + kWindow - 1) / kWindow);
  std::vector<ByteChecksum> parts(windows);
  std::vector<Status> errors(windows);
  auto one = [&](size_t w) {
    const uint64_t at = w * kWindow, n = std::min(kWindow, init.byte_size - at);
    const uint64_t start = init.offset + at, map_at = start / page * page, lead = start - map_at;
    void* m = ::mmap(nullptr, lead + n, PROT_READ, MAP_SHARED, init.sidecar_fd, static_cast<off_t>(map_at));
    if (m == MAP_FAILED) {
      errors[w] = ErrnoStatus(init.sidecar_path, "cannot map for reading", errno);
      return;
    }
    parts[w].Add(static_cast<const uint8_t*>(m) + lead, n);
    ::munmap(m, lead + n);
  };
  if (threads > 1 && windows > 1) {
    ThreadPool pool(static_cast<int>(std::min<size_t>(threads, windows)));
    pool.ParallelFor(windows, [&](size_t b, size_t e, int) {
      for (size_t w = b; w < e; ++w) one(w);
    });
  } else {
    for (size_t w = 0; w < windows; ++w) one(w);
  }
  for (size_t w = 0; w < windows; ++w) {
    E2O_RETURN_IF_ERROR(errors[w]);
    sum.Append(parts[w]);
  }
  return sum;
}

}  // namespace embed2onnx
