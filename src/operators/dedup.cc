#include "operators/dedup.h"

#include <algorithm>
#include <cmath>
#include <cstring>

#include "core/hash.h"
#include "operators/column_access.h"
#include "operators/state_codec.h"

namespace strata {
namespace {

constexpr char kMagic[4] = {'S', 'D', 'D', 'P'};
constexpr uint8_t kVersion = 1;
constexpr uint8_t kKindSnapshot = 1;
constexpr uint8_t kKindDelta = 2;
constexpr size_t kBucketSlots = 8;
constexpr size_t kMinSlots = 64;
constexpr double kMaxLoad = 0.9;
constexpr double kTargetLoad = 0.6;
constexpr uint64_t kNullKeyHash = 0x6e756c6c6b657921ull;  // any fixed value
constexpr size_t kChunkRows = 32;

inline uint64_t NonZero(uint64_t h) {
  return h == 0 ? 1 : h;
}

// ceil(micros / 1e6) clamped to [0, 2^32 - 1].
inline uint32_t CeilSeconds(int64_t micros) {
  if (micros <= 0) return 0;
  const int64_t s = (micros + 999'999) / 1'000'000;
  return s > int64_t{UINT32_MAX} ? UINT32_MAX : static_cast<uint32_t>(s);
}

inline int64_t SaturatingAdd(int64_t a, int64_t b) {
  int64_t r;
  if (__builtin_add_overflow(a, b, &r)) return a < 0 ? INT64_MIN : INT64_MAX;
  return r;
}

size_t SlotsFor(size_t live) {
  size_t slots = static_cast<size_t>(std::ceil(static_cast<double>(live) / kTargetLoad));
  slots = std::max(slots, kMinSlots);
  return (slots + kBucketSlots - 1) / kBucketSlots * kBucketSlots;
}

}  // namespace

// One partition's key set: see the class comment in dedup.h.
class Deduplicator::Table {
 public:
  explicit Table(size_t slots = kMinSlots) { Allocate(slots); }

  size_t BucketOf(uint64_t h) const {
    return static_cast<size_t>((static_cast<__uint128_t>(h) * num_buckets_) >> 64);
  }
  void Prefetch(size_t bucket) const { __builtin_prefetch(hashes_.data() + bucket * kBucketSlots); }

  // Inserts `h` unless a live entry (expiry >= min_alive) exists. True if inserted (a first
  // copy); the insertion is logged for the next delta.
  bool Insert(uint64_t h, size_t bucket, uint32_t expires, uint32_t min_alive) {
    for (;;) {
      uint64_t* hb = hashes_.data() + bucket * kBucketSlots;
      for (size_t j = 0; j < kBucketSlots; ++j) {
        if (hb[j] == h) {
          uint32_t& e = expires_[bucket * kBucketSlots + j];
          if (e >= min_alive) return false;
          e = expires;
          min_expires_ = std::min(min_expires_, expires);
          Log(h, expires);
          return true;
        }
        if (hb[j] == 0) {
          hb[j] = h;
          expires_[bucket * kBucketSlots + j] = expires;
          min_expires_ = std::min(min_expires_, expires);
          ++size_;
          Log(h, expires);
          if (size_ > max_size_) Rebuild(min_alive);
          return true;
        }
      }
      if (++bucket == num_buckets_) bucket = 0;
    }
  }

  // Sets the expiry of `h`, inserting it if absent (restore path; not logged).
  void Upsert(uint64_t h, uint32_t expires) {
    size_t bucket = BucketOf(h);
    for (;;) {
      uint64_t* hb = hashes_.data() + bucket * kBucketSlots;
      for (size_t j = 0; j < kBucketSlots; ++j) {
        if (hb[j] == h || hb[j] == 0) {
          if (hb[j] == 0) ++size_;
          hb[j] = h;
          expires_[bucket * kBucketSlots + j] = expires;
          min_expires_ = std::min(min_expires_, expires);
          if (size_ > max_size_) Rebuild(0);
          return;
        }
      }
      if (++bucket == num_buckets_) bucket = 0;
    }
  }

  // Drops expired entries when that is worth a pass (see dedup.h).
  void MaybeSweep(uint32_t min_alive) {
    if (min_expires_ >= min_alive) return;
    if (size_ < sweep_at_) return;
    Rebuild(min_alive);
  }

