#include "operators/window_aggregator.h"

#include <algorithm>
#include <cassert>
#include <cmath>
#include <cstring>
#include <limits>

#include "core/hash.h"
#include "operators/column_access.h"
#include "operators/state_codec.h"

namespace strata {
namespace {

constexpr char kMagic[4] = {'S', 'W', 'A', 'G'};
// Version 2 (a delta may carry only the sketch entries raised since the last checkpoint) reads
// version 1 blobs too.
constexpr uint8_t kVersion = 2;
constexpr uint8_t kSketchFull = 0;     // the whole sketch, serialized
constexpr uint8_t kSketchEntries = 1;  // entries to fold into the group's sketch
constexpr uint8_t kKindSnapshot = 1;
constexpr uint8_t kKindDelta = 2;
constexpr uint64_t kNullKeyHash = 0x6e756c6c6b657921ull;

inline uint64_t GroupHash(int64_t window_start, uint64_t key_hash) {
  return Mix64(key_hash ^ 0xa0761d6478bd642full,
               static_cast<uint64_t>(window_start) ^ 0xe7037ed1a0b428dbull);
}

inline int64_t WrapAdd(int64_t a, int64_t b) {
  return static_cast<int64_t>(static_cast<uint64_t>(a) + static_cast<uint64_t>(b));
}

}  // namespace

int64_t LastWindowStart(int64_t t, int64_t slide, int64_t offset) {
  const int64_t d = t - offset;
  int64_t q = d / slide;
  if (d % slide != 0 && d < 0) --q;
  return q * slide + offset;
}

struct Group {
  int64_t window_start;
  uint64_t key_hash;
  uint32_t key_offset;
  uint32_t key_len;
  bool key_null;
  bool updated;  // since the last EmitUpdated
  bool changed;  // since the last MarkCheckpointed
  int64_t count;
  int64_t value_count;
  int64_t sum;
  int64_t min;
  int64_t max;
  HyperLogLog hll;
};

// One source partition's groups: a vector of groups, an arena for their key strings and an
// open-addressing index (group index + 1, 0 = empty) over (window_start, key).
struct WindowAggregator::PartitionState {
  explicit PartitionState(int precision) : precision(precision) { index.assign(16, 0); }

  std::string_view Key(const Group& g) const {
    return std::string_view(keys.data() + g.key_offset, g.key_len);
  }
  bool Matches(const Group& g, int64_t ws, uint64_t kh, std::string_view key, bool null) const {
    return g.window_start == ws && g.key_hash == kh && g.key_null == null &&
           (null || Key(g) == key);
  }
  // Index of the group or -1.
  int64_t Find(int64_t ws, uint64_t kh, std::string_view key, bool null) const {
    const size_t mask = index.size() - 1;
    for (size_t s = GroupHash(ws, kh) & mask;; s = (s + 1) & mask) {
      const uint32_t v = index[s];
      if (v == 0) return -1;
      if (Matches(groups[v - 1], ws, kh, key, null)) return v - 1;
    }
  }
  // Prefetches what FindOrInsert(ws, kh, ...) reads: with `stage` 0 the index slot, with 1 the
  // group the slot points to (when the slot was already fetched).
  void Prefetch(int64_t ws, uint64_t kh, int stage) const {
    const uint32_t* slot = &index[GroupHash(ws, kh) & (index.size() - 1)];
    if (stage == 0) {
      __builtin_prefetch(slot);
    } else if (*slot != 0) {
      __builtin_prefetch(&groups[*slot - 1]);
    }
  }
  Group& FindOrInsert(int64_t ws, uint64_t kh, std::string_view key, bool null) {
    const size_t mask = index.size() - 1;
    size_t s = GroupHash(ws, kh) & mask;
    for (;; s = (s + 1) & mask) {
      const uint32_t v = index[s];
      if (v == 0) break;
      Group& g = groups[v - 1];
      if (Matches(g, ws, kh, key, null)) return g;
    }
    Group g{ws,
            kh,
            static_cast<uint32_t>(keys.size()),
            static_cast<uint32_t>(key.size()),
            null,
            false,
            false,
            0,
            0,
            0,
            std::numeric_limits<int64_t>::max(),
            std::numeric_limits<int64_t>::min(),
            HyperLogLog(precision)};
    keys.append(key.data(), key.size());
    groups.push_back(std::move(g));
    index[s] = static_cast<uint32_t>(groups.size());
    if (groups.size() * 2 > index.size()) Reindex(index.size() * 2);
    return groups.back();
  }
  void Reindex(size_t slots) {
    index.assign(slots, 0);
    const size_t mask = slots - 1;
    for (size_t i = 0; i < groups.size(); ++i) {
      size_t s = GroupHash(groups[i].window_start, groups[i].key_hash) & mask;
      while (index[s] != 0) s = (s + 1) & mask;
      index[s] = static_cast<uint32_t>(i + 1);
    }
  }
  // Removes the groups for which pred(group) holds; compacts the arena.
  template <typename Pred>
  void RemoveIf(Pred pred) {
    std::vector<Group> kept;
    std::string kept_keys;
    for (Group& g : groups) {
      if (pred(g)) continue;
      const uint32_t off = static_cast<uint32_t>(kept_keys.size());
      kept_keys.append(Key(g));
      g.key_offset = off;
      kept.push_back(std::move(g));
    }
    groups = std::move(kept);
    keys = std::move(kept_keys);
    size_t slots = 16;
    while (slots < groups.size() * 2 + 2) slots *= 2;
    Reindex(slots);
  }
  size_t MemoryBytes() const {
    size_t b = groups.capacity() * sizeof(Group) + keys.capacity() + index.capacity() * 4;
    for (const Group& g : groups) b += g.hll.MemoryBytes();
    return b;
  }

