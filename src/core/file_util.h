#pragma once

#include <cstdint>
#include <memory>
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

// Writes a file piece by piece with WriteFileAtomic's guarantees: the pieces go to a temporary
// file in the same directory, and Commit() fsyncs it, renames it over `path` and fsyncs the
// directory. Until then `path` is untouched; a writer destroyed without Commit() removes its
// temporary. For files too large to build in memory first. Not thread-safe.
class AtomicFileWriter {
 public:
  // IOError naming the path when the temporary cannot be created.
  static Result<std::unique_ptr<AtomicFileWriter>> Open(const std::string& path);
  ~AtomicFileWriter();
  AtomicFileWriter(const AtomicFileWriter&) = delete;
  AtomicFileWriter& operator=(const AtomicFileWriter&) = delete;

  Status Append(std::string_view data);
  Status Commit();
  uint64_t bytes_written() const { return bytes_; }

 private:
  AtomicFileWriter(std::string path, std::string tmp, int fd)
      : path_(std::move(path)), tmp_(std::move(tmp)), fd_(fd) {}
  std::string path_, tmp_;
  int fd_;
  uint64_t bytes_ = 0;
  bool committed_ = false;
};

// mkdir -p
Status CreateDirectories(const std::string& path);

// fsync a directory so that entries created in it survive a crash.
Status SyncDirectory(const std::string& path);

}  // namespace strata
