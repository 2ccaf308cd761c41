// An option's value that is another option's name, as in `--out-dir --quiet` (the folder
// name forgotten): CLI11 takes the next word as the value whatever it looks like, so that
// export would write into a folder named "--quiet". RefuseOptionNamesAsValues makes every
// option of `cmd` that takes a value refuse the name of any option of `cmd` (its help
// flag included): "--out-dir: --quiet is an option of export, not a value". A folder that
// really has such a name is still reachable as ./--quiet, and a negative number stays a
// value (for a flag that refuses it, as --audio-token-id does, its own check says so).
#pragma once

#include <CLI/CLI.hpp>

namespace embed2onnx {

void RefuseOptionNamesAsValues(CLI::App* cmd);

}  // namespace embed2onnx