  // Rehashes the live entries into arrays sized for them.
  void Rebuild(uint32_t min_alive) {
    size_t live = 0;
    for (size_t s = 0; s < hashes_.size(); ++s) {
      live += hashes_[s] != 0 && expires_[s] >= min_alive;
    }
    std::vector<uint64_t> old_hashes;
    std::vector<uint32_t> old_expires;
    old_hashes.swap(hashes_);
    old_expires.swap(expires_);
    Allocate(SlotsFor(live));
    for (size_t s = 0; s < old_hashes.size(); ++s) {
      if (old_hashes[s] != 0 && old_expires[s] >= min_alive) Place(old_hashes[s], old_expires[s]);
    }
    sweep_at_ = std::max(kMinSlots, size_ + size_ / 8);
  }

  void ForEachLive(uint32_t min_alive, auto&& fn) const {
    for (size_t s = 0; s < hashes_.size(); ++s) {
      if (hashes_[s] != 0 && expires_[s] >= min_alive) fn(hashes_[s], expires_[s]);
    }
  }

  size_t size() const { return size_; }
  // Changes whenever the arrays are reallocated (bucket indices become stale).
  uint64_t generation() const { return generation_; }
  size_t TableBytes() const { return hashes_.capacity() * 8 + expires_.capacity() * 4; }
  size_t DeltaBytes() const { return delta_hashes_.capacity() * 8 + delta_expires_.capacity() * 4; }
  const std::vector<uint64_t>& delta_hashes() const { return delta_hashes_; }
  const std::vector<uint32_t>& delta_expires() const { return delta_expires_; }
  // Keeps the capacity for the next batch's inserts unless it is far larger than this one's.
  void ClearDelta() {
    if (delta_hashes_.capacity() > 4 * delta_hashes_.size() + 1024) {
      std::vector<uint64_t>().swap(delta_hashes_);
      std::vector<uint32_t>().swap(delta_expires_);
    }
    delta_hashes_.clear();
    delta_expires_.clear();
  }

 private:
  void Allocate(size_t slots) {
    hashes_.assign(slots, 0);
    expires_.assign(slots, 0);
    num_buckets_ = slots / kBucketSlots;
    ++generation_;
    max_size_ = static_cast<size_t>(static_cast<double>(slots) * kMaxLoad);
    size_ = 0;
    min_expires_ = UINT32_MAX;
  }
  // Inserts a key known to be absent, without logging or growth checks.
  void Place(uint64_t h, uint32_t expires) {
    size_t bucket = BucketOf(h);
    for (;;) {
      uint64_t* hb = hashes_.data() + bucket * kBucketSlots;
      for (size_t j = 0; j < kBucketSlots; ++j) {
        if (hb[j] == 0) {
          hb[j] = h;
          expires_[bucket * kBucketSlots + j] = expires;
          min_expires_ = std::min(min_expires_, expires);
          ++size_;
          return;
        }
      }
      if (++bucket == num_buckets_) bucket = 0;
    }
  }
  void Log(uint64_t h, uint32_t expires) {
    delta_hashes_.push_back(h);
    delta_expires_.push_back(expires);
  }

