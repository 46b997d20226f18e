#pragma once
// OpenSSL contexts built from TlsServerOptions / TlsClientOptions (tls_options.h).
//
// TlsServerContext serves several certificates chosen by SNI (the first is the default),
// verifies client certificates when configured (mTLS), never allows less than TLS 1.2, and
// offers ALPN http/1.1. reload() re-reads the files and swaps the snapshot used for NEW
// connections; live connections keep the SSL_CTX they started with (OpenSSL reference counts
// it). Shared by all workers: every method is thread-safe.

#include <openssl/ssl.h>

#include <atomic>
#include <memory>
#include <string>
#include <string_view>

#include "common/net/tls_options.h"
#include "common/result.h"

namespace portico::net {

struct SslFree {
  void operator()(SSL* ssl) const { SSL_free(ssl); }
};
using SslPtr = std::unique_ptr<SSL, SslFree>;

class TlsServerContext {
 public:
  // Loads certificates, keys and CAs (NetErrc::Tls with the file and OpenSSL's reason).
  static Result<std::shared_ptr<TlsServerContext>> create(TlsServerOptions options);

  // Re-reads every file named in the options; on failure the old snapshot stays in use.
  Result<void> reload();
  // A server-side SSL for an accepted connection, from the current snapshot.
  SslPtr newSsl() const;
  const TlsServerOptions& options() const { return options_; }

  // Built contexts: one SSL_CTX per certificate (index 0 = default). Public for the SNI
  // callback; treat as opaque.
  struct Snapshot;

 private:
  explicit TlsServerContext(TlsServerOptions options) : options_(std::move(options)) {}

  TlsServerOptions options_;
  std::atomic<std::shared_ptr<const Snapshot>> snapshot_;
};

class TlsClientContext {
 public:
  static Result<std::shared_ptr<TlsClientContext>> create(TlsClientOptions options);

  // A client-side SSL for a connection to `host`: SNI and the verified name are
  // options.server_name if set, else `host` (no SNI for IP literals); ALPN http/1.1.
  SslPtr newSsl(std::string_view host) const;
  const TlsClientOptions& options() const { return options_; }

 private:
  TlsClientContext(TlsClientOptions options, SSL_CTX* ctx);

  struct CtxFree {
    void operator()(SSL_CTX* ctx) const { SSL_CTX_free(ctx); }
  };
  TlsClientOptions options_;
  std::unique_ptr<SSL_CTX, CtxFree> ctx_;
};

// The OpenSSL error queue as one line (and clears it).
std::string opensslErrors();

}  // namespace portico::net
