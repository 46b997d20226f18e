// Referrers (OCI distribution-spec 1.1 "Listing Referrers") found by scanning revisions.

#include "backend/registry/referrer_index.h"

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "backend/registry/blob_store.h"
#include "backend/registry/manifest_store.h"
#include "backend/storage/layout.h"
#include "backend/storage/memory_driver.h"

using namespace portico;
using namespace portico::registry;
using crypto::Digest;
using nlohmann::json;

namespace {

constexpr std::string_view kOci = "application/vnd.oci.image.manifest.v1+json";
constexpr std::string_view kIndex = "application/vnd.oci.image.index.v1+json";

json descriptorOf(std::string_view media_type, std::string_view content) {
  return json{
      {"mediaType", media_type}, {"digest", Digest::of(content).str()}, {"size", content.size()}};
}

struct Fixture {
  Fixture() : tags(driver), store(driver, tags), blobs(driver), referrers(driver) {
    REQUIRE(blobs.put(repo, "config"));
    REQUIRE(blobs.put(repo, "layer"));
    REQUIRE(blobs.put(repo, "{}"));
    REQUIRE(blobs.put(repo, "sbom"));
    subject =
        json{{"schemaVersion", 2},
             {"mediaType", kOci},
             {"config", descriptorOf("application/vnd.oci.image.config.v1+json", "config")},
             {"layers",
              json::array({descriptorOf("application/vnd.oci.image.layer.v1.tar+gzip", "layer")})}}
            .dump();
    REQUIRE(store.put(repo, *Reference::parse("v1"), kOci, subject));
  }

  // An artifact manifest referring to the subject.
  std::string artifact(std::string_view artifact_type, std::string_view note,
                       bool explicit_type = true) {
    json doc{{"schemaVersion", 2},
             {"mediaType", kOci},
             {"config", explicit_type ? descriptorOf("application/vnd.oci.empty.v1+json", "{}")
                                      : descriptorOf(artifact_type, "sbom")},
             {"layers", json::array({descriptorOf("text/spdx", "sbom")})},
             {"subject", descriptorOf(kOci, subject)},
             {"annotations", {{"note", note}}}};
    if (explicit_type) doc["artifactType"] = artifact_type;
    return doc.dump();
  }

  storage::MemoryDriver driver;
  TagStore tags;
  ManifestStore store;
  BlobStore blobs;
  ReferrerIndex referrers;
  Repository repo = *Repository::parse("app");
  std::string subject;
};

Reference byDigest(std::string_view body) {
  return *Reference::parse(Digest::of(body).str());
}

}  // namespace

TEST_CASE("referrers list the manifests whose subject is the digest", "[referrers]") {
  Fixture f;
  const std::string sbom = f.artifact("application/spdx+json", "sbom");
  const std::string signature = f.artifact("application/vnd.example.sig", "sig");
  auto put = f.store.put(f.repo, byDigest(sbom), kOci, sbom);
  REQUIRE(put);
  // The API answers the put with OCI-Subject.
  REQUIRE(put->subject);
  CHECK(*put->subject == Digest::of(f.subject));
  REQUIRE(f.store.put(f.repo, byDigest(signature), kOci, signature));

  auto all = f.referrers.list(f.repo, Digest::of(f.subject));
  REQUIRE(all);
  REQUIRE(all->size() == 2);
  for (const auto& descriptor : *all) {
    CHECK(descriptor.media_type == kOci);
    if (descriptor.digest == Digest::of(sbom)) {
      CHECK(descriptor.artifact_type == "application/spdx+json");
      CHECK(descriptor.annotations.at("note") == "sbom");
      CHECK(descriptor.size == static_cast<int64_t>(sbom.size()));
    } else {
      CHECK(descriptor.digest == Digest::of(signature));
      CHECK(descriptor.artifact_type == "application/vnd.example.sig");
    }
  }

  auto filtered = f.referrers.list(f.repo, Digest::of(f.subject),
                                   std::string_view("application/vnd.example.sig"));
  REQUIRE(filtered);
  REQUIRE(filtered->size() == 1);
  CHECK(filtered->front().digest == Digest::of(signature));

  auto none = f.referrers.list(f.repo, Digest::of(f.subject), std::string_view("text/plain"));
  REQUIRE(none);
  CHECK(none->empty());
}

