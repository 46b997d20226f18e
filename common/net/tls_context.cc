#include "common/net/tls_context.h"

#include <arpa/inet.h>
#include <openssl/err.h>
#include <openssl/x509v3.h>

#include <cstring>
#include <vector>

#include "common/net/net_error.h"

namespace portico::net {
namespace {

using CtxPtr = std::unique_ptr<SSL_CTX, decltype(&SSL_CTX_free)>;

Error tlsError(const std::string& what) {
  std::string reason = opensslErrors();
  return Error(NetErrc::Tls, what + (reason.empty() ? "" : ": " + reason));
}

Result<int> minVersion(const std::string& text) {
  if (text.empty() || text == "1.2" || text == "TLSv1.2") return TLS1_2_VERSION;
  if (text == "1.3" || text == "TLSv1.3") return TLS1_3_VERSION;
  return Error(NetErrc::Tls, "min_version \"" + text + "\" not allowed (1.2 or 1.3)");
}

// ALPN wire format: length-prefixed protocol names.
std::string alpnWire(const std::vector<std::string>& protocols) {
  std::string wire;
  for (const auto& p : protocols) {
    if (p.empty() || p.size() > 255) continue;
    wire += static_cast<char>(p.size());
    wire += p;
  }
  return wire;
}

bool isIpLiteral(std::string_view host) {
  std::string h(host);
  unsigned char buf[16];
  return inet_pton(AF_INET, h.c_str(), buf) == 1 || inet_pton(AF_INET6, h.c_str(), buf) == 1;
}

}  // namespace

std::string opensslErrors() {
  std::string out;
  unsigned long code = 0;
  while ((code = ERR_get_error()) != 0) {
    char buffer[256];
    ERR_error_string_n(code, buffer, sizeof(buffer));
    if (!out.empty()) out += "; ";
    out += buffer;
  }
  return out;
}

struct TlsServerContext::Snapshot {
  std::vector<CtxPtr> contexts;  // one per certificate, index 0 = default
  std::vector<X509*> leaves;     // borrowed from the contexts
  std::string alpn;              // wire format
};

namespace {

// SSL ex_data slot holding a heap shared_ptr to the snapshot the SSL was made from, so the
// SNI callback's contexts outlive reloads while the handshake runs.
void freeSnapshotRef(void* /*parent*/, void* ptr, CRYPTO_EX_DATA* /*ad*/, int /*idx*/,
                     long /*argl*/, void* /*argp*/) {
  delete static_cast<std::shared_ptr<const TlsServerContext::Snapshot>*>(ptr);
}

int snapshotIndex() {
  static const int index = SSL_get_ex_new_index(0, nullptr, nullptr, nullptr, &freeSnapshotRef);
  return index;
}

const TlsServerContext::Snapshot* snapshotOf(SSL* ssl) {
  auto* ref = static_cast<std::shared_ptr<const TlsServerContext::Snapshot>*>(
      SSL_get_ex_data(ssl, snapshotIndex()));
  return ref ? ref->get() : nullptr;
}

int onServerName(SSL* ssl, int* /*alert*/, void* /*arg*/) {
  const char* name = SSL_get_servername(ssl, TLSEXT_NAMETYPE_host_name);
  const auto* snapshot = snapshotOf(ssl);
  if (name == nullptr || snapshot == nullptr) return SSL_TLSEXT_ERR_OK;
  for (size_t i = 1; i < snapshot->contexts.size(); ++i) {
    if (X509_check_host(snapshot->leaves[i], name, 0, 0, nullptr) == 1) {
      SSL_set_SSL_CTX(ssl, snapshot->contexts[i].get());
      return SSL_TLSEXT_ERR_OK;
    }
  }
  return SSL_TLSEXT_ERR_OK;
}

int onAlpnSelect(SSL* ssl, const unsigned char** out, unsigned char* outlen,
                 const unsigned char* in, unsigned int inlen, void* /*arg*/) {
  const auto* snapshot = snapshotOf(ssl);
  if (snapshot == nullptr || snapshot->alpn.empty()) return SSL_TLSEXT_ERR_NOACK;
  unsigned char* selected = nullptr;
  int rc = SSL_select_next_proto(&selected, outlen,
                                 reinterpret_cast<const unsigned char*>(snapshot->alpn.data()),
                                 static_cast<unsigned>(snapshot->alpn.size()), in, inlen);
  if (rc != OPENSSL_NPN_NEGOTIATED) return SSL_TLSEXT_ERR_NOACK;
  *out = selected;
  return SSL_TLSEXT_ERR_OK;
}

Result<CtxPtr> buildServerCtx(const TlsServerOptions& options, const CertificateFiles& files,
                              int min_version) {
  CtxPtr ctx(SSL_CTX_new(TLS_server_method()), &SSL_CTX_free);
  if (!ctx) return tlsError("SSL_CTX_new");
  SSL_CTX_set_min_proto_version(ctx.get(), min_version);
  SSL_CTX_set_options(ctx.get(), SSL_OP_NO_RENEGOTIATION | SSL_OP_CIPHER_SERVER_PREFERENCE);
  // Moving: a write retried after WANT_WRITE may come from a moved evbuffer chain
  // (net::flushTlsNow writes first, bufferevent_openssl retries). No auto chain: the chain sent
  // is exactly the certificate file's (leaf, then intermediates), as nginx does; OpenSSL would
  // otherwise try to build one from the verify store (the client CAs) on every handshake.
  SSL_CTX_set_mode(ctx.get(), SSL_MODE_RELEASE_BUFFERS | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER |
                                  SSL_MODE_NO_AUTO_CHAIN);
  if (SSL_CTX_use_certificate_chain_file(ctx.get(), files.certificate.c_str()) != 1) {
    return tlsError("cannot load certificate " + files.certificate);
  }
  if (SSL_CTX_use_PrivateKey_file(ctx.get(), files.key.c_str(), SSL_FILETYPE_PEM) != 1) {
    return tlsError("cannot load key " + files.key);
  }
  if (SSL_CTX_check_private_key(ctx.get()) != 1) {
    return tlsError("key " + files.key + " does not match " + files.certificate);
  }
  if (!options.ciphers.empty() &&
      SSL_CTX_set_cipher_list(ctx.get(), options.ciphers.c_str()) != 1) {
    return tlsError("bad cipher list \"" + options.ciphers + "\"");
  }
  if (!options.ciphersuites.empty() &&
      SSL_CTX_set_ciphersuites(ctx.get(), options.ciphersuites.c_str()) != 1) {
    return tlsError("bad ciphersuites \"" + options.ciphersuites + "\"");
  }
  // One TLS 1.3 session ticket per handshake, not OpenSSL's default two: registry clients
  // (docker, podman, skopeo, containerd: Go's crypto/tls) keep only the newest ticket per
  // server, so a second one costs a record, a write and its encryption for nothing.
  SSL_CTX_set_num_tickets(ctx.get(), 1);
  static const unsigned char kSessionContext[] = "portico";
  SSL_CTX_set_session_id_context(ctx.get(), kSessionContext, sizeof(kSessionContext) - 1);
  if (options.client_auth != ClientAuth::None) {
    if (options.client_ca.empty()) {
      return Error(NetErrc::Tls, "client_auth needs a client_ca bundle");
    }
    if (SSL_CTX_load_verify_locations(ctx.get(), options.client_ca.c_str(), nullptr) != 1) {
      return tlsError("cannot load client CA " + options.client_ca);
    }
    STACK_OF(X509_NAME)* names = SSL_load_client_CA_file(options.client_ca.c_str());
    if (names == nullptr) return tlsError("no CA names in " + options.client_ca);
    for (const std::string& file : options.more_client_cas) {
      if (SSL_CTX_load_verify_locations(ctx.get(), file.c_str(), nullptr) != 1 ||
          SSL_add_file_cert_subjects_to_stack(names, file.c_str()) != 1) {
        sk_X509_NAME_pop_free(names, X509_NAME_free);
        return tlsError("cannot load client CA " + file);
      }
    }
    SSL_CTX_set_client_CA_list(ctx.get(), names);
    int mode = SSL_VERIFY_PEER;
    if (options.client_auth == ClientAuth::Required) mode |= SSL_VERIFY_FAIL_IF_NO_PEER_CERT;
    SSL_CTX_set_verify(ctx.get(), mode, nullptr);
  }
  SSL_CTX_set_tlsext_servername_callback(ctx.get(), &onServerName);
  SSL_CTX_set_alpn_select_cb(ctx.get(), &onAlpnSelect, nullptr);
  return ctx;
}

Result<std::shared_ptr<const TlsServerContext::Snapshot>> buildSnapshot(
    const TlsServerOptions& options) {
  if (options.certificates.empty()) return Error(NetErrc::Tls, "no certificate configured");
  auto min_version = minVersion(options.min_version);
  if (!min_version) return min_version.error();
  auto snapshot = std::make_shared<TlsServerContext::Snapshot>();
  snapshot->alpn = alpnWire(options.alpn);
  for (const auto& files : options.certificates) {
    auto ctx = buildServerCtx(options, files, *min_version);
    if (!ctx) return ctx.error();
    snapshot->leaves.push_back(SSL_CTX_get0_certificate(ctx->get()));
    snapshot->contexts.push_back(std::move(*ctx));
  }
  return std::shared_ptr<const TlsServerContext::Snapshot>(std::move(snapshot));
}

}  // namespace

Result<std::shared_ptr<TlsServerContext>> TlsServerContext::create(TlsServerOptions options) {
  auto snapshot = buildSnapshot(options);
  if (!snapshot) return snapshot.error();
  std::shared_ptr<TlsServerContext> context(new TlsServerContext(std::move(options)));
  context->snapshot_.store(std::move(*snapshot));
  return context;
}

Result<void> TlsServerContext::reload() {
  auto snapshot = buildSnapshot(options_);
  if (!snapshot) return snapshot.error();
  snapshot_.store(std::move(*snapshot));
  return ok();
}

SslPtr TlsServerContext::newSsl() const {
  auto snapshot = snapshot_.load();
  SslPtr ssl(SSL_new(snapshot->contexts.front().get()));
  if (!ssl) return ssl;
  SSL_set_ex_data(ssl.get(), snapshotIndex(),
                  new std::shared_ptr<const Snapshot>(std::move(snapshot)));
  return ssl;
}

TlsClientContext::TlsClientContext(TlsClientOptions options, SSL_CTX* ctx)
    : options_(std::move(options)), ctx_(ctx) {}

Result<std::shared_ptr<TlsClientContext>> TlsClientContext::create(TlsClientOptions options) {
  auto min_version = minVersion(options.min_version);
  if (!min_version) return min_version.error();
  CtxPtr ctx(SSL_CTX_new(TLS_client_method()), &SSL_CTX_free);
  if (!ctx) return tlsError("SSL_CTX_new");
  SSL_CTX_set_min_proto_version(ctx.get(), *min_version);
  SSL_CTX_set_mode(ctx.get(), SSL_MODE_RELEASE_BUFFERS);
  if (options.verify) {
    int rc = options.ca_file.empty()
                 ? SSL_CTX_set_default_verify_paths(ctx.get())
                 : SSL_CTX_load_verify_locations(ctx.get(), options.ca_file.c_str(), nullptr);
    if (rc != 1) return tlsError("cannot load CA " + options.ca_file);
    SSL_CTX_set_verify(ctx.get(), SSL_VERIFY_PEER, nullptr);
  } else {
    SSL_CTX_set_verify(ctx.get(), SSL_VERIFY_NONE, nullptr);
  }
  if (!options.certificate.empty()) {
    if (SSL_CTX_use_certificate_chain_file(ctx.get(), options.certificate.c_str()) != 1) {
      return tlsError("cannot load client certificate " + options.certificate);
    }
    const std::string& key = options.key.empty() ? options.certificate : options.key;
    if (SSL_CTX_use_PrivateKey_file(ctx.get(), key.c_str(), SSL_FILETYPE_PEM) != 1) {
      return tlsError("cannot load client key " + key);
    }
  }
  static const unsigned char kAlpn[] = "\x08http/1.1";
  SSL_CTX_set_alpn_protos(ctx.get(), kAlpn, sizeof(kAlpn) - 1);
  return std::shared_ptr<TlsClientContext>(new TlsClientContext(std::move(options), ctx.release()));
}

SslPtr TlsClientContext::newSsl(std::string_view host) const {
  SslPtr ssl(SSL_new(ctx_.get()));
  if (!ssl) return ssl;
  std::string name(options_.server_name.empty() ? host : std::string_view(options_.server_name));
  if (!name.empty() && !isIpLiteral(name)) {
    SSL_set_tlsext_host_name(ssl.get(), name.c_str());
  }
  if (options_.verify && !name.empty()) {
    if (isIpLiteral(name)) {
      X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl.get()), name.c_str());
    } else {
      SSL_set1_host(ssl.get(), name.c_str());
    }
  }
  return ssl;
}

}  // namespace portico::net
