#include "cli/help_format.h"

#include "util/text_layout.h"

namespace embed2onnx {

namespace {
constexpr size_t kNameColumn = 26;

std::string Indented(const std::string& text, size_t indent) {
  std::string out;
  for (char c : text) {
    out += c;
    if (c == '\n') out += std::string(indent, ' ');
  }
  return out;
}
}  // namespace

WrappingFormatter::WrappingFormatter(size_t width) : width_(width) { column_width(kNameColumn); }

std::string WrappingFormatter::Entry(const std::string& name, const std::string& desc) const {
  const size_t col = get_column_width();
  std::string out = WrapText("  " + name, width_, 6);
  if (!desc.empty()) {
    const size_t nl = out.rfind('\n');
    const size_t last = DisplayWidth(nl == std::string::npos ? out : out.substr(nl + 1));
    out += last + 1 > col ? "\n" + std::string(col, ' ') : std::string(col - last, ' ');
    out += Indented(WrapText(desc, width_ - col), col);
  }
  return out + "\n";
}

std::string WrappingFormatter::make_option(const CLI::Option* opt, bool is_positional) const {
  return Entry(make_option_name(opt, is_positional) + make_option_opts(opt), make_option_desc(opt));
}

std::string WrappingFormatter::make_subcommand(const CLI::App* sub) const {
  return Entry(sub->get_display_name(true), sub->get_description());
}

std::string WrappingFormatter::make_description(const CLI::App* app) const {
  return WrapText(CLI::Formatter::make_description(app), width_);
}

std::string WrappingFormatter::make_footer(const CLI::App* app) const {
  return WrapText(CLI::Formatter::make_footer(app), width_, 4);
}

std::string WrappingFormatter::make_usage(const CLI::App* app, std::string name) const {
  return WrapText(CLI::Formatter::make_usage(app, std::move(name)), width_, 4);
}

}  // namespace embed2onnx