TEST_CASE("without artifactType a referrer's type is its config media type", "[referrers]") {
  Fixture f;
  const std::string legacy = f.artifact("application/vnd.example.config+json", "x", false);
  REQUIRE(f.store.put(f.repo, byDigest(legacy), kOci, legacy));
  auto all = f.referrers.list(f.repo, Digest::of(f.subject));
  REQUIRE(all);
  REQUIRE(all->size() == 1);
  CHECK(all->front().artifact_type == "application/vnd.example.config+json");
}

TEST_CASE("an index can be a referrer", "[referrers]") {
  Fixture f;
  json doc{{"schemaVersion", 2},
           {"mediaType", kIndex},
           {"manifests", json::array({descriptorOf(kOci, f.subject)})},
           {"subject", descriptorOf(kOci, f.subject)}};
  const std::string body = doc.dump();
  REQUIRE(f.store.put(f.repo, byDigest(body), kIndex, body));
  auto all = f.referrers.list(f.repo, Digest::of(f.subject));
  REQUIRE(all);
  REQUIRE(all->size() == 1);
  CHECK(all->front().media_type == kIndex);
  CHECK(all->front().artifact_type.empty());
}

TEST_CASE("an unknown subject or repository has no referrers, and deletion unlists",
          "[referrers]") {
  Fixture f;
  const std::string sbom = f.artifact("application/spdx+json", "sbom");
  REQUIRE(f.store.put(f.repo, byDigest(sbom), kOci, sbom));

  auto unknown = f.referrers.list(f.repo, Digest::of("nothing"));
  REQUIRE(unknown);
  CHECK(unknown->empty());
  auto no_repo = f.referrers.list(*Repository::parse("missing"), Digest::of(f.subject));
  REQUIRE(no_repo);
  CHECK(no_repo->empty());

  // Cached, then deleted: the link is gone, so it is no longer listed.
  REQUIRE(f.referrers.list(f.repo, Digest::of(f.subject))->size() == 1);
  REQUIRE(f.store.remove(f.repo, Digest::of(sbom)));
  CHECK(f.referrers.list(f.repo, Digest::of(f.subject))->empty());
}

TEST_CASE("the referrers response is an OCI index of the descriptors", "[referrers]") {
  manifests::Descriptor descriptor;
  descriptor.media_type = std::string(kOci);
  descriptor.digest = Digest::of("a");
  descriptor.size = 12;
  descriptor.artifact_type = "application/spdx+json";
  descriptor.annotations = {{"k", "v"}};
  const json index = json::parse(ReferrerIndex::renderIndex({descriptor}));
  CHECK(index["schemaVersion"] == 2);
  CHECK(index["mediaType"] == kIndex);
  REQUIRE(index["manifests"].size() == 1);
  CHECK(index["manifests"][0]["digest"] == Digest::of("a").str());
  CHECK(index["manifests"][0]["size"] == 12);
  CHECK(index["manifests"][0]["artifactType"] == "application/spdx+json");
  CHECK(index["manifests"][0]["annotations"]["k"] == "v");
  const json empty = json::parse(ReferrerIndex::renderIndex({}));
  CHECK(empty["manifests"].is_array());
  CHECK(empty["manifests"].empty());
}

TEST_CASE("the referrer cache keeps at most its bound of manifests, least recently used out",
          "[referrers]") {
  Fixture f;
  ReferrerIndex bounded(f.driver, 2);
  for (const char* name : {"sbom", "sig", "vex"}) {
    const std::string body = f.artifact(std::string("application/") + name, name);
    REQUIRE(f.store.put(f.repo, byDigest(body), kOci, body));
  }
  // The subject and three referrers: four manifests to remember, room for two.
  for (int round = 0; round < 2; ++round) {
    auto all = bounded.list(f.repo, Digest::of(f.subject));
    REQUIRE(all);
    CHECK(all->size() == 3);
    CHECK(bounded.cachedEntries() == 2);
  }
  auto typed = bounded.list(f.repo, Digest::of(f.subject), "application/sig");
  REQUIRE(typed);
  CHECK(typed->size() == 1);
  CHECK(bounded.cachedEntries() == 2);
  // The default index remembers all four.
  REQUIRE(f.referrers.list(f.repo, Digest::of(f.subject)));
  CHECK(f.referrers.cachedEntries() == 4);
}
