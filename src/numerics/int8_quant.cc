#include "numerics/int8_quant.h"

#include <cmath>

namespace embed2onnx {

float Int8RowScale(const float* row, size_t n) {
  float absmax = 0.0f;
  for (size_t j = 0; j < n; ++j) {
    float a = std::fabs(row[j]);
    absmax = a > absmax ? a : absmax;
  }
  if (!(absmax > kInt8AbsmaxFloor)) absmax = kInt8AbsmaxFloor;
  return absmax / 127.0f;
}

void QuantizeRowInt8(const float* row, size_t n, float s, int8_t* q) {
  for (size_t j = 0; j < n; ++j) {
    // nearbyint rounds half to even in the default rounding mode, like np.round.
    float r = std::nearbyint(row[j] / s);
    r = r < -127.0f ? -127.0f : (r > 127.0f ? 127.0f : r);
    q[j] = static_cast<int8_t>(r);
  }
}

}  // namespace embed2onnx
