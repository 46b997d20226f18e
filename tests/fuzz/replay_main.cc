// Replays fuzz inputs without libFuzzer (like oss-fuzz's StandaloneFuzzTargetMain): runs
// LLVMFuzzerTestOneInput on every file of the directories (or files) given as arguments, in
// name order, and prints TAP: one "ok N - FILE" line per input. A crash or sanitizer report
// aborts the process, so meson reports the target as failed; the input being replayed is
// named on stderr first.

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include "tests/fuzz/fuzz.h"

int main(int argc, char** argv) {
  namespace fs = std::filesystem;
  std::vector<fs::path> inputs;
  for (int i = 1; i < argc; ++i) {
    fs::path arg = argv[i];
    if (fs::is_directory(arg)) {
      for (const auto& entry : fs::directory_iterator(arg)) {
        if (entry.is_regular_file()) inputs.push_back(entry.path());
      }
    } else {
      inputs.push_back(arg);
    }
  }
  std::sort(inputs.begin(), inputs.end());
  if (inputs.empty()) {
    std::printf("1..0 # SKIP no inputs\n");
    return 0;
  }
  std::printf("1..%zu\n", inputs.size());
  std::fflush(stdout);
  size_t n = 0;
  for (const auto& path : inputs) {
    std::ifstream in(path, std::ios::binary);
    std::string bytes{std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
    if (!in.good() && !in.eof()) {
      std::printf("not ok %zu - %s (unreadable)\n", ++n, path.filename().c_str());
      continue;
    }
    std::fprintf(stderr, "replaying %s\n", path.c_str());
    // A copy of exactly the input's size, so that ASan sees reads past its end.
    std::vector<uint8_t> data(bytes.begin(), bytes.end());
    LLVMFuzzerTestOneInput(data.data(), data.size());
    std::printf("ok %zu - %s\n", ++n, path.filename().c_str());
    std::fflush(stdout);
  }
  return 0;
}
