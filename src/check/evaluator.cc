#include "check/evaluator.h"

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <iterator>
#include <map>
#include <string_view>

#include "numerics/half.h"
#include "onnx/graph_util.h"

namespace embed2onnx {

namespace {
using TP = onnx::TensorProto;

// No tensor the evaluator makes may be larger: a lookup on a handful of ids needs a
// few MB, and a hostile model's shapes must end in a Status, not an allocation of
// whatever they multiply to.
constexpr uint64_t kMaxTensorBytes = 512ull << 20;

std::string DimsText(const std::vector<int64_t>& dims) {
  std::string s = "[";
  for (size_t i = 0; i < dims.size(); ++i) s += (i ? ", " : "") + std::to_string(dims[i]);
  return s + "]";
}

// Elements of `dims`, refused (not wrapped) when a dimension is negative or the
// product, or its size at `elem_bytes` each, passes kMaxTensorBytes.
Result<uint64_t> CheckedCount(const std::vector<int64_t>& dims, uint32_t elem_bytes,
                              const std::string& where) {
  uint64_t n = 1;
  bool over = false;
  for (int64_t d : dims) {
    if (d < 0) return Status::Corruption(where + ": negative dimension " + std::to_string(d));
    over = over || __builtin_mul_overflow(n, static_cast<uint64_t>(d), &n);
  }
  uint64_t bytes = 0;
  if (over || __builtin_mul_overflow(n, uint64_t{elem_bytes}, &bytes) || bytes > kMaxTensorBytes)
    return Status::NotSupported(where + ": a tensor of shape " + DimsText(dims) + " exceeds the verifier's " +
                                std::to_string(kMaxTensorBytes >> 20) + " MiB limit");
  return n;
}

// Product of dims[from, to). REQUIRES: the dims passed CheckedCount (no overflow).
uint64_t Product(const std::vector<int64_t>& dims, size_t from = 0, size_t to = SIZE_MAX) {
  uint64_t p = 1;
  for (size_t i = from; i < dims.size() && i < to; ++i) p *= static_cast<uint64_t>(dims[i]);
  return p;
}

// A tensor of `dims` holding zeros, after CheckedCount.
Result<HostTensor> NewTensor(int32_t elem_type, std::vector<int64_t> dims, const std::string& where) {
  const uint32_t eb = OnnxElemBytes(elem_type);
  if (eb == 0) return Status::NotSupported(where + ": element type " + OnnxElemName(elem_type));
  E2O_ASSIGN_OR_RETURN(uint64_t n, CheckedCount(dims, eb, where));
  HostTensor t;
  t.elem_type = elem_type;
  t.dims = std::move(dims);
  t.data.resize(n * eb);
  return t;
}

float LoadFloat(int32_t t, const uint8_t* p) {
  uint16_t h;
  switch (t) {
    case TP::FLOAT: {
      float f;
      std::memcpy(&f, p, 4);
      return f;
    }
    case TP::FLOAT16:
      std::memcpy(&h, p, 2);
      return HalfToFloat(h);
    case TP::BFLOAT16:
      std::memcpy(&h, p, 2);
      return Bf16ToFloat(h);
    case TP::DOUBLE: {
      double d;
      std::memcpy(&d, p, 8);
      return static_cast<float>(d);
    }
  }
  return 0.0f;
}

int64_t LoadInt(int32_t t, const uint8_t* p) {
  switch (t) {
    case TP::BOOL:
      return *p != 0;
    case TP::INT8:
      return static_cast<int8_t>(*p);
    case TP::UINT8:
      return *p;
    case TP::INT16: {
      int16_t v;
      std::memcpy(&v, p, 2);
      return v;
    }
    case TP::UINT16: {
      uint16_t v;
      std::memcpy(&v, p, 2);
      return v;
    }
    case TP::INT32: {
      int32_t v;
      std::memcpy(&v, p, 4);
      return v;
    }
    case TP::INT64: {
      int64_t v;
      std::memcpy(&v, p, 8);
      return v;
    }
  }
  return 0;
}

void StoreFloat(int32_t t, float f, uint8_t* p) {
  uint16_t h;
  switch (t) {
    case TP::FLOAT:
      std::memcpy(p, &f, 4);
      return;
    case TP::FLOAT16:
      h = FloatToHalf(f);
      std::memcpy(p, &h, 2);
      return;
    case TP::BFLOAT16:
      h = FloatToBf16(f);
      std::memcpy(p, &h, 2);
      return;
    case TP::DOUBLE: {
      double d = f;
      std::memcpy(p, &d, 8);
      return;
    }
  }
}

void StoreInt(int32_t t, int64_t v, uint8_t* p) {
  switch (t) {
    case TP::BOOL:
      *p = v != 0;
      return;
    case TP::INT8:
    case TP::UINT8:
      *p = static_cast<uint8_t>(v);
      return;
    case TP::INT16:
    case TP::UINT16: {
      uint16_t x = static_cast<uint16_t>(v);
      std::memcpy(p, &x, 2);
      return;
    }
    case TP::INT32: {
      int32_t x = static_cast<int32_t>(v);
      std::memcpy(p, &x, 4);
      return;
    }
    case TP::INT64:
      std::memcpy(p, &v, 8);
      return;
  }
}

// ONNX leaves out-of-range float -> integer casts undefined; C++ makes them undefined
// behaviour. A hostile model may ask for one, so they saturate (NaN gives 0).
int64_t FloatToInt64(float f) {
  if (!(f == f)) return 0;
  if (f >= 9.2233720368547758e18f) return INT64_MAX;
  if (f <= -9.2233720368547758e18f) return INT64_MIN;
  return static_cast<int64_t>(f);
}

// Converts n elements from type `from` to type `to`, as ONNX Cast does.
void CastElements(int32_t from, const uint8_t* src, int32_t to, uint8_t* dst, uint64_t n) {
  const uint32_t fb = OnnxElemBytes(from), tb = OnnxElemBytes(to);
  for (uint64_t i = 0; i < n; ++i) {
    const uint8_t* s = src + i * fb;
    uint8_t* d = dst + i * tb;
    if (OnnxIsFloat(to)) {
      StoreFloat(to, OnnxIsFloat(from) ? LoadFloat(from, s) : static_cast<float>(LoadInt(from, s)), d);
    } else if (to == TP::BOOL && OnnxIsFloat(from)) {
      *d = LoadFloat(from, s) != 0.0f;  // NaN is true, as any nonzero value
    } else {
      StoreInt(to, OnnxIsFloat(from) ? FloatToInt64(LoadFloat(from, s)) : LoadInt(from, s), d);
    }
  }
}

// A value flowing through the graph: a tensor in memory, or an initializer still on
// disk with the casts to apply once rows are read.
struct Value {
  bool lazy = false;
  HostTensor t;
  const InitializerData* init = nullptr;
  std::vector<int32_t> casts;
  int32_t elem_type() const { return lazy ? (casts.empty() ? init->elem_type : casts.back()) : t.elem_type; }
  const std::vector<int64_t>& dims() const { return lazy ? init->dims : t.dims; }
};

// Reads `count` elements starting at element `first` of a lazy value, casts applied.
// REQUIRES: the range lies inside the initializer (callers check it against dims).
Status ReadLazy(const Value& v, uint64_t first, uint64_t count, std::vector<uint8_t>* out) {
  int32_t type = v.init->elem_type;
  std::vector<uint8_t> buf(count * OnnxElemBytes(type));
  E2O_RETURN_IF_ERROR(v.init->Read(first * OnnxElemBytes(type), buf.size(), buf.data()));
  for (int32_t to : v.casts) {
    std::vector<uint8_t> next(count * OnnxElemBytes(to));
    CastElements(type, buf.data(), to, next.data(), count);
    buf.swap(next);
    type = to;
  }
  *out = std::move(buf);
  return Status::Ok();
}

Result<HostTensor> Materialize(const Value& v, const std::string& where) {
  if (!v.lazy) return v.t;
  // Bounded by the larger of the stored and the cast element sizes.
  uint32_t widest = OnnxElemBytes(v.init->elem_type);
  for (int32_t to : v.casts) widest = std::max(widest, OnnxElemBytes(to));
  if (!CheckedCount(v.init->dims, widest, where).ok())
    return Status::NotSupported(where + ": needs all of initializer '" + v.init->name +
                                "' in memory; the verifier only reads the rows a Gather selects");
  HostTensor t;
  t.elem_type = v.elem_type();
  t.dims = v.init->dims;
  E2O_RETURN_IF_ERROR(ReadLazy(v, 0, Product(v.init->dims), &t.data));
  return t;
}

int64_t GetIntAttr(const onnx::NodeProto& n, const std::string& name, int64_t def) {
  for (const auto& a : n.attribute())
    if (a.name() == name) return a.i();
  return def;
}
std::string GetStringAttr(const onnx::NodeProto& n, const std::string& name) {
  for (const auto& a : n.attribute())
    if (a.name() == name) return a.s();
  return "";
}

Result<std::vector<int64_t>> IntValues(const HostTensor& t, const std::string& where) {
  if (!OnnxIsInteger(t.elem_type)) return Status::Corruption(where + ": expected an integer tensor");
  std::vector<int64_t> v(t.count());
  for (uint64_t i = 0; i < v.size(); ++i)
    v[i] = LoadInt(t.elem_type, t.data.data() + i * OnnxElemBytes(t.elem_type));
  return v;
}

// What an op sees: its node, where to say an error is, and its inputs, whose count the
// op table has already checked.
struct OpArgs {
  const onnx::NodeProto& node;
  const std::string& where;
  const std::vector<const Value*>& in;
};

Result<Value> TensorValue(Result<HostTensor> t) {
  if (!t.ok()) return t.status();
  Value v;
  v.t = std::move(*t);
  return v;
}

Result<Value> RunGather(const OpArgs& op) {
  const Value& data = *op.in[0];
  const std::string& where = op.where;
  E2O_ASSIGN_OR_RETURN(HostTensor indices, Materialize(*op.in[1], where));
  const std::vector<int64_t>& dims = data.dims();
  const int64_t rank = static_cast<int64_t>(dims.size());
  int64_t axis = GetIntAttr(op.node, "axis", 0);
  if (axis < 0) axis += rank;
  if (rank == 0 || axis < 0 || axis >= rank) return Status::Corruption(where + ": Gather axis out of range");
  E2O_ASSIGN_OR_RETURN(std::vector<int64_t> idx, IntValues(indices, where));
  const int64_t extent = dims[axis];
  for (int64_t& i : idx) {
    if (i < -extent || i >= extent)
      return Status::InvalidArgument(where + ": index " + std::to_string(i) + " is out of range [" +
                                     std::to_string(-extent) + ", " + std::to_string(extent - 1) + "]");
    if (i < 0) i += extent;
  }
  std::vector<int64_t> out_dims(dims.begin(), dims.begin() + axis);
  out_dims.insert(out_dims.end(), indices.dims.begin(), indices.dims.end());
  out_dims.insert(out_dims.end(), dims.begin() + axis + 1, dims.end());
  E2O_ASSIGN_OR_RETURN(HostTensor out, NewTensor(data.elem_type(), std::move(out_dims), where));
  const uint64_t eb = OnnxElemBytes(out.elem_type);
  // The data's own dims passed the reader's checks (lazy) or CheckedCount (in memory).
  const uint64_t inner = Product(dims, axis + 1), outer = Product(dims, 0, axis);
  if (inner == 0) return TensorValue(std::move(out));  // empty rows (their data() may be null)
  if (data.lazy && axis == 0) {
    std::vector<uint8_t> row;
    for (size_t k = 0; k < idx.size(); ++k) {
      E2O_RETURN_IF_ERROR(ReadLazy(data, static_cast<uint64_t>(idx[k]) * inner, inner, &row));
      std::memcpy(out.data.data() + k * inner * eb, row.data(), row.size());
    }
    return TensorValue(std::move(out));
  }
  E2O_ASSIGN_OR_RETURN(HostTensor src, Materialize(data, where));
  uint8_t* o = out.data.data();
  for (uint64_t a = 0; a < outer; ++a)
    for (int64_t i : idx) {
      const uint8_t* s = src.data.data() + ((a * extent + i) * inner) * eb;
      std::memcpy(o, s, inner * eb);
      o += inner * eb;
    }
  return TensorValue(std::move(out));
}

Result<Value> RunCast(const OpArgs& op) {
  const int32_t to = static_cast<int32_t>(GetIntAttr(op.node, "to", 0));
  if (OnnxElemBytes(to) == 0) return Status::NotSupported(op.where + ": cast to " + OnnxElemName(to));
  const Value& in = *op.in[0];
  if (in.lazy) {
    // Applied to the rows a Gather reads, never to the whole initializer.
    Value out = in;
    out.casts.push_back(to);
    return out;
  }
  E2O_ASSIGN_OR_RETURN(HostTensor out, NewTensor(to, in.t.dims, op.where));
  CastElements(in.t.elem_type, in.t.data.data(), to, out.data.data(), in.t.count());
  return TensorValue(std::move(out));
}

Result<Value> RunUnsqueeze(const OpArgs& op) {
  E2O_ASSIGN_OR_RETURN(HostTensor t, Materialize(*op.in[0], op.where));
  E2O_ASSIGN_OR_RETURN(HostTensor arg, Materialize(*op.in[1], op.where));
  E2O_ASSIGN_OR_RETURN(std::vector<int64_t> axes, IntValues(arg, op.where));
  const int64_t rank = static_cast<int64_t>(t.dims.size() + axes.size());
  for (int64_t& a : axes) a = a < 0 ? a + rank : a;
  std::sort(axes.begin(), axes.end());
  if (std::adjacent_find(axes.begin(), axes.end()) != axes.end())
    return Status::Corruption(op.where + ": an axis is given twice");
  for (int64_t a : axes) {
    if (a < 0 || a > static_cast<int64_t>(t.dims.size())) return Status::Corruption(op.where + ": bad axis");
    t.dims.insert(t.dims.begin() + a, 1);
  }
  return TensorValue(std::move(t));
}

Result<Value> RunReshape(const OpArgs& op) {
  E2O_ASSIGN_OR_RETURN(HostTensor t, Materialize(*op.in[0], op.where));
  E2O_ASSIGN_OR_RETURN(HostTensor arg, Materialize(*op.in[1], op.where));
  E2O_ASSIGN_OR_RETURN(std::vector<int64_t> shape, IntValues(arg, op.where));
  const uint64_t count = t.count();
  uint64_t known = 1;
  int64_t infer = -1;
  for (size_t i = 0; i < shape.size(); ++i) {
    if (shape[i] == 0 && i < t.dims.size()) shape[i] = t.dims[i];  // 0 keeps the input's dimension
    if (shape[i] == -1) {
      if (infer >= 0) return Status::Corruption(op.where + ": more than one -1 in the shape");
      infer = static_cast<int64_t>(i);
    } else if (shape[i] < 0 || __builtin_mul_overflow(known, static_cast<uint64_t>(shape[i]), &known)) {
      return Status::Corruption(op.where + ": shape " + DimsText(shape) + " is not a valid target");
    }
  }
  if (infer >= 0) {
    if (known == 0 || count % known != 0)
      return Status::Corruption(op.where + ": shape " + DimsText(shape) + " does not divide " +
                                std::to_string(count) + " elements");
    shape[infer] = static_cast<int64_t>(count / known);
    known = count;
  }
  if (known != count)
    return Status::Corruption(op.where + ": shape " + DimsText(shape) + " does not match element count " +
                              std::to_string(count));
  t.dims = std::move(shape);
  return TensorValue(std::move(t));
}

// numpy-style broadcasting of an elementwise binary op.
template <typename Op>
Result<HostTensor> Broadcast(const HostTensor& a, const HostTensor& b, const std::string& where, Op op) {
  if (a.elem_type != b.elem_type) return Status::Corruption(where + ": operand types differ");
  size_t rank = std::max(a.dims.size(), b.dims.size());
  std::vector<int64_t> da(rank, 1), db(rank, 1), dout(rank);
  std::copy(a.dims.begin(), a.dims.end(), da.begin() + (rank - a.dims.size()));
  std::copy(b.dims.begin(), b.dims.end(), db.begin() + (rank - b.dims.size()));
  for (size_t i = 0; i < rank; ++i) {
    if (da[i] != db[i] && da[i] != 1 && db[i] != 1)
      return Status::Corruption(where + ": shapes do not broadcast");
    dout[i] = da[i] == 1 ? db[i] : da[i];
  }
  E2O_ASSIGN_OR_RETURN(HostTensor out, NewTensor(a.elem_type, dout, where));
  const uint32_t eb = OnnxElemBytes(a.elem_type);
  const uint64_t n = out.count();
  std::vector<int64_t> pos(rank, 0);
  for (uint64_t i = 0; i < n; ++i) {
    uint64_t ia = 0, ib = 0;
    for (size_t k = 0; k < rank; ++k) {
      ia = ia * da[k] + (da[k] == 1 ? 0 : pos[k]);
      ib = ib * db[k] + (db[k] == 1 ? 0 : pos[k]);
    }
    op(a.data.data() + ia * eb, b.data.data() + ib * eb, out.data.data() + i * eb);
    for (size_t k = rank; k-- > 0;) {
      if (++pos[k] < dout[k]) break;
      pos[k] = 0;
    }
  }
  return out;
}

enum class Arith { kMul, kAdd, kSub };

// Mul, Add, Sub on floats (in float32, as ONNX Runtime does for FLOAT) or integers.
template <Arith kOp>
Result<Value> RunArithmetic(const OpArgs& op) {
  E2O_ASSIGN_OR_RETURN(HostTensor a, Materialize(*op.in[0], op.where));
  E2O_ASSIGN_OR_RETURN(HostTensor b, Materialize(*op.in[1], op.where));
  const int32_t t = a.elem_type;
  if (OnnxIsFloat(t)) {
    return TensorValue(Broadcast(a, b, op.where, [t](const uint8_t* x, const uint8_t* y, uint8_t* z) {
      const float fx = LoadFloat(t, x), fy = LoadFloat(t, y);
      StoreFloat(t, kOp == Arith::kMul ? fx * fy : kOp == Arith::kAdd ? fx + fy : fx - fy, z);
    }));
  }
  if (!OnnxIsInteger(t)) return Status::NotSupported(op.where + ": element type " + OnnxElemName(t));
  return TensorValue(Broadcast(a, b, op.where, [t](const uint8_t* x, const uint8_t* y, uint8_t* z) {
    // In uint64_t: wraps as the stored type does, without signed overflow.
    const uint64_t ix = static_cast<uint64_t>(LoadInt(t, x)), iy = static_cast<uint64_t>(LoadInt(t, y));
    StoreInt(t,
             static_cast<int64_t>(kOp == Arith::kMul   ? ix * iy
                                  : kOp == Arith::kAdd ? ix + iy
                                                       : ix - iy),
             z);
  }));
}

Result<Value> RunBitwiseAnd(const OpArgs& op) {
  E2O_ASSIGN_OR_RETURN(HostTensor a, Materialize(*op.in[0], op.where));
  E2O_ASSIGN_OR_RETURN(HostTensor b, Materialize(*op.in[1], op.where));
  const int32_t t = a.elem_type;
  if (!OnnxIsInteger(t)) return Status::Corruption(op.where + ": BitwiseAnd needs integer operands");
  return TensorValue(Broadcast(a, b, op.where, [t](const uint8_t* x, const uint8_t* y, uint8_t* z) {
    StoreInt(t, LoadInt(t, x) & LoadInt(t, y), z);
  }));
}

Result<Value> RunBitShift(const OpArgs& op) {
  E2O_ASSIGN_OR_RETURN(HostTensor a, Materialize(*op.in[0], op.where));
  E2O_ASSIGN_OR_RETURN(HostTensor b, Materialize(*op.in[1], op.where));
  const int32_t t = a.elem_type;
  if (!OnnxIsInteger(t)) return Status::Corruption(op.where + ": BitShift needs integer operands");
  const bool right = GetStringAttr(op.node, "direction") == "RIGHT";
  const uint32_t bits = OnnxElemBytes(t) * 8;
  return TensorValue(
      Broadcast(a, b, op.where, [t, right, bits](const uint8_t* x, const uint8_t* y, uint8_t* z) {
        uint64_t v = static_cast<uint64_t>(LoadInt(t, x)), s = static_cast<uint64_t>(LoadInt(t, y));
        StoreInt(t, s >= bits ? 0 : static_cast<int64_t>(right ? v >> s : v << s), z);
      }));
}

Result<Value> RunConcat(const OpArgs& op) {
  std::vector<HostTensor> parts;
  for (const Value* v : op.in) {
    E2O_ASSIGN_OR_RETURN(HostTensor t, Materialize(*v, op.where));
    parts.push_back(std::move(t));
  }
  const std::vector<int64_t>& d0 = parts[0].dims;
  const int64_t rank = static_cast<int64_t>(d0.size());
  int64_t axis = GetIntAttr(op.node, "axis", 0);
  if (axis < 0) axis += rank;
  if (axis < 0 || axis >= rank) return Status::Corruption(op.where + ": Concat axis out of range");
  std::vector<int64_t> out_dims = d0;
  out_dims[axis] = 0;
  for (const HostTensor& p : parts) {
    bool same = p.elem_type == parts[0].elem_type && p.dims.size() == d0.size();
    for (int64_t i = 0; same && i < rank; ++i) same = i == axis || p.dims[i] == d0[i];
    if (!same) return Status::Corruption(op.where + ": Concat inputs differ in type or shape");
    if (__builtin_add_overflow(out_dims[axis], p.dims[axis], &out_dims[axis]))
      return Status::Corruption(op.where + ": Concat's joined dimension overflows");
  }
  E2O_ASSIGN_OR_RETURN(HostTensor out, NewTensor(parts[0].elem_type, std::move(out_dims), op.where));
  const uint64_t eb = OnnxElemBytes(out.elem_type);
  const uint64_t outer = Product(d0, 0, axis);
  uint8_t* o = out.data.data();
  for (uint64_t a = 0; a < outer; ++a)
    for (const HostTensor& p : parts) {
      const uint64_t chunk = Product(p.dims, axis) * eb;
      if (chunk == 0) continue;  // an empty part (its data() may be null)
      std::memcpy(o, p.data.data() + a * chunk, chunk);
      o += chunk;
    }
  return TensorValue(std::move(out));
}

// The shape all of `ts` broadcast to (numpy rules), or a Corruption.
Result<std::vector<int64_t>> BroadcastDims(const std::vector<const HostTensor*>& ts,
                                           const std::string& where) {
  size_t rank = 0;
  for (const HostTensor* t : ts) rank = std::max(rank, t->dims.size());
  std::vector<int64_t> out(rank, 1);
  for (const HostTensor* t : ts)
    for (size_t i = 0; i < t->dims.size(); ++i) {
      int64_t& o = out[rank - t->dims.size() + i];
      const int64_t d = t->dims[i];
      if (d != o && d != 1 && o != 1) return Status::Corruption(where + ": shapes do not broadcast");
      if (o == 1) o = d;
    }
  return out;
}

// Element index into `t` of each position of the broadcast shape `out`, in row-major order.
std::vector<uint64_t> BroadcastIndex(const HostTensor& t, const std::vector<int64_t>& out) {
  const size_t rank = out.size();
  std::vector<int64_t> d(rank, 1);
  std::copy(t.dims.begin(), t.dims.end(), d.begin() + (rank - t.dims.size()));
  const uint64_t n = Product(out);
  std::vector<uint64_t> idx(n);
  std::vector<int64_t> pos(rank, 0);
  for (uint64_t i = 0; i < n; ++i) {
    uint64_t k = 0;
    for (size_t a = 0; a < rank; ++a) k = k * d[a] + (d[a] == 1 ? 0 : pos[a]);
    idx[i] = k;
    for (size_t a = rank; a-- > 0;) {
      if (++pos[a] < out[a]) break;
      pos[a] = 0;
    }
  }
  return idx;
}

// Equal on integers, BOOL or floats (IEEE: NaN equals nothing, -0.0 equals +0.0); BOOL out.
Result<Value> RunEqual(const OpArgs& op) {
  E2O_ASSIGN_OR_RETURN(HostTensor a, Materialize(*op.in[0], op.where));
  E2O_ASSIGN_OR_RETURN(HostTensor b, Materialize(*op.in[1], op.where));
  if (a.elem_type != b.elem_type) return Status::Corruption(op.where + ": operand types differ");
  const int32_t t = a.elem_type;
  const uint32_t eb = OnnxElemBytes(t);
  if (eb == 0) return Status::NotSupported(op.where + ": element type " + OnnxElemName(t));
  E2O_ASSIGN_OR_RETURN(std::vector<int64_t> dims, BroadcastDims({&a, &b}, op.where));
  E2O_ASSIGN_OR_RETURN(HostTensor out, NewTensor(TP::BOOL, dims, op.where));
  const std::vector<uint64_t> ia = BroadcastIndex(a, dims), ib = BroadcastIndex(b, dims);
  for (uint64_t i = 0; i < out.data.size(); ++i) {
    const uint8_t *x = a.data.data() + ia[i] * eb, *y = b.data.data() + ib[i] * eb;
    out.data[i] = OnnxIsFloat(t) ? LoadFloat(t, x) == LoadFloat(t, y) : LoadInt(t, x) == LoadInt(t, y);
  }
  return TensorValue(std::move(out));
}

// Where(cond, x, y): copies the chosen element's bytes, so a float keeps its bits (-0.0
// included; ONNX Runtime's float Where does not, which is why the splice selects ids).
Result<Value> RunWhere(const OpArgs& op) {
  E2O_ASSIGN_OR_RETURN(HostTensor c, Materialize(*op.in[0], op.where));
  E2O_ASSIGN_OR_RETURN(HostTensor x, Materialize(*op.in[1], op.where));
  E2O_ASSIGN_OR_RETURN(HostTensor y, Materialize(*op.in[2], op.where));
  if (c.elem_type != TP::BOOL) return Status::Corruption(op.where + ": Where's condition must be BOOL");
  if (x.elem_type != y.elem_type) return Status::Corruption(op.where + ": operand types differ");
  E2O_ASSIGN_OR_RETURN(std::vector<int64_t> dims, BroadcastDims({&c, &x, &y}, op.where));
  E2O_ASSIGN_OR_RETURN(HostTensor out, NewTensor(x.elem_type, dims, op.where));
  const uint32_t eb = OnnxElemBytes(x.elem_type);
  const std::vector<uint64_t> ic = BroadcastIndex(c, dims), ix = BroadcastIndex(x, dims),
                              iy = BroadcastIndex(y, dims);
  for (uint64_t i = 0; i < ic.size(); ++i)
    std::memcpy(out.data.data() + i * eb,
                c.data[ic[i]] ? x.data.data() + ix[i] * eb : y.data.data() + iy[i] * eb, eb);
  return TensorValue(std::move(out));
}

// Shape, with opset 15's start and end (negative counts from the back, both clamped).
Result<Value> RunShape(const OpArgs& op) {
  const std::vector<int64_t>& dims = op.in[0]->dims();
  const int64_t rank = static_cast<int64_t>(dims.size());
  auto clamp = [rank](int64_t v) { return std::clamp(v < 0 ? v + rank : v, int64_t{0}, rank); };
  const int64_t start = clamp(GetIntAttr(op.node, "start", 0)), end = clamp(GetIntAttr(op.node, "end", rank));
  std::vector<int64_t> v;
  for (int64_t i = start; i < end; ++i) v.push_back(dims[i]);
  HostTensor out;
  out.elem_type = TP::INT64;
  out.dims = {static_cast<int64_t>(v.size())};
  out.data.resize(v.size() * 8);
  if (!v.empty()) std::memcpy(out.data.data(), v.data(), out.data.size());
  return TensorValue(std::move(out));
}

// Squeeze: the listed axes (each of size 1), or every axis of size 1 when none is given.
Result<Value> RunSqueeze(const OpArgs& op) {
  E2O_ASSIGN_OR_RETURN(HostTensor t, Materialize(*op.in[0], op.where));
  const int64_t rank = static_cast<int64_t>(t.dims.size());
  std::vector<bool> drop(rank, false);
  if (op.in.size() > 1) {
    E2O_ASSIGN_OR_RETURN(HostTensor axes_t, Materialize(*op.in[1], op.where));
    E2O_ASSIGN_OR_RETURN(std::vector<int64_t> axes, IntValues(axes_t, op.where));
    for (int64_t a : axes) {
      const int64_t k = a < 0 ? a + rank : a;
      if (k < 0 || k >= rank || drop[k] || t.dims[k] != 1)
        return Status::Corruption(op.where + ": cannot squeeze axis " + std::to_string(a) + " of " +
                                  DimsText(t.dims));
      drop[k] = true;
    }
  } else {
    for (int64_t k = 0; k < rank; ++k) drop[k] = t.dims[k] == 1;
  }
  std::vector<int64_t> dims;
  for (int64_t k = 0; k < rank; ++k)
    if (!drop[k]) dims.push_back(t.dims[k]);
  t.dims = std::move(dims);
  return TensorValue(std::move(t));
}

// Range(start, limit, delta) on integer scalars: max(ceil((limit - start) / delta), 0) values.
Result<Value> RunRange(const OpArgs& op) {
  int64_t v[3];
  int32_t type = 0;
  for (int i = 0; i < 3; ++i) {
    E2O_ASSIGN_OR_RETURN(HostTensor t, Materialize(*op.in[i], op.where));
    if (!OnnxIsInteger(t.elem_type) || t.count() != 1 || !t.dims.empty())
      return Status::NotSupported(op.where + ": Range takes integer scalars here");
    if (i > 0 && t.elem_type != type) return Status::Corruption(op.where + ": operand types differ");
    type = t.elem_type;
    v[i] = LoadInt(type, t.data.data());
  }
  if (v[2] == 0) return Status::Corruption(op.where + ": Range's delta is 0");
  // In __int128: limit - start cannot overflow.
  const __int128 span = static_cast<__int128>(v[1]) - v[0];
  __int128 count = span / v[2] + ((span % v[2]) != 0 && ((span < 0) == (v[2] < 0)));
  if (count < 0) count = 0;
  if (count > INT64_MAX) count = INT64_MAX;  // refused by NewTensor's cap
  E2O_ASSIGN_OR_RETURN(HostTensor out, NewTensor(type, {static_cast<int64_t>(count)}, op.where));
  const uint32_t eb = OnnxElemBytes(type);
  for (int64_t i = 0; i < static_cast<int64_t>(count); ++i)
    StoreInt(type, static_cast<int64_t>(static_cast<uint64_t>(v[0]) + static_cast<uint64_t>(i * v[2])),
             out.data.data() + i * eb);
  return TensorValue(std::move(out));
}

// NonZero: the coordinates of the nonzero elements, [rank, count], in row-major order
// (NaN counts as nonzero, -0.0 as zero).
Result<Value> RunNonZero(const OpArgs& op) {
  E2O_ASSIGN_OR_RETURN(HostTensor t, Materialize(*op.in[0], op.where));
  const int32_t type = t.elem_type;
  if (!OnnxIsFloat(type) && !OnnxIsInteger(type) && type != TP::BOOL)
    return Status::NotSupported(op.where + ": element type " + OnnxElemName(type));
  const int64_t rank = static_cast<int64_t>(t.dims.size());
  if (rank == 0) return Status::NotSupported(op.where + ": NonZero of a scalar");
  const uint32_t eb = OnnxElemBytes(type);
  std::vector<uint64_t> hits;
  for (uint64_t i = 0; i < t.count(); ++i) {
    const uint8_t* p = t.data.data() + i * eb;
    if (OnnxIsFloat(type) ? LoadFloat(type, p) != 0.0f : LoadInt(type, p) != 0) hits.push_back(i);
  }
  const int64_t k = static_cast<int64_t>(hits.size());
  E2O_ASSIGN_OR_RETURN(HostTensor out, NewTensor(TP::INT64, {rank, k}, op.where));
  for (int64_t j = 0; j < k; ++j) {
    uint64_t flat = hits[j];
    for (int64_t a = rank; a-- > 0;) {
      const int64_t coord = static_cast<int64_t>(flat % static_cast<uint64_t>(t.dims[a]));
      flat /= static_cast<uint64_t>(t.dims[a]);
      std::memcpy(out.data.data() + (a * k + j) * 8, &coord, 8);
    }
  }
  return TensorValue(std::move(out));
}

// Transpose by `perm` (default: the axes reversed); the elements' bytes are moved as they are.
Result<Value> RunTranspose(const OpArgs& op) {
  E2O_ASSIGN_OR_RETURN(HostTensor t, Materialize(*op.in[0], op.where));
  const size_t rank = t.dims.size();
  std::vector<int64_t> perm;
  bool given = false;
  for (const auto& a : op.node.attribute())
    if (a.name() == "perm") {
      given = true;
      perm.assign(a.ints().begin(), a.ints().end());
    }
  if (!given)
    for (size_t i = rank; i-- > 0;) perm.push_back(static_cast<int64_t>(i));
  std::vector<bool> seen(rank, false);
  bool valid = perm.size() == rank;
  for (size_t i = 0; valid && i < rank; ++i) {
    valid = perm[i] >= 0 && perm[i] < static_cast<int64_t>(rank) && !seen[perm[i]];
    if (valid) seen[perm[i]] = true;
  }
  if (!valid) return Status::Corruption(op.where + ": perm is not a permutation of " + DimsText(t.dims));
  std::vector<int64_t> out_dims(rank);
  for (size_t i = 0; i < rank; ++i) out_dims[i] = t.dims[perm[i]];
  E2O_ASSIGN_OR_RETURN(HostTensor out, NewTensor(t.elem_type, out_dims, op.where));
  const uint32_t eb = OnnxElemBytes(t.elem_type);
  // Stride in the input of each output axis.
  std::vector<uint64_t> in_stride(rank, 1), stride(rank);
  for (size_t a = rank; a-- > 1;) in_stride[a - 1] = in_stride[a] * static_cast<uint64_t>(t.dims[a]);
  for (size_t i = 0; i < rank; ++i) stride[i] = in_stride[perm[i]];
  std::vector<int64_t> pos(rank, 0);
  for (uint64_t i = 0; i < out.count(); ++i) {
    uint64_t src = 0;
    for (size_t a = 0; a < rank; ++a) src += static_cast<uint64_t>(pos[a]) * stride[a];
    std::memcpy(out.data.data() + i * eb, t.data.data() + src * eb, eb);
    for (size_t a = rank; a-- > 0;) {
      if (++pos[a] < out_dims[a]) break;
      pos[a] = 0;
    }
  }
  return TensorValue(std::move(out));
}

// ScatterND without reduction: a copy of data with the slices `indices` names replaced by
// those of updates, bytes as they are. updates must have shape
// indices.shape[:-1] + data.shape[indices.shape[-1]:], as ONNX Runtime requires; an index
// outside [-s, s - 1] or named twice (undefined in ONNX) is refused.
Result<Value> RunScatterND(const OpArgs& op) {
  const std::string reduction = GetStringAttr(op.node, "reduction");
  if (!reduction.empty() && reduction != "none")
    return Status::NotSupported(op.where + ": reduction '" + reduction + "'");
  E2O_ASSIGN_OR_RETURN(HostTensor data, Materialize(*op.in[0], op.where));
  E2O_ASSIGN_OR_RETURN(HostTensor indices, Materialize(*op.in[1], op.where));
  E2O_ASSIGN_OR_RETURN(HostTensor updates, Materialize(*op.in[2], op.where));
  if (indices.elem_type != TP::INT64) return Status::Corruption(op.where + ": indices must be INT64");
  if (updates.elem_type != data.elem_type) return Status::Corruption(op.where + ": operand types differ");
  if (indices.dims.empty()) return Status::Corruption(op.where + ": indices is a scalar");
  const size_t k = static_cast<size_t>(indices.dims.back());
  if (k < 1 || k > data.dims.size())
    return Status::Corruption(op.where + ": indices.shape[-1] = " + std::to_string(k) + " for data of rank " +
                              std::to_string(data.dims.size()));
  std::vector<int64_t> want(indices.dims.begin(), indices.dims.end() - 1);
  want.insert(want.end(), data.dims.begin() + static_cast<std::ptrdiff_t>(k), data.dims.end());
  if (updates.dims != want)
    return Status::InvalidArgument(op.where + ": updates of shape " + DimsText(updates.dims) + ", not " +
                                   DimsText(want) + " (indices " + DimsText(indices.dims) + ", data " +
                                   DimsText(data.dims) + ")");
  E2O_ASSIGN_OR_RETURN(std::vector<int64_t> idx, IntValues(indices, op.where));
  const uint64_t slice = Product(data.dims, k) * OnnxElemBytes(data.elem_type);
  const uint64_t tuples = Product(indices.dims, 0, indices.dims.size() - 1);
  std::vector<bool> written(Product(data.dims, 0, k), false);
  for (uint64_t j = 0; j < tuples; ++j) {
    uint64_t at = 0;
    for (size_t a = 0; a < k; ++a) {
      int64_t i = idx[j * k + a];
      const int64_t s = data.dims[a];
      if (i < -s || i >= s)
        return Status::InvalidArgument(op.where + ": index " + std::to_string(i) + " is out of range [" +
                                       std::to_string(-s) + ", " + std::to_string(s - 1) + "]");
      if (i < 0) i += s;
      at = at * static_cast<uint64_t>(s) + static_cast<uint64_t>(i);
    }
    if (written[at]) return Status::Corruption(op.where + ": indices name one slice twice");
    written[at] = true;
    std::memcpy(data.data.data() + at * slice, updates.data.data() + j * slice, slice);
  }
  return TensorValue(std::move(data));
}

// The operators the evaluator runs (opset 20 semantics), with how many inputs each
// takes. A node whose op is not here, or whose input count is outside its row's
// range, is refused before it runs.
struct OpRow {
  std::string_view name;
  int min_inputs = 0;
  int max_inputs = 0;
  Result<Value> (*run)(const OpArgs&) = nullptr;
};

constexpr int kAnyNumber = 1 << 30;

constexpr OpRow kOps[] = {
    {.name = "Gather", .min_inputs = 2, .max_inputs = 2, .run = RunGather},
    {.name = "Cast", .min_inputs = 1, .max_inputs = 1, .run = RunCast},
    {.name = "Unsqueeze", .min_inputs = 2, .max_inputs = 2, .run = RunUnsqueeze},
    {.name = "Reshape", .min_inputs = 2, .max_inputs = 2, .run = RunReshape},
    {.name = "Concat", .min_inputs = 1, .max_inputs = kAnyNumber, .run = RunConcat},
    {.name = "Mul", .min_inputs = 2, .max_inputs = 2, .run = RunArithmetic<Arith::kMul>},
    {.name = "Add", .min_inputs = 2, .max_inputs = 2, .run = RunArithmetic<Arith::kAdd>},
    {.name = "Sub", .min_inputs = 2, .max_inputs = 2, .run = RunArithmetic<Arith::kSub>},
    {.name = "BitShift", .min_inputs = 2, .max_inputs = 2, .run = RunBitShift},
    {.name = "BitwiseAnd", .min_inputs = 2, .max_inputs = 2, .run = RunBitwiseAnd},
    // Splice graphs (onnx/splice_graph.h): Equal, Where, NonZero, Transpose, ScatterND; Shape,
    // Squeeze and Range for the splice checks' tests of broken graphs.
    {.name = "Equal", .min_inputs = 2, .max_inputs = 2, .run = RunEqual},
    {.name = "Where", .min_inputs = 3, .max_inputs = 3, .run = RunWhere},
    {.name = "Shape", .min_inputs = 1, .max_inputs = 1, .run = RunShape},
    {.name = "Squeeze", .min_inputs = 1, .max_inputs = 2, .run = RunSqueeze},
    {.name = "Range", .min_inputs = 3, .max_inputs = 3, .run = RunRange},
    {.name = "NonZero", .min_inputs = 1, .max_inputs = 1, .run = RunNonZero},
    {.name = "Transpose", .min_inputs = 1, .max_inputs = 1, .run = RunTranspose},
    {.name = "ScatterND", .min_inputs = 3, .max_inputs = 3, .run = RunScatterND},
};

const OpRow* FindOp(const std::string& name) {
  for (const OpRow& r : kOps)
    if (r.name == name) return &r;
  return nullptr;
}

std::string ArityText(const OpRow& r) {
  if (r.min_inputs == r.max_inputs) return std::to_string(r.min_inputs);
  if (r.max_inputs == kAnyNumber) return "at least " + std::to_string(r.min_inputs);
  return std::to_string(r.min_inputs) + " to " + std::to_string(r.max_inputs);
}
}  // namespace

uint64_t HostTensor::count() const { return Product(dims); }

HostTensor MakeIdsTensor(const std::vector<int64_t>& ids, int64_t rows, int64_t cols) {
  HostTensor t;
  t.elem_type = TP::INT64;
  t.dims = {rows, cols};
  t.data.resize(ids.size() * 8);
  if (!ids.empty()) std::memcpy(t.data.data(), ids.data(), t.data.size());
  return t;
}

Result<HostTensor> EvaluateLookup(const LoadedModel& model, const HostTensor& input_ids) {
  if (input_ids.elem_type != TP::INT64)
    return Status::InvalidArgument(model.path() + ": input_ids must be INT64");
  return EvaluateGraph(model, {input_ids});
}

Result<HostTensor> EvaluateGraph(const LoadedModel& model, const std::vector<HostTensor>& inputs) {
  const onnx::GraphProto& g = model.proto().graph();
  const std::string& path = model.path();
  if (g.input_size() < 1) return Status::Corruption(path + ": graph has no input");
  if (static_cast<size_t>(g.input_size()) != inputs.size())
    return Status::InvalidArgument(path + ": the graph takes " + std::to_string(g.input_size()) +
                                   " inputs, given " + std::to_string(inputs.size()));
  std::map<std::string, Value> values;
  for (const auto& [name, init] : model.initializers()) {
    Value v;
    v.lazy = true;
    v.init = &init;
    values[name] = v;
  }
  for (size_t i = 0; i < inputs.size(); ++i) {
    const HostTensor& in = inputs[i];
    const std::string& name = g.input(static_cast<int>(i)).name();
    const std::string where = path + ": " + name;
    if (in.elem_type != g.input(static_cast<int>(i)).type().tensor_type().elem_type())
      return Status::InvalidArgument(
          where + " must be " + OnnxElemName(g.input(static_cast<int>(i)).type().tensor_type().elem_type()));
    const uint32_t eb = OnnxElemBytes(in.elem_type);
    if (eb == 0) return Status::NotSupported(where + ": element type " + OnnxElemName(in.elem_type));
    E2O_ASSIGN_OR_RETURN(uint64_t count, CheckedCount(in.dims, eb, where));
    if (count * eb != in.data.size())
      return Status::InvalidArgument(where + " holds " + std::to_string(in.data.size()) + " bytes, not the " +
                                     std::to_string(count * eb) + " its shape needs");
    values[name].lazy = false;
    values[name].t = in;
  }

  for (const onnx::NodeProto& node : g.node()) {
    const std::string where = path + ": node '" + node.name() + "' (" + node.op_type() + ")";
    if (!node.domain().empty() && node.domain() != "ai.onnx")
      return Status::NotSupported(where + ": domain '" + node.domain() + "' is not ai.onnx");
    const OpRow* row = FindOp(node.op_type());
    if (!row) return Status::NotSupported(where + ": op not supported by the verifier");
    if (node.input_size() < row->min_inputs || node.input_size() > row->max_inputs)
      return Status::Corruption(where + ": " + std::to_string(node.input_size()) + " inputs, " +
                                std::string(row->name) + " takes " + ArityText(*row));
    if (node.output_size() != 1) return Status::NotSupported(where + ": expected one output");
    std::vector<const Value*> in;
    for (const std::string& name : node.input()) {
      auto it = values.find(name);
      if (it == values.end())
        return Status::Corruption(where + ": input '" + name + "' is not defined before use");
      in.push_back(&it->second);
    }
    E2O_ASSIGN_OR_RETURN(Value out, row->run(OpArgs{node, where, in}));
    values[node.output(0)] = std::move(out);
  }
  if (g.output_size() != 1) return Status::Corruption(path + ": graph must have exactly one output");
  auto it = values.find(g.output(0).name());
  if (it == values.end())
    return Status::Corruption(path + ": output '" + g.output(0).name() + "' is never produced");
  return Materialize(it->second, path);
}

}  // namespace embed2onnx
