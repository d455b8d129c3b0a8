#pragma once

#include <string>
#include <string_view>

#include "core/status.h"

namespace strata {

// Reads a whole file. NotFound if it does not exist.
Result<std::string> ReadFile(const std::string& path);

// Writes `data` to `path` durably and atomically: a temporary file in the same directory is
// written, fsync'ed and renamed over `path`, then the directory is fsync'ed. Readers see the
// old or the new content, never a mix.
Status WriteFileAtomic(const std::string& path, std::string_view data);

// Creates `path` with `data` only if no file of that name exists (link(2) of a fully written
// temporary, so the name never points to a partial file). AlreadyExists if it does: this is the
// put-if-absent primitive of Delta commits.
Status WriteFileIfAbsent(const std::string& path, std::string_view data);

// mkdir -p
Status CreateDirectories(const std::string& path);

// fsync a directory so that entries created in it survive a crash.
Status SyncDirectory(const std::string& path);

}  // namespace strata
