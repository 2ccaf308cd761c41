// The dtype table: every element type a safetensors header may name, one row each,
// indexed by DType (include/embed2onnx/checkpoint.h). The header parser takes names
// and sizes from it, the table reader which dtypes a table may have, the decoder how
// each widens to float32, and the report its name, so adding a dtype is one row (and,
// for a new table dtype, its Widening in numerics/decode.cc).
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "embed2onnx/checkpoint.h"

namespace embed2onnx {

// How a table dtype's elements become float32, exactly (each such type is a subset
// of float32). numerics/decode implements each; the header parser needs none of them.
enum class Widening { kNone, kBf16, kF16, kF32 };

struct DTypeRow {
  DType type = DType::kCount;
  std::string_view name;  // as safetensors headers spell it: "BF16"
  uint32_t bytes = 0;     // per element
  // Tables: whether an embedding table may be stored in this type, and then how its
  // elements widen to float32.
  bool table = false;
  Widening widen = Widening::kNone;
};

inline constexpr DTypeRow kDTypes[] = {
    {.type = DType::kBool, .name = "BOOL", .bytes = 1},
    {.type = DType::kU8, .name = "U8", .bytes = 1},
    {.type = DType::kI8, .name = "I8", .bytes = 1},
    {.type = DType::kF8E4M3, .name = "F8_E4M3", .bytes = 1},
    {.type = DType::kF8E5M2, .name = "F8_E5M2", .bytes = 1},
    {.type = DType::kF8E8M0, .name = "F8_E8M0", .bytes = 1},
    {.type = DType::kI16, .name = "I16", .bytes = 2},
    {.type = DType::kU16, .name = "U16", .bytes = 2},
    {.type = DType::kBF16, .name = "BF16", .bytes = 2, .table = true, .widen = Widening::kBf16},
    {.type = DType::kF16, .name = "F16", .bytes = 2, .table = true, .widen = Widening::kF16},
    {.type = DType::kI32, .name = "I32", .bytes = 4},
    {.type = DType::kU32, .name = "U32", .bytes = 4},
    {.type = DType::kF32, .name = "F32", .bytes = 4, .table = true, .widen = Widening::kF32},
    {.type = DType::kI64, .name = "I64", .bytes = 8},
    {.type = DType::kU64, .name = "U64", .bytes = 8},
    {.type = DType::kF64, .name = "F64", .bytes = 8},
};
static_assert(std::size(kDTypes) == static_cast<size_t>(DType::kCount),
              "one row per DType: add the row with the enum value");

namespace dtype_internal {
constexpr bool RowsMatchTheEnum() {
  for (size_t i = 0; i < std::size(kDTypes); ++i) {
    const DTypeRow& r = kDTypes[i];
    if (static_cast<size_t>(r.type) != i || r.name.empty() || r.bytes == 0) return false;
    if (r.table != (r.widen != Widening::kNone)) return false;
  }
  return true;
}
}  // namespace dtype_internal
static_assert(dtype_internal::RowsMatchTheEnum(),
              "rows in enum order, each named and sized; table dtypes exactly those with a widening");

// REQUIRES: t != DType::kCount.
constexpr const DTypeRow& DTypeOf(DType t) { return kDTypes[static_cast<size_t>(t)]; }
constexpr std::string_view DTypeName(DType t) { return DTypeOf(t).name; }

// The dtype a header names ("BF16"); nullopt when the name is unknown.
constexpr std::optional<DType> DTypeFromName(std::string_view name) {
  for (const DTypeRow& r : kDTypes)
    if (r.name == name) return r.type;
  return std::nullopt;
}
static_assert(DTypeFromName("BF16") == DType::kBF16 && !DTypeFromName("F4"));

// "BF16, F16 or F32": the dtypes a table may have, for messages.
std::string TableDTypeList();

}  // namespace embed2onnx
