// portico-registry check-config loads the files the configuration names, as `serve` would
// (nginx -t does the same): http.tls's certificate, key and client CAs. A file that cannot be
// read, or a key that does not match its certificate, is an error naming file, line and key.

#include <catch2/catch.hpp>
#include <string>

#include "tests/fixtures/temp_dir.h"
#include "tests/fixtures/test_certificates.h"
#include "tests/integration/registry_harness.h"

using namespace portico::testing;
using Catch::Matchers::Contains;

namespace {

struct CheckResult {
  int exit_code = -1;
  std::string output;
};

CheckResult checkConfig(const std::string& config) {
  auto [exit_code, output] = runCommand(registryBinary() + " check-config " + config);
  return {exit_code, std::move(output)};
}

// registry.yml with http.tls (line 4) naming these files: the certificate on line 5, the key
// on line 6, the client CA on line 8.
std::string writeConfig(const TempDir& dir, const std::string& certificate, const std::string& key,
                        const std::string& client_ca) {
  return dir.write("registry.yml",
                   "version: 0.1\n"
                   "storage: {filesystem: {rootdirectory: " +
                       dir.file("data") +
                       "}}\n"
                       "http:\n"
                       "  tls:\n"
                       "    certificate: " +
                       certificate + "\n    key: " + key + "\n    clientcas:\n      - " +
                       client_ca + "\n");
}

}  // namespace

TEST_CASE("registry check-config loads the TLS files http.tls names", "[registry][cli]") {
  const auto& certs = TestCertificates::shared();
  TempDir dir;
  SECTION("files that load: configuration OK") {
    auto result =
        checkConfig(writeConfig(dir, certs.serverCert(), certs.serverKey(), certs.caCert()));
    CHECK(result.exit_code == 0);
    CHECK_THAT(result.output, Contains("configuration OK"));
  }
  SECTION("a missing certificate: file:line: http.tls.certificate") {
    std::string missing = dir.file("missing.crt");
    auto result = checkConfig(writeConfig(dir, missing, certs.serverKey(), certs.caCert()));
    CHECK(result.exit_code == 1);
    CHECK_THAT(result.output, Contains("registry.yml:5: http.tls.certificate: cannot read " +
                                       missing + ": No such file or directory"));
    CHECK_THAT(result.output, !Contains("configuration OK"));
  }
  SECTION("a missing key: file:line: http.tls.key") {
    std::string missing = dir.file("missing.key");
    auto result = checkConfig(writeConfig(dir, certs.serverCert(), missing, certs.caCert()));
    CHECK(result.exit_code == 1);
    CHECK_THAT(result.output, Contains("registry.yml:6: http.tls.key: cannot read " + missing));
  }
  SECTION("a missing client CA: file:line: http.tls.clientcas[0]") {
    std::string missing = dir.file("missing-ca.crt");
    auto result = checkConfig(writeConfig(dir, certs.serverCert(), certs.serverKey(), missing));
    CHECK(result.exit_code == 1);
    CHECK_THAT(result.output,
               Contains("registry.yml:8: http.tls.clientcas[0]: cannot read " + missing));
  }
  SECTION("a key that is not the certificate's: file:line: http.tls") {
    auto result =
        checkConfig(writeConfig(dir, certs.serverCert(), certs.otherKey(), certs.caCert()));
    CHECK(result.exit_code == 1);
    CHECK_THAT(result.output, Contains("registry.yml:4: http.tls: "));
    CHECK_THAT(result.output, Contains(certs.otherKey()));
  }
}
