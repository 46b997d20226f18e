#pragma once
// The storage driver factory: a driver by its name in distribution's config.yml (the key under
// `storage:`) and its parameter map, as distribution's registry/storage/driver/factory.
//
//   storage:
//     filesystem:                      createDriver("filesystem",
//       rootdirectory: /srv/registry     {{"rootdirectory", "/srv/registry"},
//       maxthreads: 50                    {"maxthreads", "50"}})
//
// Built in: "filesystem" (FilesystemDriver::fromParameters: rootdirectory, maxthreads) and
// "inmemory" (MemoryDriver, no parameters). Another driver (s3) is added with one line in
// registerBuiltinDrivers() (driver_factory.cc), or by registerDriver() at startup for one
// that lives outside libportico_storage. Not from the driver's own file at static
// initialisation (distribution's init()): the linker drops an object file of a static library
// that nothing references, and its registration with it.
//
// Errors: UnknownDriver (the message lists the known names), InvalidParameter (the detail is
// the parameter's key). What this does not do: check parameters a driver does not read
// (distribution ignores them too; registry_config reports unknown keys).

#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "backend/storage/storage_driver.h"
#include "common/result.h"

namespace portico::storage {

// Builds a driver from its parameters (distribution's StorageDriverFactory.Create).
using DriverConstructor =
    std::function<Result<std::unique_ptr<StorageDriver>>(const DriverParameters& parameters)>;

// Makes `name` known to createDriver(). Call at startup, before any createDriver() from
// another thread. A name registered twice is a programming error (distribution panics): it
// asserts, and the first registration stays.
void registerDriver(std::string name, DriverConstructor constructor);

// The driver `name` built from `parameters`.
[[nodiscard]] Result<std::unique_ptr<StorageDriver>> createDriver(
    std::string_view name, const DriverParameters& parameters);

// Names createDriver() knows, sorted.
std::vector<std::string> driverNames();

}  // namespace portico::storage