  int precision;
  std::vector<Group> groups;
  std::string keys;
  std::vector<uint32_t> index;
};

Result<std::unique_ptr<WindowAggregator>> WindowAggregator::Create(
    const WindowAggregatorOptions& options) {
  WindowAggregatorOptions o = options;
  if (o.slide_micros == 0) o.slide_micros = o.size_micros;
  if (o.size_micros <= 0) {
    return InvalidArgument("window size must be > 0 us, got " + std::to_string(o.size_micros));
  }
  if (o.slide_micros <= 0 || o.slide_micros > o.size_micros) {
    return InvalidArgument("window slide must be in (0, size], got " +
                           std::to_string(o.slide_micros));
  }
  if (!HyperLogLog::IsValidPrecision(o.hll_precision)) {
    return InvalidArgument("HyperLogLog precision must be in [4, 18], got " +
                           std::to_string(o.hll_precision));
  }
  if (o.event_time_column.empty() || o.partition_column.empty()) {
    return InvalidArgument("window aggregator needs an event time and a partition column");
  }
  return std::unique_ptr<WindowAggregator>(new WindowAggregator(o));
}

WindowAggregator::WindowAggregator(const WindowAggregatorOptions& options) : options_(options) {
  std::vector<Field> fields = {{"window_start", TypeId::kTimestamp, false},
                               {"window_end", TypeId::kTimestamp, false}};
  if (!options_.key_column.empty()) fields.push_back({options_.key_column, TypeId::kString, true});
  fields.push_back({"event_count", TypeId::kInt64, false});
  fields.push_back({"unique_users", TypeId::kInt64, true});
  fields.push_back({"users_sketch", TypeId::kBinary, true});
  fields.push_back({"is_final", TypeId::kBool, false});
  if (!options_.value_column.empty()) {
    fields.push_back({"sum_" + options_.value_column, TypeId::kInt64, true});
    fields.push_back({"min_" + options_.value_column, TypeId::kInt64, true});
    fields.push_back({"max_" + options_.value_column, TypeId::kInt64, true});
  }
  output_schema_ = std::make_shared<const Schema>(std::move(fields));
}

WindowAggregator::~WindowAggregator() = default;

WindowAggregator::PartitionState* WindowAggregator::GetPartition(int32_t partition) {
  if (last_state_ != nullptr && last_partition_ == partition) return last_state_;
  auto& slot = partitions_[partition];
  if (!slot) slot = std::make_unique<PartitionState>(options_.hll_precision);
  last_partition_ = partition;
  last_state_ = slot.get();
  return last_state_;
}

Status WindowAggregator::Process(const RecordBatch& batch, int64_t watermark_micros) {
  constexpr std::string_view kOp = "window aggregator";
  STRATA_ASSIGN_OR_RETURN(const Column* times,
                          FindColumn(batch, options_.event_time_column, TypeId::kTimestamp, kOp));
  STRATA_ASSIGN_OR_RETURN(const Column* parts,
                          FindColumn(batch, options_.partition_column, TypeId::kInt32, kOp));
  const Column* keys = nullptr;
  const Column* distinct = nullptr;
  const Column* values = nullptr;
  if (!options_.key_column.empty()) {
    STRATA_ASSIGN_OR_RETURN(keys, FindColumn(batch, options_.key_column, TypeId::kString, kOp));
  }
  if (!options_.distinct_column.empty()) {
    STRATA_ASSIGN_OR_RETURN(distinct,
                            FindColumn(batch, options_.distinct_column, TypeId::kString, kOp));
  }
  if (!options_.value_column.empty()) {
    STRATA_ASSIGN_OR_RETURN(values, FindColumn(batch, options_.value_column, TypeId::kInt64, kOp));
  }
  const int64_t wm = std::max(watermark_micros, final_watermark_);
  const int64_t size = options_.size_micros;
  const int64_t slide = options_.slide_micros;
  const size_t n = batch.num_rows();
  const int64_t* t = times->int64_data();
  const uint8_t* tvalid = times->validity();
  const int32_t* pv = parts->int32_data();
  const uint8_t* pvalid = parts->validity();
  rows_in_ += n;
  // With many groups (partitions x keys x windows) most lookups miss the cache twice, on the index
  // slot and on the group. Rows then go in blocks: the key hashes of a block are computed first
  // and its rows' index slots prefetched, then their groups, then the block is aggregated. A
  // state that fits the cache skips the prefetching passes (they cost ~8% there).
  constexpr size_t kBlock = 32;
  constexpr size_t kPrefetchAboveGroups = 32 * 1024;
  const bool prefetch = group_count() > kPrefetchAboveGroups;
  uint64_t key_hashes[kBlock];
  const PartitionState* block_states[kBlock];  // null: the row has no state to prefetch from
  int64_t block_starts[kBlock];                // the row's last window start
  auto key_hash = [&](size_t r) {
    return keys != nullptr && keys->IsValid(r) ? HashBytes(keys->String(r)) : kNullKeyHash;
  };
  // The state a row's partition already has (null when none: nothing to prefetch).
  auto existing = [&](size_t r) -> const PartitionState* {
    const int32_t p = pvalid[r] ? pv[r] : -1;
    if (last_state_ != nullptr && last_partition_ == p) return last_state_;
    auto it = partitions_.find(p);
    return it == partitions_.end() ? nullptr : it->second.get();
  };
  for (size_t i = 0; i < n; ++i) {
    const size_t in_block = i % kBlock;
    if (prefetch && in_block == 0) {
      const size_t count = std::min(n - i, kBlock);
      for (size_t b = 0; b < count; ++b) {
        key_hashes[b] = key_hash(i + b);
        block_states[b] = tvalid[i + b] ? existing(i + b) : nullptr;
        if (block_states[b] != nullptr) {
          block_starts[b] = LastWindowStart(t[i + b], slide, options_.offset_micros);
          block_states[b]->Prefetch(block_starts[b], key_hashes[b], 0);
        }
      }
      for (size_t b = 0; b < count; ++b) {
        if (block_states[b] != nullptr)
          block_states[b]->Prefetch(block_starts[b], key_hashes[b], 1);
      }
    }
    if (!tvalid[i]) {
      ++rows_null_event_time_;
      continue;
    }
    const int64_t ts = t[i];
    std::string_view key;
    bool key_null = true;
    const uint64_t kh = prefetch ? key_hashes[in_block] : key_hash(i);
    if (keys != nullptr && keys->IsValid(i)) {
      key = keys->String(i);
      key_null = false;
    }
    const bool has_distinct = distinct != nullptr && distinct->IsValid(i);
    const uint64_t dh = has_distinct ? HashBytes(distinct->String(i)) : 0;
    const bool has_value = values != nullptr && values->IsValid(i);
    const int64_t v = has_value ? values->Int64(i) : 0;
    PartitionState* ps = nullptr;
    for (int64_t s = LastWindowStart(ts, slide, options_.offset_micros); s > ts - size;
         s -= slide) {
      if (s + size <= wm) {
        ++rows_dropped_by_watermark_;
        continue;
      }
      if (ps == nullptr) ps = GetPartition(pvalid[i] ? pv[i] : -1);
      Group& g = ps->FindOrInsert(s, kh, key, key_null);
      ++g.count;
      g.updated = true;
      g.changed = true;
      if (has_distinct) g.hll.Add(dh);
      if (has_value) {
        ++g.value_count;
        g.sum = WrapAdd(g.sum, v);
        g.min = std::min(g.min, v);
        g.max = std::max(g.max, v);
      }
    }
  }
  return Status::OK();
}

namespace {

struct GroupRef {
  const Group* group;
  std::string_view key;
};

bool KeyLess(const GroupRef& a, const GroupRef& b) {
  if (a.group->window_start != b.group->window_start) {
    return a.group->window_start < b.group->window_start;
  }
  if (a.group->key_null != b.group->key_null) return a.group->key_null;
  return a.key < b.key;
}

bool SameKey(const GroupRef& a, const GroupRef& b) {
  return a.group->window_start == b.group->window_start && a.group->key_null == b.group->key_null &&
         a.key == b.key;
}

}  // namespace

RecordBatch WindowAggregator::Emit(bool final, int64_t watermark_micros) {
  const int64_t size = options_.size_micros;
  // Collect the runs of groups to emit: for final, every group of a closed window; for update,
  // every partition's group for each (window, key) that changed anywhere.
  std::vector<GroupRef> refs;
  std::vector<PartitionState*> with_final;  // partitions holding a group of a closed window
  for (auto& [p, ps] : partitions_) {
    const size_t before = refs.size();
    for (Group& g : ps->groups) {
      const bool take = final ? g.window_start + size <= watermark_micros : g.updated;
      if (take) refs.push_back({&g, ps->Key(g)});
    }
    if (final && refs.size() > before) with_final.push_back(ps.get());
  }
  if (!final && partitions_.size() > 1) {
    // Each updated (window, key) once (a hash set over refs), sorted, then every partition's
    // group of it: the runs come out in key order without sorting the partitions' copies.
    std::vector<GroupRef> keys;
    {
      size_t slots = 16;
      while (slots < refs.size() * 2) slots *= 2;
      std::vector<uint32_t> set(slots, 0);  // index into keys + 1, 0 = empty
      for (const GroupRef& r : refs) {
        size_t s = GroupHash(r.group->window_start, r.group->key_hash) & (slots - 1);
        for (; set[s] != 0; s = (s + 1) & (slots - 1)) {
          const GroupRef& k = keys[set[s] - 1];
          if (k.group->key_hash == r.group->key_hash && SameKey(k, r)) break;
        }
        if (set[s] != 0) continue;
        keys.push_back(r);
        set[s] = static_cast<uint32_t>(keys.size());
      }
    }
    std::sort(keys.begin(), keys.end(), KeyLess);
    refs.clear();
    for (const GroupRef& r : keys) {
      for (auto& [p, ps] : partitions_) {
        const int64_t gi =
            ps->Find(r.group->window_start, r.group->key_hash, r.key, r.group->key_null);
        if (gi >= 0) refs.push_back({&ps->groups[gi], ps->Key(ps->groups[gi])});
      }
    }
  } else {
    std::stable_sort(refs.begin(), refs.end(), KeyLess);
  }

  RecordBatch out(output_schema_);
  size_t col = 0;
  Column& c_start = out.column(col++);
  Column& c_end = out.column(col++);
  Column* c_key = options_.key_column.empty() ? nullptr : &out.column(col++);
  Column& c_count = out.column(col++);
  Column& c_unique = out.column(col++);
  Column& c_sketch = out.column(col++);
  Column& c_final = out.column(col++);
  Column* c_sum = options_.value_column.empty() ? nullptr : &out.column(col++);
  Column* c_min = c_sum == nullptr ? nullptr : &out.column(col++);
  Column* c_max = c_sum == nullptr ? nullptr : &out.column(col++);
  std::string sketch;
  std::vector<const HyperLogLog*> sketches;  // the run's partial sketches
  for (size_t i = 0; i < refs.size();) {
    size_t j = i + 1;
    while (j < refs.size() && SameKey(refs[i], refs[j])) ++j;
    const Group& first = *refs[i].group;
    int64_t count = 0, value_count = 0, sum = 0;
    int64_t min = std::numeric_limits<int64_t>::max(), max = std::numeric_limits<int64_t>::min();
    HyperLogLog hll(options_.hll_precision);
    sketches.clear();
    for (size_t k = i; k < j; ++k) {
      const Group& g = *refs[k].group;
      count += g.count;
      value_count += g.value_count;
      sum = WrapAdd(sum, g.sum);
      min = std::min(min, g.min);
      max = std::max(max, g.max);
      sketches.push_back(&g.hll);
    }
    if (distinct_enabled()) {
      Status st = hll.MergeAll(sketches);
      assert(st.ok());
      (void)st;
    }
    c_start.AppendInt64(first.window_start);
    c_end.AppendInt64(first.window_start + size);
    if (c_key != nullptr) {
      if (first.key_null) {
        c_key->AppendNull();
      } else {
        c_key->AppendString(refs[i].key);
      }
    }
    c_count.AppendInt64(count);
    if (distinct_enabled()) {
      c_unique.AppendInt64(std::llround(hll.Estimate()));
      sketch.clear();
      hll.AppendSerialized(&sketch);
      c_sketch.AppendString(sketch);
    } else {
      c_unique.AppendNull();
      c_sketch.AppendNull();
    }
    c_final.AppendBool(final);
    if (c_sum != nullptr) {
      if (value_count == 0) {
        c_sum->AppendNull();
        c_min->AppendNull();
        c_max->AppendNull();
      } else {
        c_sum->AppendInt64(sum);
        c_min->AppendInt64(min);
        c_max->AppendInt64(max);
      }
    }
    i = j;
  }
  // Clear the update flags of everything emitted (including groups of other partitions that
  // were folded into an updated row).
  for (const GroupRef& r : refs) const_cast<Group*>(r.group)->updated = false;
  if (final) {
    rows_emitted_final_ += out.num_rows();
    // Only partitions that held a closed window are compacted (the others are unchanged).
    for (PartitionState* ps : with_final) {
      ps->RemoveIf([&](const Group& g) { return g.window_start + size <= watermark_micros; });
    }
  }
  return out;
}

RecordBatch WindowAggregator::EmitFinal(int64_t watermark_micros) {
  final_watermark_ = std::max(final_watermark_, watermark_micros);
  return Emit(true, final_watermark_);
}

RecordBatch WindowAggregator::EmitUpdated() {
  return Emit(false, final_watermark_);
}

WindowAggregatorStats WindowAggregator::stats() const {
  WindowAggregatorStats s;
  s.rows_in = rows_in_;
  s.rows_dropped_by_watermark = rows_dropped_by_watermark_;
  s.rows_null_event_time = rows_null_event_time_;
  s.rows_emitted_final = rows_emitted_final_;
  for (const auto& [p, ps] : partitions_) {
    s.groups += ps->groups.size();
    s.bytes += ps->MemoryBytes();
  }
  return s;
}

size_t WindowAggregator::group_count() const {
  size_t n = 0;
  for (const auto& [p, ps] : partitions_) n += ps->groups.size();
  return n;
}

std::vector<int32_t> WindowAggregator::Partitions() const {
  std::vector<int32_t> out;
  for (const auto& [p, ps] : partitions_) out.push_back(p);
  std::sort(out.begin(), out.end());
  return out;
}

namespace {

void WriteHeader(state_codec::Writer& w, uint8_t kind, int32_t partition,
                 const WindowAggregatorOptions& o) {
  w.U8(kind);
  w.I32(partition);
  w.I64(o.size_micros);
  w.I64(o.slide_micros);
  w.I64(o.offset_micros);
  w.U8(static_cast<uint8_t>(o.hll_precision));
  w.U8(o.key_column.empty() ? 0 : 1);
  w.U8(o.distinct_column.empty() ? 0 : 1);
  w.U8(o.value_column.empty() ? 0 : 1);
}

// `delta`: the group's sketch is written as the entries raised since its last MarkSaved when
// those are known, else whole.
void WriteGroup(state_codec::Writer& w, const Group& g, std::string_view key, bool distinct,
                bool delta) {
  w.I64(g.window_start);
  w.U8(g.key_null ? 1 : 0);
  w.Bytes(key);
  w.I64(g.count);
  w.I64(g.value_count);
  w.I64(g.sum);
  w.I64(g.min);
  w.I64(g.max);
  if (distinct) {
    std::span<const uint32_t> entries;
    // The entry list (unsorted, possibly with repeats) only while it is small; past m/16
    // entries the whole sketch is about as small.
    if (delta && g.hll.Changes(&entries) &&
        entries.size() <= (size_t{1} << g.hll.precision()) / 16) {
      w.U8(kSketchEntries);
      w.U32(static_cast<uint32_t>(entries.size()));
      for (uint32_t e : entries) w.U32(e);
      return;
    }
    w.U8(kSketchFull);
    std::string* buf = w.buffer();
    const size_t len_pos = buf->size();
    w.U32(0);
    g.hll.AppendSerialized(buf);
    const uint32_t len = static_cast<uint32_t>(buf->size() - len_pos - 4);
    std::memcpy(buf->data() + len_pos, &len, 4);
  }
}

}  // namespace

std::string WindowAggregator::SerializeSnapshot(int32_t partition) const {
  state_codec::Writer w(kMagic, kVersion);
  WriteHeader(w, kKindSnapshot, partition, options_);
  auto it = partitions_.find(partition);
  if (it == partitions_.end()) {
    w.U64(0);
    return w.Finish();
  }
  const PartitionState& ps = *it->second;
  w.U64(ps.groups.size());
  for (const Group& g : ps.groups) WriteGroup(w, g, ps.Key(g), distinct_enabled(), false);
  return w.Finish();
}

std::string WindowAggregator::SerializeDelta(int32_t partition) const {
  state_codec::Writer w(kMagic, kVersion);
  WriteHeader(w, kKindDelta, partition, options_);
  auto it = partitions_.find(partition);
  if (it == partitions_.end()) {
    w.U64(0);
    return w.Finish();
  }
  const PartitionState& ps = *it->second;
  uint64_t n = 0;
  for (const Group& g : ps.groups) n += g.changed;
  w.U64(n);
  for (const Group& g : ps.groups) {
    if (g.changed) WriteGroup(w, g, ps.Key(g), distinct_enabled(), true);
  }
  return w.Finish();
}

void WindowAggregator::MarkCheckpointed() {
  for (auto& [p, ps] : partitions_) {
    for (Group& g : ps->groups) {
      if (!g.changed) continue;
      g.changed = false;
      g.hll.MarkSaved();
    }
  }
}

Status WindowAggregator::ReadBlob(std::string_view blob, uint8_t kind, int32_t partition,
                                  PartitionState* ps) const {
  state_codec::Reader r(
      blob, std::string(kind == kKindSnapshot ? "window state snapshot" : "window state delta") +
                " of partition " + std::to_string(partition));
  STRATA_RETURN_IF_ERROR(r.Open(kMagic, 1, kVersion));
  uint8_t got_kind, p, has_key, has_distinct, has_value;
  int32_t got_partition;
  int64_t size, slide, offset;
  uint64_t count;
  if (!r.U8(&got_kind) || !r.I32(&got_partition) || !r.I64(&size) || !r.I64(&slide) ||
      !r.I64(&offset) || !r.U8(&p) || !r.U8(&has_key) || !r.U8(&has_distinct) ||
      !r.U8(&has_value) || !r.U64(&count)) {
    return r.Truncated();
  }
  if (got_kind != kind)
    return Corruption(r.what() + ": wrong blob kind " + std::to_string(got_kind));
  if (got_partition != partition) {
    return Corruption(r.what() + ": blob belongs to partition " + std::to_string(got_partition));
  }
  if (size != options_.size_micros || slide != options_.slide_micros ||
      offset != options_.offset_micros || p != options_.hll_precision ||
      has_key != (options_.key_column.empty() ? 0 : 1) ||
      has_distinct != (distinct_enabled() ? 1 : 0) ||
      has_value != (options_.value_column.empty() ? 0 : 1)) {
    return InvalidArgument(r.what() + ": written with other window options (size " +
                           std::to_string(size) + " us, slide " + std::to_string(slide) +
                           " us, precision " + std::to_string(p) + ")");
  }
  for (uint64_t i = 0; i < count; ++i) {
    int64_t ws;
    uint8_t key_null;
    std::string_view key;
    int64_t c, vc, sum, min, max;
    if (!r.I64(&ws) || !r.U8(&key_null) || !r.Bytes(&key) || !r.I64(&c) || !r.I64(&vc) ||
        !r.I64(&sum) || !r.I64(&min) || !r.I64(&max)) {
      return r.Truncated();
    }
    uint8_t sketch_kind = kSketchFull;
    if (has_distinct && r.version() >= 2 && !r.U8(&sketch_kind)) return r.Truncated();
    HyperLogLog hll(options_.hll_precision);
    std::vector<uint32_t> entries;
    if (has_distinct && sketch_kind == kSketchFull) {
      std::string_view sketch;
      if (!r.Bytes(&sketch)) return r.Truncated();
      auto parsed = HyperLogLog::Deserialize(sketch);
      if (!parsed.ok()) return parsed.status().WithContext(r.what());
      if (parsed->precision() != options_.hll_precision) {
        return Corruption(r.what() + ": sketch precision differs from the header");
      }
      hll = std::move(parsed).value();
    } else if (has_distinct && sketch_kind == kSketchEntries) {
      if (kind != kKindDelta) return Corruption(r.what() + ": sketch entries in a snapshot");
      uint32_t n;
      if (!r.U32(&n) || r.remaining() / 4 < n) return r.Truncated();
      entries.resize(n);
      for (uint32_t& e : entries) r.U32(&e);
    } else if (has_distinct) {
      return Corruption(r.what() + ": unknown sketch kind " + std::to_string(sketch_kind));
    }
    const uint64_t kh = key_null ? kNullKeyHash : HashBytes(key);
    Group& g = ps->FindOrInsert(ws, kh, key_null ? std::string_view() : key, key_null != 0);
    g.count = c;
    g.value_count = vc;
    g.sum = sum;
    g.min = min;
    g.max = max;
    if (sketch_kind == kSketchEntries) {
      // Raised since the previous save: folded into the group as that save left it.
      Status st = g.hll.AddEntries(entries);
      if (!st.ok()) return st.WithContext(r.what());
    } else {
      g.hll = std::move(hll);
    }
  }
  if (!r.at_end()) return Corruption(r.what() + ": trailing bytes");
  return Status::OK();
}

Status WindowAggregator::Restore(int32_t partition, std::string_view snapshot,
                                 std::span<const std::string_view> deltas,
                                 int64_t watermark_micros) {
  auto ps = std::make_unique<PartitionState>(options_.hll_precision);
  if (!snapshot.empty())
    STRATA_RETURN_IF_ERROR(ReadBlob(snapshot, kKindSnapshot, partition, ps.get()));
  for (std::string_view d : deltas) {
    STRATA_RETURN_IF_ERROR(ReadBlob(d, kKindDelta, partition, ps.get()));
  }
  final_watermark_ = std::max(final_watermark_, watermark_micros);
  const int64_t size = options_.size_micros;
  const int64_t wm = final_watermark_;
  ps->RemoveIf([&](const Group& g) { return g.window_start + size <= wm; });
  for (Group& g : ps->groups) {
    g.updated = false;
    g.changed = false;
    g.hll.MarkSaved();
  }
  partitions_[partition] = std::move(ps);
  last_state_ = nullptr;
  return Status::OK();
}

void WindowAggregator::DropPartition(int32_t partition) {
  partitions_.erase(partition);
  last_state_ = nullptr;
}

}  // namespace strata
