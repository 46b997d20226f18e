#pragma once
// LocalNamespace: the services of services.h over today's synchronous stores (BlobStore,
// UploadStore, TagStore, ManifestStore, ReferrerIndex, Catalog on one StorageDriver), each call
// run on the storage::StorageExecutor and completed on the asking worker. The stores are
// thread-safe; nothing here holds a lock across a call.
//
// Lifetimes: the executor's queued work refers to the stores, so the executor must be drained
// (destroyed) before this namespace; see RegistryServer for the teardown order.

#include <memory>

#include "backend/registry/blob_store.h"
#include "backend/registry/catalog.h"
#include "backend/registry/manifest_store.h"
#include "backend/registry/referrer_index.h"
#include "backend/registry/services.h"
#include "backend/registry/tag_store.h"
#include "backend/registry/upload_store.h"
#include "backend/storage/executor.h"
#include "backend/storage/storage_driver.h"

namespace portico::registry {

// The stores one registry process shares between its workers.
struct LocalStores {
  explicit LocalStores(storage::StorageDriver& storage_driver)
      : driver(storage_driver),
        layers(storage_driver, BlobStore::LinkSet::Layers),
        uploads(storage_driver, layers),
        tags(storage_driver),
        manifests(storage_driver, tags),
        referrers(storage_driver),
        catalog(storage_driver) {}

  storage::StorageDriver& driver;
  BlobStore layers;
  UploadStore uploads;
  TagStore tags;
  ManifestStore manifests;
  ReferrerIndex referrers;
  Catalog catalog;
};

class LocalNamespace : public Namespace {
 public:
  // Both outlive the namespace.
  LocalNamespace(storage::StorageDriver& driver, storage::StorageExecutor& executor);

  std::unique_ptr<RepositoryService> repository(const Repository& name) override;
  void catalog(const Context& ctx, std::optional<size_t> n, std::string last,
               Done<Page> done) override;

  // The synchronous stores (the upload purger, tests).
  LocalStores& stores() { return stores_; }
  storage::StorageExecutor& executor() { return executor_; }

 private:
  LocalStores stores_;
  storage::StorageExecutor& executor_;
};

}  // namespace portico::registry
