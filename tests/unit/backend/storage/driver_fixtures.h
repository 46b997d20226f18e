#pragma once
// The two StorageDriver implementations as Catch2 TEMPLATE_TEST_CASE types, so that every
// storage test runs against both (distribution's testsuites.go model). Each fixture fails the
// test on destruction if putContent() left a temporary file behind.

#include <catch2/catch.hpp>
#include <memory>
#include <string>

#include "backend/storage/filesystem_driver.h"
#include "backend/storage/memory_driver.h"
#include "tests/unit/backend/storage/scratch_dir.h"

namespace portico::storage::testing {

struct FilesystemFixture {
  static constexpr const char* kName = "filesystem";
  ScratchDir scratch;
  std::string root = scratch.path() + "/root";
  FilesystemDriver filesystem{root};
  StorageDriver& driver = filesystem;
  FilesystemDriver second{root};

  // Another driver over the same data, as a restarted process would open it.
  StorageDriver& restarted() { return second; }

  ~FilesystemFixture() { CHECK(scratch.findNamesStartingWith(".portico-tmp-").empty()); }
};

struct MemoryFixture {
  static constexpr const char* kName = "inmemory";
  MemoryDriver memory;
  StorageDriver& driver = memory;

  // Memory has no restart: the same driver stands for the new process's view of the data.
  StorageDriver& restarted() { return memory; }
};

}  // namespace portico::storage::testing
