#pragma once
// Services: the registry services one portico-registry process shares between its workers,
// built over one storage driver. Every member is thread-safe (see each header).

#include "backend/registry/blob_store.h"
#include "backend/registry/catalog.h"
#include "backend/registry/manifest_store.h"
#include "backend/registry/referrer_index.h"
#include "backend/registry/tag_store.h"
#include "backend/registry/upload_store.h"
#include "backend/storage/storage_driver.h"

namespace portico::api {

struct Services {
  explicit Services(storage::StorageDriver& storage_driver)
      : driver(storage_driver),
        layers(storage_driver, registry::BlobStore::LinkSet::Layers),
        uploads(storage_driver, layers),
        tags(storage_driver),
        manifests(storage_driver, tags),
        referrers(storage_driver),
        catalog(storage_driver) {}

  storage::StorageDriver& driver;
  registry::BlobStore layers;
  registry::UploadStore uploads;
  registry::TagStore tags;
  registry::ManifestStore manifests;
  registry::ReferrerIndex referrers;
  registry::Catalog catalog;
};

}  // namespace portico::api
