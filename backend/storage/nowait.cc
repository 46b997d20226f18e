#include "backend/storage/nowait.h"

namespace portico::storage {

thread_local bool NoWaitScope::active_ = false;

}  // namespace portico::storage
