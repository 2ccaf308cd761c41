#include "cli/flag_values.h"

#include <set>
#include <string>

namespace embed2onnx {

void RefuseOptionNamesAsValues(CLI::App* cmd) {
  auto names = std::make_shared<std::set<std::string>>();
  for (const CLI::Option* opt : cmd->get_options()) {
    for (const std::string& l : opt->get_lnames()) names->insert("--" + l);
    for (const std::string& s : opt->get_snames()) names->insert("-" + s);
  }
  const std::string command = cmd->get_name();
  for (CLI::Option* opt : cmd->get_options()) {
    if (opt->get_items_expected_max() == 0) continue;  // a flag
    opt->check(
        [names, command](const std::string& value) -> std::string {
          if (names->count(value) == 0) return "";
          return value + " is an option of " + command + ", not a value";
        },
        "", "not-an-option-name");
  }
}

}  // namespace embed2onnx
