#include "operators/session_window.h"

#include <algorithm>
#include <cstring>

#include "core/hash.h"
#include "operators/column_access.h"
#include "operators/state_codec.h"

namespace strata {
namespace {
constexpr char kMagic[4] = {'S', 'S', 'E', 'S'};
constexpr uint8_t kVersion = 1;
constexpr uint8_t kKindSnapshot = 1;
constexpr uint8_t kKindDelta = 2;

struct Session {
  int64_t start;
  int64_t end;
  int64_t count;
};

struct KeyState {
  uint64_t hash;
  std::string key;
  std::vector<Session> sessions;  // sorted by start, pairwise non-overlapping
  bool changed;                   // since MarkCheckpointed
};

}  // namespace

struct SessionWindowAggregator::PartitionState {
  PartitionState() { index.assign(16, 0); }

  KeyState& FindOrInsert(uint64_t h, std::string_view key) {
    const size_t mask = index.size() - 1;
    size_t s = h & mask;
    for (;; s = (s + 1) & mask) {
      const uint32_t v = index[s];
      if (v == 0) break;
      KeyState& k = keys[v - 1];
      if (k.hash == h && k.key == key) return k;
    }
    keys.push_back(KeyState{h, std::string(key), {}, false});
    index[s] = static_cast<uint32_t>(keys.size());
    if (keys.size() * 2 > index.size()) Reindex(index.size() * 2);
    return keys.back();
  }
  void Reindex(size_t slots) {
    index.assign(slots, 0);
    const size_t mask = slots - 1;
    for (size_t i = 0; i < keys.size(); ++i) {
      size_t s = keys[i].hash & mask;
      while (index[s] != 0) s = (s + 1) & mask;
      index[s] = static_cast<uint32_t>(i + 1);
    }
  }
  // Drops sessions ending at or before `wm`, passing each to `emit`, and keys left empty.
  template <typename Fn>
  void RemoveFinal(int64_t wm, Fn&& emit) {
    bool any_key_removed = false;
    for (KeyState& k : keys) {
      auto first_open = std::find_if(k.sessions.begin(), k.sessions.end(),
                                     [wm](const Session& s) { return s.end > wm; });
      // Sessions are sorted by start and disjoint, so by end too.
      for (auto it = k.sessions.begin(); it != first_open; ++it) emit(k, *it);
      k.sessions.erase(k.sessions.begin(), first_open);
      any_key_removed |= k.sessions.empty();
    }
    if (!any_key_removed) return;
    std::erase_if(keys, [](const KeyState& k) { return k.sessions.empty(); });
    size_t slots = 16;
    while (slots < keys.size() * 2 + 2) slots *= 2;
    Reindex(slots);
  }

