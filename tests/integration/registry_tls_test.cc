// portico-registry's own listeners: HTTPS with http.tls (SIGHUP reloads the certificate and
// keeps serving), mTLS with http.tls.clientcas, and the http.debug.addr health listener.

#include <catch2/catch.hpp>
#include <csignal>

#include "tests/integration/registry_harness.h"

using namespace portico::testing;

namespace {

std::string tlsYaml(const std::string& extra = "") {
  const auto& certs = TestCertificates::shared();
  return "  tls:\n    certificate: " + certs.serverCert() + "\n    key: " + certs.serverKey() +
         "\n" + extra;
}

TlsClientOptions verified() {
  TlsClientOptions tls;
  tls.ca_file = TestCertificates::shared().caCert();
  tls.server_name = "localhost";
  return tls;
}

}  // namespace

TEST_CASE("http.tls serves the API over HTTPS and SIGHUP reloads without dropping it",
          "[registry][tls]") {
  RegistryServer registry({.extra = tlsYaml()});
  CHECK(registry.process().endpoint().scheme == "https");
  HttpClient client(registry.process().endpoint(), verified());
  auto r = client.get("/v2/");
  CHECK(r.status == 200);
  CHECK(r.headers.get("Docker-Distribution-Api-Version") == "registry/2.0");
  auto upload = client.request("POST", "/v2/secure/blobs/uploads/");
  CHECK(upload.headers.get("Location").starts_with("https://"));

  size_t mark = registry.process().output().size();
  registry.process().signal(SIGHUP);
  CHECK(
      registry.process().waitForOutput("TLS certificate reloaded", std::chrono::seconds(10), mark));
  HttpClient after(registry.process().endpoint(), verified());
  CHECK(after.get("/v2/").status == 200);
  CHECK(client.get("/v2/").status == 200);  // the old connection still works
}

TEST_CASE("http.tls.clientcas requires a client certificate", "[registry][tls]") {
  const auto& certs = TestCertificates::shared();
  RegistryServer registry({.extra = tlsYaml("    clientcas:\n      - " + certs.caCert() + "\n")});
  TlsClientOptions with_cert = verified();
  with_cert.cert_file = certs.clientCert();
  with_cert.key_file = certs.clientKey();
  HttpClient good(registry.process().endpoint(), with_cert);
  CHECK(good.get("/v2/").status == 200);
  bool refused = false;
  try {
    HttpClient anonymous(registry.process().endpoint(), verified());
    refused = anonymous.get("/v2/").status != 200;
  } catch (const std::exception&) {
    refused = true;
  }
  CHECK(refused);
}

TEST_CASE("every file in http.tls.clientcas is trusted, not only the first", "[registry][tls]") {
  const auto& certs = TestCertificates::shared();
  // The self-signed "untrusted" client certificate is its own CA: listed second, it is trusted.
  RegistryServer registry({.extra = tlsYaml("    clientcas:\n      - " + certs.caCert() +
                                            "\n      - " + certs.untrustedClientCert() + "\n")});
  TlsClientOptions signed_by_ca = verified();
  signed_by_ca.cert_file = certs.clientCert();
  signed_by_ca.key_file = certs.clientKey();
  HttpClient first(registry.process().endpoint(), signed_by_ca);
  CHECK(first.get("/v2/").status == 200);
  TlsClientOptions self_signed = verified();
  self_signed.cert_file = certs.untrustedClientCert();
  self_signed.key_file = certs.untrustedClientKey();
  int status = 0;
  try {
    HttpClient second(registry.process().endpoint(), self_signed);
    status = second.get("/v2/").status;
  } catch (const std::exception& e) {
    INFO(e.what());
  }
  CHECK(status == 200);
}

TEST_CASE("http.debug.addr answers /debug/health on its own listener", "[registry][debug]") {
  RegistryServer registry({.extra = "  debug:\n    addr: 127.0.0.1:0\n"});
  HttpClient debug(registry.process().endpoint("debug"));
  auto health = debug.get("/debug/health");
  CHECK(health.status == 200);
  CHECK(health.body == "{}");
  HttpClient api(registry.process().endpoint("http"));
  CHECK(api.get("/debug/health").status == 404);
  CHECK(api.get("/v2/").status == 200);
}