  std::vector<uint64_t> hashes_;  // 0 = empty slot
  std::vector<uint32_t> expires_;
  size_t num_buckets_ = 0;
  size_t size_ = 0;
  size_t max_size_ = 0;
  size_t sweep_at_ = kMinSlots;
  uint32_t min_expires_ = UINT32_MAX;
  uint64_t generation_ = 0;
  std::vector<uint64_t> delta_hashes_;
  std::vector<uint32_t> delta_expires_;
};

Result<std::unique_ptr<Deduplicator>> Deduplicator::Create(const DedupOptions& options) {
  if (options.delay_ms < 0) {
    return InvalidArgument("dedup delay must be >= 0 ms, got " + std::to_string(options.delay_ms));
  }
  return std::unique_ptr<Deduplicator>(new Deduplicator(options));
}

Deduplicator::Deduplicator(const DedupOptions& options)
    : options_(options), delay_micros_(options.delay_ms * 1000) {}

Deduplicator::~Deduplicator() = default;

Deduplicator::Table* Deduplicator::GetTable(int32_t partition) {
  if (last_table_ != nullptr && last_partition_ == partition) return last_table_;
  auto& slot = tables_[partition];
  if (!slot) slot = std::make_unique<Table>();
  last_partition_ = partition;
  last_table_ = slot.get();
  return last_table_;
}

Status Deduplicator::Process(const RecordBatch& batch, std::string_view key_col,
                             std::string_view event_time_col, std::string_view partition_col,
                             std::vector<uint32_t>* keep_rows) {
  STRATA_ASSIGN_OR_RETURN(const Column* keys, FindColumn(batch, key_col, TypeId::kString, "dedup"));
  STRATA_ASSIGN_OR_RETURN(const Column* times,
                          FindColumn(batch, event_time_col, TypeId::kTimestamp, "dedup"));
  STRATA_ASSIGN_OR_RETURN(const Column* parts,
                          FindColumn(batch, partition_col, TypeId::kInt32, "dedup"));
  const size_t n = batch.num_rows();
  const int64_t* t = times->int64_data();
  const uint8_t* tvalid = times->validity();
  const int32_t* pv = parts->int32_data();
  const uint8_t* pvalid = parts->validity();
  const uint8_t* kvalid = keys->validity();
  const uint32_t* koff = keys->offsets();
  const char* kchars = keys->chars();
  const int64_t wm = watermark_;
  const uint32_t min_alive = min_alive_sec_;

  uint64_t hashes[kChunkRows];
  size_t buckets[kChunkRows];
  Table* tables[kChunkRows];
  uint32_t rows[kChunkRows];
  uint32_t expires[kChunkRows];
  uint64_t generations[kChunkRows];
  rows_in_ += n;
  for (size_t start = 0; start < n; start += kChunkRows) {
    const size_t end = std::min(n, start + kChunkRows);
    size_t m = 0;
    // Pass 1: filter late rows, hash keys, locate and prefetch buckets.
    for (size_t i = start; i < end; ++i) {
      if (!tvalid[i] || (options_.drop_late_rows && t[i] < wm)) {
        ++late_rows_;
        continue;
      }
      const uint64_t h =
          kvalid[i] ? NonZero(HashBytes(std::string_view(kchars + koff[i], koff[i + 1] - koff[i])))
                    : kNullKeyHash;
      Table* table = GetTable(pvalid[i] ? pv[i] : -1);
      const size_t bucket = table->BucketOf(h);
      table->Prefetch(bucket);
      hashes[m] = h;
      buckets[m] = bucket;
      generations[m] = table->generation();
      tables[m] = table;
      rows[m] = static_cast<uint32_t>(i);
      // A late row that is kept (drop_late_rows = false) is remembered for `delay` past W.
      expires[m] = CeilSeconds(SaturatingAdd(std::max(t[i], wm), delay_micros_));
      ++m;
    }
    // Pass 2: probe and insert. An insert may rebuild a table, which invalidates the buckets
    // computed for later rows of that table; recompute them after a size change.
    for (size_t k = 0; k < m; ++k) {
      Table* table = tables[k];
      size_t bucket = buckets[k];
      if (table->generation() != generations[k]) bucket = table->BucketOf(hashes[k]);
      if (table->Insert(hashes[k], bucket, expires[k], min_alive)) {
        keep_rows->push_back(rows[k]);
        ++rows_kept_;
      } else {
        ++duplicates_dropped_;
      }
    }
  }
  return Status::OK();
}

void Deduplicator::Evict(int64_t watermark_micros) {
  if (watermark_micros <= watermark_) return;
  watermark_ = watermark_micros;
  min_alive_sec_ = CeilSeconds(watermark_);
  for (auto& [p, table] : tables_) table->MaybeSweep(min_alive_sec_);
}

DedupStats Deduplicator::stats() const {
  DedupStats s;
  for (const auto& [p, table] : tables_) {
    s.keys += table->size();
    s.table_bytes += table->TableBytes();
    s.delta_bytes += table->DeltaBytes();
  }
  s.bytes = s.table_bytes + s.delta_bytes + tables_.size() * sizeof(Table);
  s.rows_in = rows_in_;
  s.rows_kept = rows_kept_;
  s.duplicates_dropped = duplicates_dropped_;
  s.late_rows = late_rows_;
  return s;
}

std::vector<int32_t> Deduplicator::Partitions() const {
  std::vector<int32_t> out;
  for (const auto& [p, table] : tables_) out.push_back(p);
  std::sort(out.begin(), out.end());
  return out;
}

std::vector<DedupEntry> Deduplicator::Entries(int32_t partition) const {
  std::vector<DedupEntry> out;
  auto it = tables_.find(partition);
  if (it == tables_.end()) return out;
  it->second->ForEachLive(min_alive_sec_, [&](uint64_t h, uint32_t e) {
    out.push_back(DedupEntry{h, e});
  });
  std::sort(out.begin(), out.end());
  return out;
}

std::string Deduplicator::SerializeSnapshot(int32_t partition) const {
  state_codec::Writer w(kMagic, kVersion);
  w.U8(kKindSnapshot);
  w.I32(partition);
  w.I64(options_.delay_ms);
  auto it = tables_.find(partition);
  uint64_t count = 0;
  const size_t count_pos = w.buffer()->size();
  w.U64(0);
  if (it != tables_.end()) {
    it->second->ForEachLive(min_alive_sec_, [&](uint64_t h, uint32_t e) {
      w.U64(h);
      w.U32(e);
      ++count;
    });
  }
  std::memcpy(w.buffer()->data() + count_pos, &count, 8);
  return w.Finish();
}

std::string Deduplicator::SerializeDelta(int32_t partition) const {
  state_codec::Writer w(kMagic, kVersion);
  w.U8(kKindDelta);
  w.I32(partition);
  w.I64(options_.delay_ms);
  auto it = tables_.find(partition);
  if (it == tables_.end()) {
    w.U64(0);
    return w.Finish();
  }
  const auto& hs = it->second->delta_hashes();
  const auto& es = it->second->delta_expires();
  w.U64(hs.size());
  for (size_t i = 0; i < hs.size(); ++i) {
    w.U64(hs[i]);
    w.U32(es[i]);
  }
  return w.Finish();
}

void Deduplicator::MarkCheckpointed() {
  for (auto& [p, table] : tables_) table->ClearDelta();
}

namespace {
Status ReadEntries(std::string_view blob, uint8_t want_kind, int32_t partition, int64_t delay_ms,
                   auto&& fn) {
  state_codec::Reader r(blob, want_kind == kKindSnapshot
                                  ? "dedup snapshot of partition " + std::to_string(partition)
                                  : "dedup delta of partition " + std::to_string(partition));
  STRATA_RETURN_IF_ERROR(r.Open(kMagic, kVersion));
  uint8_t kind;
  int32_t p;
  int64_t delay;
  uint64_t count;
  if (!r.U8(&kind) || !r.I32(&p) || !r.I64(&delay) || !r.U64(&count)) return r.Truncated();
  if (kind != want_kind) return Corruption(r.what() + ": wrong blob kind " + std::to_string(kind));
  if (p != partition) {
    return Corruption(r.what() + ": blob belongs to partition " + std::to_string(p));
  }
  if (delay != delay_ms) {
    return Corruption(r.what() + ": written with delay " + std::to_string(delay) +
                      " ms, configured " + std::to_string(delay_ms) + " ms");
  }
  if (r.remaining() != count * 12) return Corruption(r.what() + ": length does not match count");
  for (uint64_t i = 0; i < count; ++i) {
    uint64_t h;
    uint32_t e;
    if (!r.U64(&h) || !r.U32(&e)) return r.Truncated();
    if (h == 0) return Corruption(r.what() + ": zero key hash");
    fn(h, e);
  }
  return Status::OK();
}
}  // namespace

Status Deduplicator::Restore(int32_t partition, std::string_view snapshot,
                             std::span<const std::string_view> deltas, int64_t watermark_micros) {
  auto table = std::make_unique<Table>();
  Table* t = table.get();
  auto upsert = [t](uint64_t h, uint32_t e) { t->Upsert(h, e); };
  if (!snapshot.empty()) {
    STRATA_RETURN_IF_ERROR(
        ReadEntries(snapshot, kKindSnapshot, partition, options_.delay_ms, upsert));
  }
  for (std::string_view d : deltas) {
    STRATA_RETURN_IF_ERROR(ReadEntries(d, kKindDelta, partition, options_.delay_ms, upsert));
  }
  if (watermark_micros > watermark_) {
    watermark_ = watermark_micros;
    min_alive_sec_ = CeilSeconds(watermark_);
  }
  t->Rebuild(min_alive_sec_);
  t->ClearDelta();
  tables_[partition] = std::move(table);
  last_table_ = nullptr;
  return Status::OK();
}

void Deduplicator::DropPartition(int32_t partition) {
  tables_.erase(partition);
  last_table_ = nullptr;
}

}  // namespace strata
