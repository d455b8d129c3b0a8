#pragma once

#include <cstdint>
#include <list>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "batch/record_batch.h"

namespace strata {

// The rows of recent commits, kept in memory for readers in the same process: a DeltaSink puts
// the batches it committed at (table, version); a DeltaSource that reads that whole commit
// takes them instead of decoding the commit's Parquet files. The rows are exactly those of the
// files (possibly in another order), so the cache changes speed, never results; a reader that
// misses (evicted, another process, part of a commit) reads the files.
// Bounded in bytes, least recently used first out. Readers may also say where they are
// (AddReader/ReaderAt): a commit that every registered reader of its table has read past is
// dropped at once, so in steady state the cache holds only what some reader has yet to read.
// Thread-safe.
class CommittedBatchCache {
 public:
  using Batches = std::vector<std::shared_ptr<const RecordBatch>>;

  static CommittedBatchCache& Global();
  explicit CommittedBatchCache(size_t capacity_bytes) : capacity_(capacity_bytes) {}

  // Remembers the batches of commit `version` of the table at `table_path`, which holds
  // `num_files` data files.
  void Put(const std::string& table_path, int64_t version, int64_t num_files, Batches batches);
  // The batches of that commit, if cached with the same file count.
  std::optional<Batches> Get(const std::string& table_path, int64_t version, int64_t num_files);
  // Registers a reader of the table at `table_path`; returns its id. Until its first ReaderAt
  // the reader holds every commit of the table (the LRU bound still applies).
  int64_t AddReader(const std::string& table_path);
  // Reader `id` will not ask for commits before `version` again. Commits of its table that
  // every reader of the table has passed are dropped. Unknown ids are ignored.
  void ReaderAt(int64_t id, int64_t version);
  // Forgets reader `id` (its source closed); the others' positions may then drop commits.
  void RemoveReader(int64_t id);
  void set_capacity(size_t bytes);
  size_t bytes() const;
  uint64_t hits() const;
  uint64_t misses() const;

 private:
  using Key = std::pair<std::string, int64_t>;
  struct Entry {
    int64_t num_files;
    Batches batches;
    size_t bytes;
    std::list<Key>::iterator lru;
  };
  struct Reader {
    std::string table_path;
    int64_t version;  // the next commit it may ask for; -1 before its first ReaderAt
  };
  void EvictLocked();
  // Drops the commits of `table_path` that every registered reader of it has passed.
  void DropReadLocked(const std::string& table_path);
  mutable std::mutex mu_;
  size_t capacity_;                    // guarded by mu_
  size_t bytes_ = 0;                   // guarded by mu_
  std::map<Key, Entry> entries_;       // guarded by mu_
  std::list<Key> lru_;                 // guarded by mu_, most recent at the front
  uint64_t hits_ = 0, misses_ = 0;     // guarded by mu_
  std::map<int64_t, Reader> readers_;  // guarded by mu_
  int64_t next_reader_ = 0;            // guarded by mu_
};

}  // namespace strata
