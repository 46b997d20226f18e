#pragma once
// Errors of backend/auth (files and keys it cannot use; never a request's answer, which is an
// api::AccessDecision).

namespace portico::auth {

enum class AuthErrc {
  InvalidFile,   // an htpasswd file, a certificate bundle or a JWKS that cannot be read or parsed
  Internal,      // OpenSSL or libxcrypt failed
  InvalidToken,  // a bearer token that does not verify (the detail says why)
};

}  // namespace portico::auth
