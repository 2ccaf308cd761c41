#!/usr/bin/env bash
# `cmake --install` (and `make install PREFIX= DESTDIR=`) lays out bin/, the man page, the
# headers, the library, the CMake package and embed2onnx.pc; a separate project then finds
# the package with find_package(embed2onnx), links embed2onnx::embed2onnx, calls
# ExportTable, and the installed CLI verifies what it wrote. The same source also builds
# with nothing but pkg-config.
source "$(dirname "$0")/lib/common.sh"
BUILD="$(dirname "$E2O_BIN")"
ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
PREFIX="$WORK/prefix"

cmake --install "$BUILD" --prefix "$PREFIX" >"$WORK/install.log"
for f in bin/embed2onnx share/man/man1/embed2onnx.1 include/embed2onnx/export.h include/embed2onnx/status.h \
         lib/libembed2onnx.a lib/cmake/embed2onnx/embed2onnxConfig.cmake \
         lib/cmake/embed2onnx/embed2onnxConfigVersion.cmake lib/cmake/embed2onnx/embed2onnxTargets.cmake \
         lib/pkgconfig/embed2onnx.pc; do
  [[ -f "$PREFIX/$f" ]] || { echo "install did not put $f in place" >&2; cat "$WORK/install.log" >&2; exit 1; }
done
# No private header leaks into the installed tree.
if find "$PREFIX/include" -name '*.h' | grep -v '/include/embed2onnx/' | grep -q .; then
  echo "headers outside include/embed2onnx were installed" >&2; exit 1
fi
man -l "$PREFIX/share/man/man1/embed2onnx.1" 2>/dev/null | grep -q "EXIT STATUS" \
  || grep -q '^\.SH EXIT STATUS' "$PREFIX/share/man/man1/embed2onnx.1"

# DESTDIR through the Makefile's install target puts the same tree under DESTDIR/PREFIX.
make -s -C "$ROOT" install BUILD="$BUILD" PREFIX=/opt/e2o DESTDIR="$WORK/stage" >"$WORK/make_install.log"
[[ -x "$WORK/stage/opt/e2o/bin/embed2onnx" ]] || { echo "make install DESTDIR= did not stage bin/embed2onnx" >&2; exit 1; }

"$E2O_GEN" --out "$WORK/ckpt" --vocab 3000 --hidden 64 --seed 5 >/dev/null

# 1. CMake consumer against the installed package; the build tree is not on any path.
cmake -S "$ROOT/tests/consumer" -B "$WORK/consumer" -G Ninja -DCMAKE_BUILD_TYPE=Release \
  -DCMAKE_PREFIX_PATH="$PREFIX" >"$WORK/consumer_configure.log"
cmake --build "$WORK/consumer" >"$WORK/consumer_build.log"
"$WORK/consumer/consumer" "$WORK/ckpt" "$WORK/out" | tee "$WORK/consumer.out"
grep -q '^tier fp16w ' "$WORK/consumer.out" && grep -q '^tier int8 ' "$WORK/consumer.out"
"$PREFIX/bin/embed2onnx" verify "$WORK/out" --model-dir "$WORK/ckpt" >/dev/null

# 2. pkg-config alone, from the staged DESTDIR copy (its .pc is relative to itself).
PKG_CONFIG_PATH="$WORK/stage/opt/e2o/lib/pkgconfig" pkg-config --cflags --libs embed2onnx >"$WORK/pc_flags"
grep -q -- "-I$WORK/stage/opt/e2o/lib/pkgconfig/../../include" "$WORK/pc_flags" \
  || { echo "embed2onnx.pc does not point at its own tree:" >&2; cat "$WORK/pc_flags" >&2; exit 1; }
# shellcheck disable=SC2046
g++ -std=c++20 -o "$WORK/consumer_pc" "$ROOT/tests/consumer/main.cc" $(cat "$WORK/pc_flags")
"$WORK/consumer_pc" "$WORK/ckpt" "$WORK/out_pc" >/dev/null
"$WORK/stage/opt/e2o/bin/embed2onnx" verify "$WORK/out_pc" --model-dir "$WORK/ckpt" >/dev/null
official_check --hidden 64 "$WORK"
echo "install_package: ok"
