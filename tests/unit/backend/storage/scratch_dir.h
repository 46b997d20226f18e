#pragma once
// A temporary directory for storage tests, removed (with everything in it) at scope exit.

#include <cstdlib>
#include <filesystem>
#include <string>
#include <system_error>
#include <vector>

namespace portico::storage::testing {

class ScratchDir {
 public:
  ScratchDir() {
    std::string pattern = (std::filesystem::temp_directory_path() / "portico-storage-XXXXXX");
    if (::mkdtemp(pattern.data()) == nullptr) std::abort();
    path_ = pattern;
  }
  ~ScratchDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  ScratchDir(const ScratchDir&) = delete;
  ScratchDir& operator=(const ScratchDir&) = delete;

  const std::string& path() const { return path_; }

  // Every file or directory under the scratch dir whose name starts with `prefix`.
  std::vector<std::string> findNamesStartingWith(const std::string& prefix) const {
    std::vector<std::string> found;
    for (const auto& entry : std::filesystem::recursive_directory_iterator(path_)) {
      if (entry.path().filename().string().rfind(prefix, 0) == 0) {
        found.push_back(entry.path().string());
      }
    }
    return found;
  }

 private:
  std::string path_;
};

}  // namespace portico::storage::testing
