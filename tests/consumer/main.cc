// Exports a checkpoint through the installed library: consumer MODEL_DIR OUT_DIR.
// Prints one line per tier written; exits 1 with the library's message on failure.
#include <embed2onnx/export.h>

#include <cstdio>

int main(int argc, char** argv) {
  if (argc != 3) {
    std::fprintf(stderr, "usage: consumer MODEL_DIR OUT_DIR\n");
    return 2;
  }
  embed2onnx::ExportOptions opts;
  opts.model_dir = argv[1];
  opts.out_dir = argv[2];
  opts.tiers = {"fp16w", "int8"};
  embed2onnx::Result<embed2onnx::ExportSummary> r = embed2onnx::ExportTable(opts);
  if (!r.ok()) {
    std::fprintf(stderr, "consumer: %s\n", r.status().message().c_str());
    return 1;
  }
  std::printf("embed2onnx %s exported %s [%llu x %llu]\n", embed2onnx::Version(), r->tensor.c_str(),
              static_cast<unsigned long long>(r->vocab), static_cast<unsigned long long>(r->hidden));
  for (const embed2onnx::TierOutcome& t : r->tiers)
    std::printf("tier %s %s\n", t.tier.c_str(), t.onnx_path.c_str());
  return 0;
}
