#include "backend/storage/driver_factory.h"

#include <cassert>
#include <map>
#include <mutex>
#include <utility>

#include "backend/storage/filesystem_driver.h"
#include "backend/storage/memory_driver.h"

namespace portico::storage {
namespace {

using Constructors = std::map<std::string, DriverConstructor, std::less<>>;

// The one place a driver is added (see driver_factory.h).
void registerBuiltinDrivers(Constructors& constructors) {
  constructors.emplace("filesystem", &FilesystemDriver::fromParameters);
  constructors.emplace("inmemory", [](const DriverParameters&) {
    return Result<std::unique_ptr<StorageDriver>>(std::make_unique<MemoryDriver>());
  });
}

struct Registry {
  Registry() { registerBuiltinDrivers(constructors); }
  std::mutex mutex;
  Constructors constructors;
};

Registry& registry() {
  static Registry instance;
  return instance;
}

std::string joinNames(const std::vector<std::string>& names) {
  std::string out;
  for (const std::string& name : names) {
    if (!out.empty()) out += ", ";
    out += name;
  }
  return out;
}

}  // namespace

void registerDriver(std::string name, DriverConstructor constructor) {
  Registry& r = registry();
  std::lock_guard lock(r.mutex);
  [[maybe_unused]] const bool added =
      r.constructors.emplace(std::move(name), std::move(constructor)).second;
  assert(added && "storage driver registered twice");
}

std::vector<std::string> driverNames() {
  Registry& r = registry();
  std::lock_guard lock(r.mutex);
  std::vector<std::string> names;
  names.reserve(r.constructors.size());
  for (const auto& [name, constructor] : r.constructors) names.push_back(name);
  return names;
}

Result<std::unique_ptr<StorageDriver>> createDriver(std::string_view name,
                                                    const DriverParameters& parameters) {
  DriverConstructor constructor;
  {
    Registry& r = registry();
    std::lock_guard lock(r.mutex);
    if (auto it = r.constructors.find(name); it != r.constructors.end()) constructor = it->second;
  }
  if (!constructor) {
    return Error{StorageErrc::UnknownDriver,
                 "unknown storage driver \"" + std::string(name) +
                     "\" (known: " + joinNames(driverNames()) + ")",
                 std::string(name)};
  }
  return constructor(parameters);
}

}  // namespace portico::storage
