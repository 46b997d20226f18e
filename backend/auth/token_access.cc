#include "backend/auth/token_access.h"

#include <openssl/sha.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <ctime>
#include <utility>
#include <vector>

#include "backend/registry/error_code.h"
#include "common/http/message.h"

namespace portico::auth {
namespace {

bool equalsIgnoreCase(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) ==
                  std::tolower(static_cast<unsigned char>(y));
         });
}

std::string sha256(std::string_view data) {
  unsigned char digest[SHA256_DIGEST_LENGTH];
  SHA256(reinterpret_cast<const unsigned char*>(data.data()), data.size(), digest);
  return std::string(reinterpret_cast<const char*>(digest), sizeof digest);
}

bool grants(const TokenClaims& claims, const api::Access& wanted) {
  return std::any_of(claims.access.begin(), claims.access.end(), [&](const api::Access& a) {
    return a.type == wanted.type && a.name == wanted.name &&
           (a.action == "*" || a.action == wanted.action);
  });
}

}  // namespace

std::shared_ptr<const TokenClaims> TokenCache::find(const std::string& key, int64_t now) {
  std::lock_guard lock(mutex_);
  auto it = entries_.find(key);
  if (it == entries_.end()) return nullptr;
  if (now > it->second->expires + kTokenLeewaySeconds) {
    entries_.erase(it);
    return nullptr;
  }
  return it->second;
}

void TokenCache::insert(const std::string& key, std::shared_ptr<const TokenClaims> claims,
                        int64_t now) {
  std::lock_guard lock(mutex_);
  if (capacity_ == 0) return;
  if (entries_.size() >= capacity_) {
    std::erase_if(entries_,
                  [&](const auto& e) { return now > e.second->expires + kTokenLeewaySeconds; });
    if (entries_.size() >= capacity_) entries_.erase(entries_.begin());
  }
  entries_[key] = std::move(claims);
}

size_t TokenCache::size() const {
  std::lock_guard lock(mutex_);
  return entries_.size();
}

std::string scopeParameter(const std::vector<api::Access>& access) {
  // Resources in order of first appearance, each with its actions in order (distribution
  // iterates a map: its order varies; ours is fixed).
  std::vector<std::pair<std::string, std::vector<std::string>>> resources;
  for (const auto& a : access) {
    std::string resource = a.type + ":" + a.name;
    auto it = std::find_if(resources.begin(), resources.end(),
                           [&](const auto& r) { return r.first == resource; });
    if (it == resources.end()) {
      resources.emplace_back(resource, std::vector<std::string>{});
      it = std::prev(resources.end());
    }
    if (std::find(it->second.begin(), it->second.end(), a.action) == it->second.end()) {
      it->second.push_back(a.action);
    }
  }
  std::string out;
  for (const auto& [resource, actions] : resources) {
    if (!out.empty()) out.push_back(' ');
    out += resource + ":";
    for (size_t i = 0; i < actions.size(); ++i) out += (i ? "," : "") + actions[i];
  }
  return out;
}

TokenAccess::TokenAccess(TokenSettings settings, std::unique_ptr<JwtVerifier> verifier)
    : settings_(std::move(settings)),
      verifier_(std::move(verifier)),
      cache_(settings_.cache_capacity) {}

Result<std::unique_ptr<TokenAccess>> TokenAccess::open(TokenSettings settings) {
  settings.jwt.service = settings.service;
  auto verifier = JwtVerifier::open(settings.jwt);
  if (!verifier) return verifier.error();
  spdlog::info(
      "auth.token: issuer \"{}\", service \"{}\", {} trusted key ids, realm {}",
      settings.jwt.issuer, settings.service, (*verifier)->trustedKeyIds(),
      settings.autoredirect ? "https://<host>" + settings.autoredirect_path : settings.realm);
  return std::unique_ptr<TokenAccess>(new TokenAccess(std::move(settings), std::move(*verifier)));
}

api::AccessDecision TokenAccess::challenge(const http::RequestHead& head,
                                           const std::vector<api::Access>& access,
                                           const char* error, std::string message) const {
  std::string realm = settings_.realm;
  if (settings_.autoredirect) {
    realm = "https://" + std::string(head.headers.get("Host").value_or("")) +
            settings_.autoredirect_path;
  }
  std::string value = "Bearer realm=" + http::quotedString(realm) +
                      ",service=" + http::quotedString(settings_.service);
  if (std::string scope = scopeParameter(access); !scope.empty()) {
    value += ",scope=" + http::quotedString(scope);
  }
  if (error) value += std::string(",error=") + http::quotedString(error);
  api::AccessDecision decision;
  decision.allowed = false;
  std::string detail;
  for (const auto& a : access) {
    detail += (detail.empty() ? "" : " ") + a.type + ":" + a.name + ":" + a.action;
  }
  decision.error = Error{registry::ErrorCode::Unauthorized, std::move(message), std::move(detail)};
  decision.headers.emplace_back("WWW-Authenticate", std::move(value));
  return decision;
}

api::AccessDecision TokenAccess::decide(const http::RequestHead& head,
                                        const std::vector<api::Access>& access, int64_t now) {
  auto header = head.headers.get("Authorization");
  std::string_view value = header ? std::string_view(*header) : std::string_view{};
  size_t space = value.find(' ');
  if (space == std::string_view::npos || !equalsIgnoreCase(value.substr(0, space), "bearer") ||
      value.size() == space + 1) {
    return challenge(head, access, nullptr, "authentication required");
  }
  std::string_view token = value.substr(space + 1);
  std::shared_ptr<const TokenClaims> claims;
  std::string key;
  if (token.size() <= kMaxTokenSize) {
    key = sha256(token);
    claims = cache_.find(key, now);
  }
  if (!claims) {
    auto verified = verifier_->verify(token, now);
    if (!verified) {
      spdlog::info("auth.token: rejected a token: {}", verified.error().detail());
      return challenge(head, access, "invalid_token", "authentication required");
    }
    claims = std::make_shared<const TokenClaims>(std::move(*verified));
    cache_.insert(key, claims, now);
  } else if (now < claims->not_before - kTokenLeewaySeconds) {
    return challenge(head, access, "invalid_token", "authentication required");
  }
  for (const auto& wanted : access) {
    if (!grants(*claims, wanted)) {
      return challenge(head, access, "insufficient_scope", "authentication required");
    }
  }
  api::AccessDecision decision;
  decision.user = claims->subject;
  return decision;
}

void TokenAccess::authorize(const http::RequestHead& head, const std::vector<api::Access>& access,
                            net::Worker* /*worker*/,
                            std::function<void(api::AccessDecision)> done) {
  done(decide(head, access, static_cast<int64_t>(std::time(nullptr))));
}

}  // namespace portico::auth
