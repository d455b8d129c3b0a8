#include "connectors/batch_cache.h"

#include <algorithm>
#include <climits>
#include <cstdlib>

namespace strata {

CommittedBatchCache& CommittedBatchCache::Global() {
  static CommittedBatchCache* cache = [] {
    size_t mb = 512;
    if (const char* env = std::getenv("STRATA_BATCH_CACHE_MB"))
      mb = std::strtoull(env, nullptr, 10);
    return new CommittedBatchCache(mb << 20);
  }();
  return *cache;
}

void CommittedBatchCache::Put(const std::string& table_path, int64_t version, int64_t num_files,
                              Batches batches) {
  size_t bytes = 0;
  for (const auto& b : batches) bytes += b->MemoryBytes();
  std::lock_guard<std::mutex> lock(mu_);
  if (bytes > capacity_) return;
  Key key{table_path, version};
  if (auto it = entries_.find(key); it != entries_.end()) {
    bytes_ -= it->second.bytes;
    lru_.erase(it->second.lru);
    entries_.erase(it);
  }
  lru_.push_front(key);
  entries_.emplace(key, Entry{num_files, std::move(batches), bytes, lru_.begin()});
  bytes_ += bytes;
  EvictLocked();
}

std::optional<CommittedBatchCache::Batches> CommittedBatchCache::Get(const std::string& table_path,
                                                                     int64_t version,
                                                                     int64_t num_files) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = entries_.find({table_path, version});
  if (it == entries_.end() || it->second.num_files != num_files) {
    ++misses_;
    return std::nullopt;
  }
  ++hits_;
  lru_.splice(lru_.begin(), lru_, it->second.lru);
  return it->second.batches;
}

int64_t CommittedBatchCache::AddReader(const std::string& table_path) {
  std::lock_guard<std::mutex> lock(mu_);
  int64_t id = next_reader_++;
  readers_.emplace(id, Reader{table_path, -1});
  return id;
}

void CommittedBatchCache::ReaderAt(int64_t id, int64_t version) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = readers_.find(id);
  if (it == readers_.end()) return;
  it->second.version = version;
  DropReadLocked(it->second.table_path);
}

void CommittedBatchCache::RemoveReader(int64_t id) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = readers_.find(id);
  if (it == readers_.end()) return;
  std::string table_path = std::move(it->second.table_path);
  readers_.erase(it);
  DropReadLocked(table_path);
}

void CommittedBatchCache::DropReadLocked(const std::string& table_path) {
  int64_t passed = INT64_MAX;  // every reader will ask only for commits at or after this
  for (const auto& [id, reader] : readers_) {
    if (reader.table_path == table_path) passed = std::min(passed, reader.version);
  }
  if (passed == INT64_MAX || passed <= 0) return;  // no readers, or one not yet placed
  for (auto it = entries_.lower_bound({table_path, INT64_MIN});
       it != entries_.end() && it->first.first == table_path && it->first.second < passed;) {
    bytes_ -= it->second.bytes;
    lru_.erase(it->second.lru);
    it = entries_.erase(it);
  }
}

void CommittedBatchCache::set_capacity(size_t bytes) {
  std::lock_guard<std::mutex> lock(mu_);
  capacity_ = bytes;
  EvictLocked();
}

void CommittedBatchCache::EvictLocked() {
  while (bytes_ > capacity_ && !lru_.empty()) {
    auto it = entries_.find(lru_.back());
    bytes_ -= it->second.bytes;
    entries_.erase(it);
    lru_.pop_back();
  }
}

size_t CommittedBatchCache::bytes() const {
  std::lock_guard<std::mutex> lock(mu_);
  return bytes_;
}
uint64_t CommittedBatchCache::hits() const {
  std::lock_guard<std::mutex> lock(mu_);
  return hits_;
}
uint64_t CommittedBatchCache::misses() const {
  std::lock_guard<std::mutex> lock(mu_);
  return misses_;
}

}  // namespace strata
