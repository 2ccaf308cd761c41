#!/usr/bin/env bash
# Every C++ source of the tree (.cc, .h, and the .inc sources included twice) is as
# .clang-format wants it (clang-format from the Makefile's Debian packages):
# `clang-format -i` on the files it names fixes them.
set -euo pipefail
cd "$(dirname "$0")/.."
command -v clang-format >/dev/null || { echo "clang-format is not installed: run 'make apt-deps'" >&2; exit 1; }
mapfile -t files < <(git ls-files '*.cc' '*.h' '*.inc' 2>/dev/null || find src include tools fuzz bench tests -name '*.cc' -o -name '*.h' -o -name '*.inc')
[ "${#files[@]}" -gt 0 ] || { echo "no C++ sources found" >&2; exit 1; }
clang-format --dry-run -Werror "${files[@]}"
echo "clang-format: ${#files[@]} files clean"
