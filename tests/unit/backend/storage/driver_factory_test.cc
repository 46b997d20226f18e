// The driver factory: names and parameters as distribution's config.yml gives them, with
// distribution 2.8's defaults and limits for the filesystem driver (driver.go,
// base.GetLimitFromParameter).

#include "backend/storage/driver_factory.h"

#include <algorithm>
#include <catch2/catch.hpp>
#include <memory>
#include <string>

#include "backend/storage/filesystem_driver.h"
#include "backend/storage/memory_driver.h"
#include "tests/unit/backend/storage/scratch_dir.h"

using portico::storage::createDriver;
using portico::storage::driverNames;
using portico::storage::DriverParameters;
using portico::storage::FilesystemDriver;
using portico::storage::registerDriver;
using portico::storage::StorageDriver;
using portico::storage::StorageErrc;
using portico::storage::testing::ScratchDir;

TEST_CASE("filesystem with no parameters has distribution's defaults", "[driver_factory]") {
  auto driver = createDriver("filesystem", {});
  REQUIRE(driver);
  CHECK((*driver)->name() == "filesystem");
  auto* filesystem = dynamic_cast<FilesystemDriver*>(driver->get());
  REQUIRE(filesystem != nullptr);
  CHECK(filesystem->rootDirectory() == "/var/lib/registry");
  CHECK((*driver)->maxThreads() == size_t{100});
}

TEST_CASE("filesystem stores under rootdirectory and reports maxthreads", "[driver_factory]") {
  ScratchDir scratch;
  const std::string root = scratch.path() + "/root";
  auto driver = createDriver("filesystem", {{"rootdirectory", root}, {"maxthreads", "50"}});
  REQUIRE(driver);
  CHECK((*driver)->maxThreads() == size_t{50});
  REQUIRE((*driver)->putContent("/docker/registry/v2/x", "bytes"));
  CHECK(FilesystemDriver(root).getContent("/docker/registry/v2/x").value() == "bytes");
}

TEST_CASE("maxthreads is read as distribution 2.8 reads it", "[driver_factory]") {
  auto [text, expected] = GENERATE(table<std::string, size_t>({
      {"50", 50},
      {"25", 25},
      {"24", 25},      // raised to the minimum
      {"1", 25},       //
      {"0", 25},       // a YAML integer <= 0 gives the minimum
      {"-5", 25},      //
      {"1000", 1000},  // no upper bound
      {"0x40", 64},    // strconv.ParseUint(text, 0, 64): base prefixes
      {"0o100", 64},   //
      {"0100", 64},    // a leading 0 is octal
      {"0b1000000", 64},
      {"", 100},  // a YAML null: the default
  }));
  CAPTURE(text);
  auto driver = createDriver("filesystem", {{"maxthreads", text}});
  REQUIRE(driver);
  CHECK((*driver)->maxThreads() == expected);
}

TEST_CASE("a malformed maxthreads or an empty rootdirectory is InvalidParameter naming the key",
          "[driver_factory]") {
  auto text = GENERATE(as<std::string>{}, "many", "5x", "0x", "08", "1.5", "-", "--5", " 50");
  CAPTURE(text);
  auto driver = createDriver("filesystem", {{"maxthreads", text}});
  REQUIRE_FALSE(driver);
  CHECK(driver.error().is(StorageErrc::InvalidParameter));
  CHECK(driver.error().detail() == "maxthreads");
  CHECK(driver.error().message().find("'" + text + "'") != std::string::npos);

  auto empty_root = createDriver("filesystem", {{"rootdirectory", ""}});
  REQUIRE_FALSE(empty_root);
  CHECK(empty_root.error().is(StorageErrc::InvalidParameter));
  CHECK(empty_root.error().detail() == "rootdirectory");
}

TEST_CASE("parameters a driver does not read are ignored, as distribution does",
          "[driver_factory]") {
  CHECK(createDriver("filesystem", {{"somethingelse", "x"}}));
  auto memory = createDriver("inmemory", {{"rootdirectory", "/ignored"}});
  REQUIRE(memory);
  CHECK((*memory)->name() == "inmemory");
  CHECK((*memory)->maxThreads() == std::nullopt);
}

TEST_CASE("an unknown driver name is UnknownDriver and the message lists the known drivers",
          "[driver_factory]") {
  auto driver = createDriver("s3", {{"bucket", "b"}});
  REQUIRE_FALSE(driver);
  CHECK(driver.error().is(StorageErrc::UnknownDriver));
  CHECK(driver.error().detail() == "s3");
  CHECK(driver.error().message().find("\"s3\"") != std::string::npos);
  CHECK(driver.error().message().find("filesystem") != std::string::npos);
  CHECK(driver.error().message().find("inmemory") != std::string::npos);
  CHECK_FALSE(createDriver("Filesystem", {}));  // names are exact, as distribution's map keys
}

TEST_CASE("a registered driver is created by name with its parameters", "[driver_factory]") {
  DriverParameters seen;
  registerDriver("test-registered", [&seen](const DriverParameters& parameters) {
    seen = parameters;
    return portico::Result<std::unique_ptr<StorageDriver>>(
        std::make_unique<portico::storage::MemoryDriver>());
  });
  auto names = driverNames();
  CHECK(std::find(names.begin(), names.end(), "test-registered") != names.end());
  CHECK(std::is_sorted(names.begin(), names.end()));
  auto driver = createDriver("test-registered", {{"region", "eu-west-1"}});
  REQUIRE(driver);
  CHECK(seen == DriverParameters{{"region", "eu-west-1"}});
}