  std::vector<KeyState> keys;
  std::vector<uint32_t> index;  // key index + 1, 0 = empty
};

namespace {

// Adds the window [t, t + gap) to `sessions`, merging every session it overlaps.
void AddEvent(std::vector<Session>& sessions, int64_t t, int64_t gap, int64_t count) {
  const int64_t end = t + gap;
  auto first =
      std::find_if(sessions.begin(), sessions.end(), [t](const Session& s) { return s.end > t; });
  auto last = first;
  Session merged{t, end, count};
  while (last != sessions.end() && last->start < end) {
    merged.start = std::min(merged.start, last->start);
    merged.end = std::max(merged.end, last->end);
    merged.count += last->count;
    ++last;
  }
  if (first == last) {
    sessions.insert(first, merged);
    return;
  }
  *first = merged;
  sessions.erase(first + 1, last);
}

}  // namespace

Result<std::unique_ptr<SessionWindowAggregator>> SessionWindowAggregator::Create(
    const SessionWindowOptions& options) {
  if (options.gap_micros <= 0) {
    return InvalidArgument("session gap must be > 0 us, got " + std::to_string(options.gap_micros));
  }
  if (options.key_column.empty() || options.event_time_column.empty() ||
      options.partition_column.empty()) {
    return InvalidArgument("session windows need key, event time and partition columns");
  }
  return std::unique_ptr<SessionWindowAggregator>(new SessionWindowAggregator(options));
}

SessionWindowAggregator::SessionWindowAggregator(const SessionWindowOptions& options)
    : options_(options) {
  output_schema_ = std::make_shared<const Schema>(std::vector<Field>{
      {"session_start", TypeId::kTimestamp, false},
      {"session_end", TypeId::kTimestamp, false},
      {options_.key_column, TypeId::kString, false},
      {"event_count", TypeId::kInt64, false},
      {"is_final", TypeId::kBool, false},
  });
}

SessionWindowAggregator::~SessionWindowAggregator() = default;

SessionWindowAggregator::PartitionState* SessionWindowAggregator::GetPartition(int32_t p) {
  auto& slot = partitions_[p];
  if (!slot) slot = std::make_unique<PartitionState>();
  return slot.get();
}

Status SessionWindowAggregator::Process(const RecordBatch& batch, int64_t watermark_micros) {
  constexpr std::string_view kOp = "session windows";
  STRATA_ASSIGN_OR_RETURN(const Column* times,
                          FindColumn(batch, options_.event_time_column, TypeId::kTimestamp, kOp));
  STRATA_ASSIGN_OR_RETURN(const Column* parts,
                          FindColumn(batch, options_.partition_column, TypeId::kInt32, kOp));
  STRATA_ASSIGN_OR_RETURN(const Column* keys,
                          FindColumn(batch, options_.key_column, TypeId::kString, kOp));
  const int64_t wm = std::max(watermark_micros, final_watermark_);
  const int64_t gap = options_.gap_micros;
  const size_t n = batch.num_rows();
  rows_in_ += n;
  int32_t last_p = 0;
  PartitionState* ps = nullptr;
  for (size_t i = 0; i < n; ++i) {
    if (times->IsNull(i) || keys->IsNull(i)) {
      ++rows_skipped_;
      continue;
    }
    const int64_t t = times->Int64(i);
    if (t + gap <= wm) {
      ++rows_dropped_by_watermark_;
      continue;
    }
    const int32_t p = parts->IsValid(i) ? parts->Int32(i) : -1;
    if (ps == nullptr || p != last_p) {
      ps = GetPartition(p);
      last_p = p;
    }
    const std::string_view key = keys->String(i);
    KeyState& k = ps->FindOrInsert(HashBytes(key), key);
    AddEvent(k.sessions, t, gap, 1);
    k.changed = true;
  }
  return Status::OK();
}

RecordBatch SessionWindowAggregator::EmitFinal(int64_t watermark_micros) {
  final_watermark_ = std::max(final_watermark_, watermark_micros);
  struct Out {
    Session s;
    std::string key;
  };
  std::vector<Out> rows;
  for (auto& [p, ps] : partitions_) {
    ps->RemoveFinal(final_watermark_, [&](const KeyState& k, const Session& s) {
      rows.push_back({s, k.key});
    });
  }
  std::sort(rows.begin(), rows.end(), [](const Out& a, const Out& b) {
    return a.s.start != b.s.start ? a.s.start < b.s.start : a.key < b.key;
  });
  RecordBatch out(output_schema_);
  for (const Out& r : rows) {
    out.column(0).AppendInt64(r.s.start);
    out.column(1).AppendInt64(r.s.end);
    out.column(2).AppendString(r.key);
    out.column(3).AppendInt64(r.s.count);
    out.column(4).AppendBool(true);
  }
  sessions_emitted_ += rows.size();
  return out;
}

SessionWindowStats SessionWindowAggregator::stats() const {
  SessionWindowStats s;
  s.rows_in = rows_in_;
  s.rows_dropped_by_watermark = rows_dropped_by_watermark_;
  s.rows_skipped = rows_skipped_;
  s.sessions_emitted = sessions_emitted_;
  for (const auto& [p, ps] : partitions_) {
    s.keys += ps->keys.size();
    for (const KeyState& k : ps->keys) s.open_sessions += k.sessions.size();
  }
  return s;
}

namespace {
std::string Serialize(uint8_t kind, int32_t partition, int64_t gap,
                      const std::vector<KeyState>* keys, bool only_changed) {
  state_codec::Writer w(kMagic, kVersion);
  w.U8(kind);
  w.I32(partition);
  w.I64(gap);
  uint64_t n = 0;
  if (keys != nullptr) {
    for (const KeyState& k : *keys) n += !only_changed || k.changed;
  }
  w.U64(n);
  if (keys != nullptr) {
    for (const KeyState& k : *keys) {
      if (only_changed && !k.changed) continue;
      w.Bytes(k.key);
      w.U32(static_cast<uint32_t>(k.sessions.size()));
      for (const Session& s : k.sessions) {
        w.I64(s.start);
        w.I64(s.end);
        w.I64(s.count);
      }
    }
  }
  return w.Finish();
}
}  // namespace

std::string SessionWindowAggregator::SerializeSnapshot(int32_t partition) const {
  auto it = partitions_.find(partition);
  return Serialize(kKindSnapshot, partition, options_.gap_micros,
                   it == partitions_.end() ? nullptr : &it->second->keys, false);
}

std::string SessionWindowAggregator::SerializeDelta(int32_t partition) const {
  auto it = partitions_.find(partition);
  return Serialize(kKindDelta, partition, options_.gap_micros,
                   it == partitions_.end() ? nullptr : &it->second->keys, true);
}

void SessionWindowAggregator::MarkCheckpointed() {
  for (auto& [p, ps] : partitions_) {
    for (KeyState& k : ps->keys) k.changed = false;
  }
}

Status SessionWindowAggregator::ReadBlob(std::string_view blob, uint8_t kind, int32_t partition,
                                         PartitionState* ps) const {
  state_codec::Reader r(
      blob, std::string(kind == kKindSnapshot ? "session state snapshot" : "session state delta") +
                " of partition " + std::to_string(partition));
  STRATA_RETURN_IF_ERROR(r.Open(kMagic, kVersion));
  uint8_t got_kind;
  int32_t got_partition;
  int64_t gap;
  uint64_t n;
  if (!r.U8(&got_kind) || !r.I32(&got_partition) || !r.I64(&gap) || !r.U64(&n)) {
    return r.Truncated();
  }
  if (got_kind != kind) return Corruption(r.what() + ": wrong blob kind");
  if (got_partition != partition) {
    return Corruption(r.what() + ": blob belongs to partition " + std::to_string(got_partition));
  }
  if (gap != options_.gap_micros) {
    return InvalidArgument(r.what() + ": written with gap " + std::to_string(gap) + " us");
  }
  for (uint64_t i = 0; i < n; ++i) {
    std::string_view key;
    uint32_t count;
    if (!r.Bytes(&key) || !r.U32(&count)) return r.Truncated();
    KeyState& k = ps->FindOrInsert(HashBytes(key), key);
    k.sessions.clear();
    for (uint32_t j = 0; j < count; ++j) {
      Session s;
      if (!r.I64(&s.start) || !r.I64(&s.end) || !r.I64(&s.count)) return r.Truncated();
      if (s.end <= s.start || (!k.sessions.empty() && s.start < k.sessions.back().end)) {
        return Corruption(r.what() + ": sessions of a key out of order");
      }
      k.sessions.push_back(s);
    }
  }
  if (!r.at_end()) return Corruption(r.what() + ": trailing bytes");
  return Status::OK();
}

Status SessionWindowAggregator::Restore(int32_t partition, std::string_view snapshot,
                                        std::span<const std::string_view> deltas,
                                        int64_t watermark_micros) {
  auto ps = std::make_unique<PartitionState>();
  if (!snapshot.empty()) {
    STRATA_RETURN_IF_ERROR(ReadBlob(snapshot, kKindSnapshot, partition, ps.get()));
  }
  for (std::string_view d : deltas) {
    STRATA_RETURN_IF_ERROR(ReadBlob(d, kKindDelta, partition, ps.get()));
  }
  final_watermark_ = std::max(final_watermark_, watermark_micros);
  ps->RemoveFinal(final_watermark_, [](const KeyState&, const Session&) {});
  for (KeyState& k : ps->keys) k.changed = false;
  partitions_[partition] = std::move(ps);
  return Status::OK();
}

}  // namespace strata
