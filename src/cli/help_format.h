// --help within a screen: CLI11 (2.1) pads the option names to a column but never wraps
// a description, so a long one ran to 191 columns. This formatter wraps descriptions,
// the command's description and footer, and option names too long for their column, so
// that no line of any help is wider than `width` columns.
#pragma once

#include <CLI/CLI.hpp>
#include <cstddef>
#include <string>

namespace embed2onnx {

inline constexpr size_t kHelpWidth = 100;

class WrappingFormatter : public CLI::Formatter {
 public:
  explicit WrappingFormatter(size_t width = kHelpWidth);

  std::string make_option(const CLI::Option* opt, bool is_positional) const override;
  std::string make_subcommand(const CLI::App* sub) const override;
  std::string make_description(const CLI::App* app) const override;
  std::string make_footer(const CLI::App* app) const override;
  std::string make_usage(const CLI::App* app, std::string name) const override;

 private:
  // "  name" then `desc` in the description column, both wrapped.
  std::string Entry(const std::string& name, const std::string& desc) const;
  size_t width_;
};

}  // namespace embed2onnx
