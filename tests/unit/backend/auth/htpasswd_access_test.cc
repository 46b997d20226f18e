#include "backend/auth/htpasswd_access.h"

#include <openssl/evp.h>

#include <catch2/catch.hpp>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <future>
#include <string>
#include <thread>

#include "common/config/yaml_document.h"

using portico::api::Access;
using portico::api::AccessDecision;
using portico::auth::HtpasswdAccess;
using portico::auth::HtpasswdSettings;
using portico::auth::parseBasicAuthorization;

namespace {

std::string base64(const std::string& in) {
  std::string out(4 * ((in.size() + 2) / 3) + 1, '\0');
  int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                          reinterpret_cast<const unsigned char*>(in.data()),
                          static_cast<int>(in.size()));
  out.resize(static_cast<size_t>(n));
  return out;
}

std::string basic(const std::string& user, const std::string& password) {
  return "Basic " + base64(user + ":" + password);
}

std::string hashOf(const std::string& password) {
  auto hash = portico::auth::bcryptHash(password, 4);
  REQUIRE(hash);
  return *hash;
}

struct TempDir {
  std::filesystem::path path;
  TempDir() {
    std::string tmpl = (std::filesystem::temp_directory_path() / "htaccess-XXXXXX").string();
    REQUIRE(mkdtemp(tmpl.data()) != nullptr);
    path = tmpl;
  }
  ~TempDir() { std::filesystem::remove_all(path); }
  // Writes `name` by rename, as editors and htpasswd do.
  std::string write(const std::string& name, const std::string& text) const {
    auto target = path / name;
    auto temp = path / (name + ".tmp");
    std::ofstream(temp) << text;
    std::filesystem::rename(temp, target);
    return target.string();
  }
};

const std::vector<Access> kPull{{"repository", "lib/app", "pull"}};
const std::vector<Access> kPush{{"repository", "lib/app", "pull"},
                                {"repository", "lib/app", "push"}};

struct Fixture {
  TempDir dir;
  std::string path;
  // Declared before the executor so it is destroyed after it: the executor runs what is queued
  // (a reload check) when it goes, as RegistryServer drains it before its access controller.
  std::unique_ptr<HtpasswdAccess> access;
  portico::storage::StorageExecutor executor{2};

  explicit Fixture(const std::string& file_text,
                   std::shared_ptr<const portico::auth::Policy> policy = nullptr) {
    path = dir.write("htpasswd", file_text);
    HtpasswdSettings settings;
    settings.realm = "Portico \"test\"";
    settings.path = path;
    settings.policy = std::move(policy);
    auto opened = HtpasswdAccess::open(settings, executor);
    REQUIRE(opened);
    access = std::move(*opened);
  }

  // Authorizes and waits; `inline_answer` tells whether the answer came inside the call
  // (a cache hit or a decision without bcrypt) or later from a storage thread.
  AccessDecision authorize(std::optional<std::string> authorization,
                           const std::vector<Access>& need, bool* inline_answer = nullptr) {
    portico::http::RequestHead head;
    head.method = "GET";
    if (authorization) head.headers.add("Authorization", *authorization);
    // An answer inside the call runs on this thread; one from the executor on a storage
    // thread (with no worker, completions run where the work ran).
    std::promise<std::pair<AccessDecision, std::thread::id>> decided;
    access->authorize(head, need, nullptr, [&](AccessDecision d) {
      decided.set_value({std::move(d), std::this_thread::get_id()});
    });
    auto [decision, answered_on] = decided.get_future().get();
    if (inline_answer) *inline_answer = answered_on == std::this_thread::get_id();
    return decision;
  }
};

std::string header(const AccessDecision& d, const std::string& name) {
  for (const auto& [n, v] : d.headers) {
    if (n == name) return v;
  }
  return "";
}

std::shared_ptr<const portico::auth::Policy> policyOf(const std::string& yaml) {
  auto doc = portico::config::YamlDocument::loadString(yaml, "registry.yml");
  return std::make_shared<const portico::auth::Policy>(
      portico::auth::Policy::parse(doc.root()["policy"]));
}

}  // namespace

TEST_CASE("Basic credentials: scheme case-insensitive, strict base64, first ':' splits",
          "[htpasswd_access]") {
  auto c = parseBasicAuthorization(basic("alice", "p:w"));
  REQUIRE(c);
  CHECK(c->user == "alice");
  CHECK(c->password == "p:w");
  CHECK(parseBasicAuthorization("basic " + base64("a:b")));
  CHECK(parseBasicAuthorization("BASIC " + base64("a:")));
  CHECK_FALSE(parseBasicAuthorization("Bearer " + base64("a:b")));
  CHECK_FALSE(parseBasicAuthorization("Basic"));
  CHECK_FALSE(parseBasicAuthorization("Basic "));
  CHECK_FALSE(parseBasicAuthorization("Basic " + base64("nocolon")));
  CHECK_FALSE(parseBasicAuthorization("Basic YWxpY2U6cHc"));       // padding missing
  CHECK_FALSE(parseBasicAuthorization("Basic YWxp!2U6cHc="));      // not base64
  CHECK_FALSE(parseBasicAuthorization("Basic YWxpY2U6cHc=YQ=="));  // data after padding
  CHECK_FALSE(parseBasicAuthorization("Basic ===="));
  CHECK_FALSE(parseBasicAuthorization("Basic " + base64("a:" + std::string(64 * 1024, 'x'))));
}

