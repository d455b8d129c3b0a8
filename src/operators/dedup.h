#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "batch/record_batch.h"
#include "core/status.h"
#include "operators/watermark.h"

namespace strata {

struct DedupOptions {
  // Spark's watermark delay: a key first seen at event time t is remembered (and later copies
  // dropped) until the watermark passes t + delay. Must be >= 0.
  int64_t delay_ms = 10 * 60 * 1000;
  // Spark drops rows older than the watermark (event_time < W) before deduplicating; they are
  // counted in late_rows. When false, such rows are deduplicated like the others, and their
  // key is remembered until W + delay (as if it had arrived at the watermark).
  bool drop_late_rows = true;
};

struct DedupStats {
  uint64_t keys = 0;         // state entries (may include expired ones not yet swept)
  uint64_t bytes = 0;        // all heap bytes of the state
  uint64_t table_bytes = 0;  // of which the hash tables (12 bytes per slot)
  uint64_t delta_bytes = 0;  // of which the logs of keys inserted since MarkCheckpointed()
  uint64_t rows_in = 0;
  uint64_t rows_kept = 0;
  uint64_t duplicates_dropped = 0;
  uint64_t late_rows = 0;  // event_time < W (or null event time), dropped
};

// One state entry, for tests and tools.
struct DedupEntry {
  uint64_t key_hash;
  uint32_t expires_at_sec;
  bool operator==(const DedupEntry&) const = default;
  auto operator<=>(const DedupEntry&) const = default;
};

// Streaming deduplication with Spark's dropDuplicatesWithinWatermark semantics.
//
// A row's key is HashBytes(key column value) (a null key hashes to a fixed sentinel, so nulls
// are duplicates of each other, as in Spark). The first copy of a key wins; later copies are
// dropped while the key's state entry lives. The entry stores the first copy's expiry time
// t + delay, rounded UP to whole seconds (4 bytes); it expires once that is < W, so a key may
// be remembered up to 1 s longer than the delay, never shorter. An expired key seen again is a
// new first copy and is kept (Spark's behaviour).
//
// Key width: 64-bit hashes. A new key is wrongly dropped only if its hash equals one of the
// n live keys of its partition: probability n / 2^64 per new key, 6.5e-12 at n = 120 M (all in
// one partition), i.e. ~0.1 false drops per day at 200 k new keys/s; spread over P partitions
// it is P times smaller. 48-bit hashes would make it ~7000/day, hence 64.
//
// State is partitioned by the int32 partition column (Kafka partition; null counts as -1).
// Each partition is a flat open-addressing table (8-slot buckets, linear probing over buckets,
// parallel arrays of 8-byte hashes and 4-byte expiry seconds): 12 bytes per slot at a load
// factor kept in [0.6, 0.9], ~13-20 bytes per key. Expired entries are swept in bulk (a
// rebuild) when the table has grown by 1/8 since the last sweep or would otherwise grow, so
// eviction costs O(1) amortized per key; until swept, expired entries behave as absent.
//
// Checkpointing: SerializeSnapshot(p) writes the partition's live entries;
// SerializeDelta(p) writes the entries inserted since MarkCheckpointed() (evictions are implied
// by the watermark). Restore(p, snapshot, deltas, W) rebuilds exactly the live state as of the
// last delta given watermark W.
//
// Duplicates are only detected within one source partition: the design assumes a retried
// event lands in the partition of its first copy (Kafka producer retries do; producers key
// by a stable id). Spark would shuffle by key instead.
//
// State blob (state_codec framing, magic "SDDP", version 1): kind u8 (1 snapshot, 2 delta),
// partition i32, delay_ms i64, count u64, then count x (key hash u64, expiry second u32).
//
// Lifecycle per micro-batch: Evict(W_batch); Process(...) for each input batch; then, when the
// engine checkpoints, Serialize*() and MarkCheckpointed(). Not thread-safe.
class Deduplicator {
 public:
  static Result<std::unique_ptr<Deduplicator>> Create(const DedupOptions& options);
  ~Deduplicator();

  // Appends to `keep_rows` the indices of the rows to keep (first copies, not late), in input
  // order. `key_col` is string/binary, `event_time_col` timestamp (micros), `partition_col`
  // int32. Uses the watermark of the last Evict(). InvalidArgument if a column is missing or
  // of the wrong type; state and keep_rows are unchanged then.
  Status Process(const RecordBatch& batch, std::string_view key_col,
                 std::string_view event_time_col, std::string_view partition_col,
                 std::vector<uint32_t>* keep_rows);

  // Advances the watermark (never backwards) to `watermark_micros`; keys whose expiry is before
  // it are dropped (lazily, see class comment) and rows with event_time before it are late.
  void Evict(int64_t watermark_micros);
  int64_t watermark() const { return watermark_; }

  DedupStats stats() const;
  std::vector<int32_t> Partitions() const;
  // Live entries of `partition`, sorted; empty if the partition is unknown.
  std::vector<DedupEntry> Entries(int32_t partition) const;

  std::string SerializeSnapshot(int32_t partition) const;
  std::string SerializeDelta(int32_t partition) const;
  // Starts a new delta for every partition.
  void MarkCheckpointed();
  // Replaces the state of `partition` by `snapshot` (may be empty: no snapshot) plus `deltas`
  // applied in order, then evicts with `watermark_micros` (also advancing this operator's
  // watermark to it). Corruption on a bad blob or one of another partition; the partition's
  // previous state is kept then.
  Status Restore(int32_t partition, std::string_view snapshot,
                 std::span<const std::string_view> deltas, int64_t watermark_micros);
  // Forgets a partition (it moved to another process).
  void DropPartition(int32_t partition);

  class Table;  // implementation detail, in dedup.cc

 private:
  explicit Deduplicator(const DedupOptions& options);
  Table* GetTable(int32_t partition);

  DedupOptions options_;
  int64_t delay_micros_;
  int64_t watermark_ = kNoWatermark;
  // Smallest expiry second that is still alive under watermark_.
  uint32_t min_alive_sec_ = 0;
  std::unordered_map<int32_t, std::unique_ptr<Table>> tables_;
  int32_t last_partition_ = 0;
  Table* last_table_ = nullptr;
  uint64_t rows_in_ = 0;
  uint64_t rows_kept_ = 0;
  uint64_t duplicates_dropped_ = 0;
  uint64_t late_rows_ = 0;
};

}  // namespace strata
