#pragma once
// Plain data describing TLS contexts, filled from config (proxy.yml listen[].tls, config.yml
// http.tls) and turned into OpenSSL contexts by tls_context.h.

#include <string>
#include <vector>

namespace portico::net {

struct CertificateFiles {
  std::string certificate;  // PEM chain, leaf first
  std::string key;          // PEM private key
};

enum class ClientAuth { None, Optional, Required };

struct TlsServerOptions {
  std::vector<CertificateFiles> certificates;  // first is the default; others chosen by SNI
  std::string client_ca;                       // PEM bundle of CAs for client certificates
  std::vector<std::string> more_client_cas;    // further CA bundles, trusted like client_ca
  ClientAuth client_auth = ClientAuth::None;
  std::string min_version = "1.2";  // "1.2" or "1.3"; never lower
  std::string ciphers;              // TLS 1.2 cipher list; empty = OpenSSL default
  std::string ciphersuites;         // TLS 1.3 suites; empty = OpenSSL default
  std::vector<std::string> alpn = {"http/1.1"};
};

struct TlsClientOptions {
  std::string ca_file;      // empty = system default trust store
  bool verify = true;       // verify the server certificate and name
  std::string server_name;  // SNI and name to verify; empty = the upstream host
  std::string certificate;  // optional client certificate (mTLS to the upstream)
  std::string key;
  std::string min_version = "1.2";

  bool operator==(const TlsClientOptions&) const = default;
};

}  // namespace portico::net