TEST_CASE("no credentials: 401 UNAUTHORIZED with the Basic challenge, on /v2/ too",
          "[htpasswd_access]") {
  Fixture f("alice:" + hashOf("secret") + "\n");
  for (const auto& need : {kPull, std::vector<Access>{}}) {
    auto d = f.authorize(std::nullopt, need);
    CHECK_FALSE(d.allowed);
    CHECK(d.error.is(portico::registry::ErrorCode::Unauthorized));
    CHECK(header(d, "WWW-Authenticate") == "Basic realm=\"Portico \\\"test\\\"\"");
  }
}

TEST_CASE("right password allowed with the user; wrong password, unknown user 401",
          "[htpasswd_access]") {
  Fixture f("alice:" + hashOf("secret") + "\n");
  auto ok = f.authorize(basic("alice", "secret"), kPush);
  CHECK(ok.allowed);
  CHECK(ok.user == "alice");
  CHECK_FALSE(f.authorize(basic("alice", "Secret"), kPull).allowed);
  CHECK_FALSE(f.authorize(basic("mallory", "secret"), kPull).allowed);
  auto malformed = f.authorize("Basic %%%%", kPull);
  CHECK_FALSE(malformed.allowed);
  CHECK(header(malformed, "WWW-Authenticate").starts_with("Basic realm="));
  // A 64 KiB header is refused without decoding.
  CHECK_FALSE(f.authorize("Basic " + std::string(64 * 1024, 'A'), kPull).allowed);
}

TEST_CASE("verified credentials are answered from the cache, without a storage thread",
          "[htpasswd_access]") {
  Fixture f("alice:" + hashOf("secret") + "\n");
  bool inline_answer = true;
  CHECK(f.authorize(basic("alice", "secret"), kPull, &inline_answer).allowed);
  CHECK_FALSE(inline_answer);  // the miss ran bcrypt on the executor
  CHECK(f.access->cache().size() == 1);
  CHECK(f.authorize(basic("alice", "secret"), kPull, &inline_answer).allowed);
  CHECK(inline_answer);  // the hit did not
  // A wrong password is never answered from the cache.
  CHECK_FALSE(f.authorize(basic("alice", "secreT"), kPull, &inline_answer).allowed);
  CHECK_FALSE(inline_answer);
}

TEST_CASE("a changed file is re-read before the next verification and drops the cache",
          "[htpasswd_access]") {
  Fixture f("alice:" + hashOf("one") + "\n");
  CHECK(f.authorize(basic("alice", "one"), kPull).allowed);
  f.dir.write("htpasswd", "alice:" + hashOf("two") + "\nbob:" + hashOf("b") + "\n");
  CHECK(f.authorize(basic("bob", "b"), kPull).allowed);            // a miss: re-reads the file
  CHECK_FALSE(f.authorize(basic("alice", "one"), kPull).allowed);  // no longer cached
  CHECK(f.authorize(basic("alice", "two"), kPull).allowed);
  // A file that became invalid keeps the users read before.
  f.dir.write("htpasswd", "garbage without colon\n");
  CHECK(f.authorize(basic("bob", "wrong"), kPull).allowed == false);
  CHECK(f.authorize(basic("alice", "two"), kPull).allowed);
}

TEST_CASE("a missing file is created with user docker at open", "[htpasswd_access]") {
  TempDir dir;
  portico::storage::StorageExecutor executor{1};
  HtpasswdSettings settings{.realm = "r", .path = (dir.path / "new" / "htpasswd").string()};
  auto opened = HtpasswdAccess::open(settings, executor);
  REQUIRE(opened);
  CHECK(std::filesystem::exists(settings.path));
}

TEST_CASE("with a policy: a pull-only user's push is 403 DENIED, anonymous pulls allowed",
          "[htpasswd_access]") {
  auto policy = policyOf(
      "policy:\n  anonymous: [pull]\n  rules:\n"
      "    - {repositories: ['**'], users: [reader], actions: [pull]}\n"
      "    - {repositories: ['lib/**'], users: [writer], actions: [pull, push]}\n");
  Fixture f("reader:" + hashOf("r") + "\nwriter:" + hashOf("w") + "\n", policy);
  auto pull = f.authorize(basic("reader", "r"), kPull);
  CHECK(pull.allowed);
  auto push = f.authorize(basic("reader", "r"), kPush);
  CHECK_FALSE(push.allowed);
  CHECK(push.error.is(portico::registry::ErrorCode::Denied));
  CHECK(push.error.detail() == "user reader may not repository:lib/app:push");
  CHECK(push.headers.empty());
  CHECK(f.authorize(basic("writer", "w"), kPush).allowed);
  // Wrong password stays 401 even where anonymous access would be allowed.
  CHECK(f.authorize(basic("reader", "x"), kPull)
            .error.is(portico::registry::ErrorCode::Unauthorized));
  // Anonymous: pull yes, push 401 (credentials could help), /v2/ challenged.
  auto anonymous = f.authorize(std::nullopt, kPull);
  CHECK(anonymous.allowed);
  CHECK(anonymous.user.empty());
  CHECK(f.authorize(basic("", ""), kPull).allowed);  // containers/image without credentials
  CHECK(f.authorize(std::nullopt, kPush).error.is(portico::registry::ErrorCode::Unauthorized));
  CHECK_FALSE(f.authorize(std::nullopt, {}).allowed);
}
