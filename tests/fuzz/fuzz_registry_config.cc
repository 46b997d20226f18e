// Fuzz target: portico-registry's configuration loader (backend/registry_config.h), the path
// `check-config` takes before it loads the files the configuration names: RegistryConfig::parse
// of YAML text with one environment override. Input: a NAME=VALUE override (empty: none),
// NUL, then the YAML. A configuration error is config::ConfigError; any other exception
// escapes and is a finding (check-config and serve report only ConfigError with file:line).

#include <string>
#include <vector>

#include "backend/registry_config.h"
#include "common/config/yaml_document.h"
#include "tests/fuzz/fuzz.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  portico::fuzz::Input input(data, size);
  std::vector<std::string> environment;
  if (std::string_view entry = input.field(); !entry.empty()) environment.emplace_back(entry);
  try {
    (void)portico::backend::RegistryConfig::parse(std::string(input.rest()), "registry.yml",
                                                  environment);
  } catch (const portico::config::ConfigError&) {
  }
  return 0;
}
