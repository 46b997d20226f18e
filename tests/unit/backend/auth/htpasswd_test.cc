#include "backend/auth/htpasswd.h"

#include <sys/stat.h>

#include <catch2/catch.hpp>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>

using portico::auth::bcryptCost;
using portico::auth::bcryptHash;
using portico::auth::HtpasswdFile;

namespace {

std::string hashOf(const std::string& password, int cost = 4) {
  auto hash = bcryptHash(password, cost);
  REQUIRE(hash);
  return *hash;
}

std::shared_ptr<const HtpasswdFile> parse(const std::string& text) {
  auto file = HtpasswdFile::parse(text, "htpasswd");
  REQUIRE(file);
  return *file;
}

struct TempDir {
  std::filesystem::path path;
  TempDir() {
    std::string tmpl = (std::filesystem::temp_directory_path() / "htpasswd-XXXXXX").string();
    REQUIRE(mkdtemp(tmpl.data()) != nullptr);
    path = tmpl;
  }
  ~TempDir() { std::filesystem::remove_all(path); }
};

}  // namespace

TEST_CASE("bcryptCost reads well-formed $2a$, $2b$ and $2y$ hashes only", "[htpasswd]") {
  std::string hash = hashOf("pw", 5);
  CHECK(bcryptCost(hash) == 5);
  CHECK(bcryptCost("$2y$" + hash.substr(4)) == 5);
  CHECK(bcryptCost("$2a$" + hash.substr(4)) == 5);
  CHECK(bcryptCost("$2x$" + hash.substr(4)) == -1);
  CHECK(bcryptCost(hash.substr(0, 59)) == -1);
  CHECK(bcryptCost("$2b$31$" + hash.substr(7)) == 31);
  CHECK(bcryptCost("$2b$3a$" + hash.substr(7)) == -1);
  CHECK(bcryptCost("$apr1$abc$def") == -1);
}

TEST_CASE("htpasswd lines are trimmed, # comments skipped, split on the first ':'", "[htpasswd]") {
  std::string alice = hashOf("secret");
  std::string bob = hashOf("b:c");
  auto file = parse("# users\n\n   alice:" + alice + "   \r\n\tbob:" + bob + "\n#carol:x\n");
  CHECK(file->users() == 2);
  CHECK(file->verify("alice", "secret"));
  CHECK_FALSE(file->verify("alice", "Secret"));
  CHECK(file->verify("bob", "b:c"));
  CHECK_FALSE(file->hasUser("carol"));
  CHECK(file->unusable().empty());
}

TEST_CASE("an htpasswd line without ':' is an error naming its line", "[htpasswd]") {
  auto file = HtpasswdFile::parse("# c\nalice:" + hashOf("x") + "\nnocolon\n", "/etc/htpasswd");
  REQUIRE_FALSE(file);
  CHECK(file.error().message() == "/etc/htpasswd:3: invalid htpasswd entry (no ':')");
}

TEST_CASE("the last line of a user wins, as distribution's map assignment", "[htpasswd]") {
  auto file = parse("alice:" + hashOf("one") + "\nalice:" + hashOf("two") + "\n");
  CHECK_FALSE(file->verify("alice", "one"));
  CHECK(file->verify("alice", "two"));
}

TEST_CASE("non-bcrypt hashes never authenticate and are reported with user and line",
          "[htpasswd]") {
  // The plain-text password itself, an MD5-crypt and a SHA1 entry (htpasswd -p, -m, -s).
  auto file = parse(
      "plain:secret\n"
      "md5:$apr1$ZWmyJ1Hy$GHd0Ww6E4mIrYy/Q2vBB31\n"
      "sha:{SHA}5en6G6MezRroT3XKqkdPOmY/BfQ=\n"
      "ok:" +
      hashOf("secret") + "\n");
  CHECK_FALSE(file->verify("plain", "secret"));
  CHECK_FALSE(file->verify("plain", ""));
  CHECK_FALSE(file->verify("md5", "secret"));
  CHECK_FALSE(file->verify("sha", "secret"));
  CHECK(file->verify("ok", "secret"));
  REQUIRE(file->unusable().size() == 3);
  CHECK(file->unusable()[0].user == "plain");
  CHECK(file->unusable()[0].line == 1);
  CHECK(file->unusable()[1].user == "md5");
  CHECK(file->unusable()[2].line == 3);
  CHECK(file->unusable()[2].reason.find("unsupported hash type") != std::string::npos);
}

TEST_CASE("a bcrypt cost above the cap is refused at load, never run (cost 31)", "[htpasswd]") {
  std::string hash = hashOf("secret", 4);
  // A real cost-31 hash would take days to verify; this test would time out if it were run.
  std::string hostile = "$2b$31$" + hash.substr(7);
  auto file = parse("evil:" + hostile + "\nok:" + hash + "\n");
  REQUIRE(file->unusable().size() == 1);
  CHECK(file->unusable()[0].user == "evil");
  CHECK(file->unusable()[0].reason == "bcrypt cost 31 is above the accepted 14");
  CHECK_FALSE(file->verify("evil", "secret"));
  // The dummy verification runs at the usable entries' cost, not at the hostile one.
  CHECK(file->dummyCost() == 4);
}

TEST_CASE("an unknown user and a wrong password both fail; the dummy cost follows the file",
          "[htpasswd]") {
  auto file = parse("a:" + hashOf("x", 5) + "\nb:" + hashOf("y", 5) + "\nc:" + hashOf("z", 4));
  CHECK(file->dummyCost() == 5);
  CHECK_FALSE(file->verify("nobody", "x"));
  CHECK_FALSE(file->verify("a", "y"));
  CHECK(parse("")->dummyCost() == portico::auth::kDefaultBcryptCost);
}

TEST_CASE("a password with a NUL never matches the part before it", "[htpasswd]") {
  auto file = parse("alice:" + hashOf("abc") + "\n");
  CHECK(file->verify("alice", "abc"));
  CHECK_FALSE(file->verify("alice", std::string("abc\0def", 7)));
}

TEST_CASE("a missing htpasswd file is created 0600 in a 0700 folder with user docker",
          "[htpasswd]") {
  TempDir dir;
  std::string path = (dir.path / "auth" / "sub" / "htpasswd").string();
  auto password = portico::auth::createHtpasswdFile(path);
  REQUIRE(password);
  CHECK(password->size() >= 24);
  struct stat st {};
  REQUIRE(::stat(path.c_str(), &st) == 0);
  CHECK((st.st_mode & 0777) == 0600);
  REQUIRE(::stat((dir.path / "auth").c_str(), &st) == 0);
  CHECK((st.st_mode & 0777) == 0700);
  std::ifstream in(path);
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  auto file = parse(text);
  CHECK(file->verify("docker", *password));
  // Never overwrites.
  CHECK_FALSE(portico::auth::createHtpasswdFile(path));
}
