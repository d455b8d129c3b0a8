#include "operators/session_window.h"

#include <algorithm>
#include <cstring>
#include <limits>

#include "core/hash.h"
#include "operators/column_access.h"
#include "operators/state_codec.h"

namespace strata {
namespace {
constexpr char kMagic[4] = {'S', 'S', 'E', 'S'};
constexpr uint8_t kVersion = 2;
constexpr uint8_t kKindSnapshot = 1;
constexpr uint8_t kKindDelta = 2;
// emitted_start of a session without a provisional row in the output.
constexpr int64_t kNotEmitted = std::numeric_limits<int64_t>::min();

struct Session {
  int64_t start;  // first event
  int64_t end;    // last event + gap
  int64_t count;
  int64_t page_views;
  bool converted;
  bool updated;           // since the last EmitUpdated
  int64_t emitted_start;  // session_start of its provisional row, or kNotEmitted
  std::string user;       // of the earliest row
};

struct KeyState {
  uint64_t hash;
  std::string key;
  std::vector<Session> sessions;  // sorted by start, pairwise non-overlapping
  // Starts of provisional rows superseded by a merge, until EmitUpdated reports them.
  std::vector<int64_t> retracted;
  bool changed;  // since MarkCheckpointed
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
    keys.push_back(KeyState{h, std::string(key), {}, {}, false});
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
      any_key_removed |= k.sessions.empty() && k.retracted.empty();
    }
    if (!any_key_removed) return;
    std::erase_if(keys,
                  [](const KeyState& k) { return k.sessions.empty() && k.retracted.empty(); });
    size_t slots = 16;
    while (slots < keys.size() * 2 + 2) slots *= 2;
    Reindex(slots);
  }

  std::vector<KeyState> keys;
  std::vector<uint32_t> index;  // key index + 1, 0 = empty
};

namespace {

// One input row as a session of its own: the window [t, t + gap).
struct RowEvent {
  int64_t t;
  bool page_view;
  bool conversion;
  std::string_view user;
};

// Adds the row's window to `k.sessions`, merging every session it overlaps. The merged session
// keeps a provisional row only when one of the merged ones had it under the merged start; the
// other provisional rows go to k.retracted.
void AddEvent(KeyState& k, const RowEvent& e, int64_t gap) {
  std::vector<Session>& sessions = k.sessions;
  const int64_t t = e.t;
  const int64_t end = t + gap;
  auto first =
      std::find_if(sessions.begin(), sessions.end(), [t](const Session& s) { return s.end > t; });
  if (first == sessions.end() || first->start >= end) {
    sessions.insert(first, Session{t, end, 1, e.page_view ? 1 : 0, e.conversion, true, kNotEmitted,
                                   std::string(e.user)});
    return;
  }
  // `first` overlaps the row's window: it absorbs the row and every later session overlapping.
  Session& m = *first;
  if (t < m.start) {
    m.start = t;
    m.user.assign(e.user);
  }
  m.end = std::max(m.end, end);
  m.count += 1;
  m.page_views += e.page_view ? 1 : 0;
  m.converted |= e.conversion;
  m.updated = true;
  auto last = first + 1;
  for (; last != sessions.end() && last->start < m.end; ++last) {
    // Later sessions start after m.start: m keeps its user.
    m.end = std::max(m.end, last->end);
    m.count += last->count;
    m.page_views += last->page_views;
    m.converted |= last->converted;
    if (last->emitted_start != kNotEmitted) k.retracted.push_back(last->emitted_start);
  }
  sessions.erase(first + 1, last);
  Session& merged = sessions[static_cast<size_t>(first - sessions.begin())];
  if (merged.emitted_start != kNotEmitted && merged.emitted_start != merged.start) {
    k.retracted.push_back(merged.emitted_start);
    merged.emitted_start = kNotEmitted;
  }
}

// Appends one output row.
void AppendRow(RecordBatch& out, bool with_user, const std::string& key, const Session& s,
               int64_t gap, bool final) {
  size_t c = 0;
  out.column(c++).AppendInt64(s.start);
  out.column(c++).AppendInt64(s.end);
  out.column(c++).AppendString(key);
  if (with_user) out.column(c++).AppendString(s.user);
  out.column(c++).AppendInt64(s.count);
  out.column(c++).AppendInt64(s.page_views);
  out.column(c++).AppendInt64((s.end - gap - s.start) / 1000);
  out.column(c++).AppendBool(s.count == 1);
  out.column(c++).AppendBool(s.converted);
  out.column(c++).AppendBool(final);
}

struct OutRef {
  int64_t start;
  const std::string* key;
  const Session* session;
};

void SortRefs(std::vector<OutRef>& rows) {
  std::sort(rows.begin(), rows.end(), [](const OutRef& a, const OutRef& b) {
    return a.start != b.start ? a.start < b.start : *a.key < *b.key;
  });
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
  std::vector<Field> fields = {
      {"session_start", TypeId::kTimestamp, false},
      {"session_end", TypeId::kTimestamp, false},
      {options_.key_column, TypeId::kString, false},
  };
  if (!options_.user_column.empty())
    fields.push_back({options_.user_column, TypeId::kString, true});
  fields.push_back({"event_count", TypeId::kInt64, false});
  fields.push_back({"page_views", TypeId::kInt64, false});
  fields.push_back({"duration_ms", TypeId::kInt64, false});
  fields.push_back({"bounced", TypeId::kBool, false});
  fields.push_back({"converted", TypeId::kBool, false});
  fields.push_back({"is_final", TypeId::kBool, false});
  output_schema_ = std::make_shared<const Schema>(std::move(fields));
  retraction_schema_ = std::make_shared<const Schema>(std::vector<Field>{
      {"session_start", TypeId::kTimestamp, false},
      {options_.key_column, TypeId::kString, false},
  });
}

SessionWindowAggregator::~SessionWindowAggregator() = default;

SessionWindowAggregator::PartitionState* SessionWindowAggregator::GetPartition(int32_t p) {
  auto& slot = partitions_[p];
  if (!slot) slot = std::make_unique<PartitionState>();
  return slot.get();
}

std::vector<int32_t> SessionWindowAggregator::Partitions() const {
  std::vector<int32_t> out;
  for (const auto& [p, ps] : partitions_) out.push_back(p);
  std::sort(out.begin(), out.end());
  return out;
}

Status SessionWindowAggregator::Process(const RecordBatch& batch, int64_t watermark_micros) {
  constexpr std::string_view kOp = "session windows";
  STRATA_ASSIGN_OR_RETURN(const Column* times,
                          FindColumn(batch, options_.event_time_column, TypeId::kTimestamp, kOp));
  STRATA_ASSIGN_OR_RETURN(const Column* parts,
                          FindColumn(batch, options_.partition_column, TypeId::kInt32, kOp));
  STRATA_ASSIGN_OR_RETURN(const Column* keys,
                          FindColumn(batch, options_.key_column, TypeId::kString, kOp));
  const Column* users = nullptr;
  if (!options_.user_column.empty()) {
    STRATA_ASSIGN_OR_RETURN(users, FindColumn(batch, options_.user_column, TypeId::kString, kOp));
  }
  const Column* types = nullptr;
  if (!options_.event_type_column.empty()) {
    STRATA_ASSIGN_OR_RETURN(types,
                            FindColumn(batch, options_.event_type_column, TypeId::kString, kOp));
  }
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
    RowEvent e{times->Int64(i), false, false, {}};
    if (e.t < wm) {
      ++rows_dropped_by_watermark_;
      continue;
    }
    if (types != nullptr && types->IsValid(i)) {
      const std::string_view type = types->String(i);
      e.page_view = type == options_.page_view_type;
      e.conversion = type == options_.conversion_type;
    }
    if (users != nullptr && users->IsValid(i)) e.user = users->String(i);
    const int32_t p = parts->IsValid(i) ? parts->Int32(i) : -1;
    if (ps == nullptr || p != last_p) {
      ps = GetPartition(p);
      last_p = p;
    }
    const std::string_view key = keys->String(i);
    KeyState& k = ps->FindOrInsert(HashBytes(key), key);
    AddEvent(k, e, gap);
    k.changed = true;
  }
  return Status::OK();
}

RecordBatch SessionWindowAggregator::EmitFinal(int64_t watermark_micros) {
  final_watermark_ = std::max(final_watermark_, watermark_micros);
  // Final sessions are moved out of the state before their rows are built.
  struct Out {
    Session s;
    std::string key;
  };
  std::vector<Out> rows;
  for (auto& [p, ps] : partitions_) {
    ps->RemoveFinal(final_watermark_, [&](const KeyState& k, Session& s) {
      rows.push_back({std::move(s), k.key});
    });
  }
  std::vector<OutRef> refs;
  refs.reserve(rows.size());
  for (const Out& r : rows) refs.push_back({r.s.start, &r.key, &r.s});
  SortRefs(refs);
  RecordBatch out(output_schema_);
  out.Reserve(refs.size());
  const bool with_user = !options_.user_column.empty();
  for (const OutRef& r : refs)
    AppendRow(out, with_user, *r.key, *r.session, options_.gap_micros, true);
  sessions_emitted_ += rows.size();
  return out;
}

RecordBatch SessionWindowAggregator::EmitUpdated(RecordBatch* retracted) {
  std::vector<OutRef> refs;
  struct Retraction {
    int64_t start;
    const std::string* key;
  };
  std::vector<Retraction> gone;
  for (auto& [p, ps] : partitions_) {
    for (KeyState& k : ps->keys) {
      for (Session& s : k.sessions) {
        if (!s.updated) continue;
        s.updated = false;
        s.emitted_start = s.start;
        refs.push_back({s.start, &k.key, &s});
      }
      for (int64_t start : k.retracted) {
        // A row under a start that a session of the key still has is replaced, not deleted.
        const bool live = std::any_of(k.sessions.begin(), k.sessions.end(),
                                      [start](const Session& s) { return s.start == start; });
        if (!live) gone.push_back({start, &k.key});
      }
      k.retracted.clear();
    }
  }
  SortRefs(refs);
  RecordBatch out(output_schema_);
  out.Reserve(refs.size());
  const bool with_user = !options_.user_column.empty();
  for (const OutRef& r : refs)
    AppendRow(out, with_user, *r.key, *r.session, options_.gap_micros, false);
  if (retracted != nullptr) {
    for (const Retraction& r : gone) {
      retracted->column(0).AppendInt64(r.start);
      retracted->column(1).AppendString(*r.key);
    }
  }
  return out;
}

bool SessionWindowAggregator::has_open_sessions() const {
  for (const auto& [p, ps] : partitions_)
    for (const KeyState& k : ps->keys)
      if (!k.sessions.empty()) return true;
  return false;
}

SessionWindowStats SessionWindowAggregator::stats() const {
  SessionWindowStats s;
  s.rows_in = rows_in_;
  s.rows_dropped_by_watermark = rows_dropped_by_watermark_;
  s.rows_skipped = rows_skipped_;
  s.sessions_emitted = sessions_emitted_;
  for (const auto& [p, ps] : partitions_) {
    s.keys += ps->keys.size();
    s.bytes += ps->keys.capacity() * sizeof(KeyState) + ps->index.capacity() * sizeof(uint32_t);
    for (const KeyState& k : ps->keys) {
      s.open_sessions += k.sessions.size();
      s.bytes += k.sessions.capacity() * sizeof(Session) + k.retracted.capacity() * sizeof(int64_t);
      if (k.key.capacity() > 15) s.bytes += k.key.capacity() + 1;
      for (const Session& x : k.sessions)
        if (x.user.capacity() > 15) s.bytes += x.user.capacity() + 1;
    }
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
        w.I64(s.page_views);
        w.U8(s.converted ? 1 : 0);
        w.I64(s.emitted_start);
        w.Bytes(s.user);
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
  const std::string what =
      std::string(kind == kKindSnapshot ? "session state snapshot" : "session state delta") +
      " of partition " + std::to_string(partition);
  if (blob.size() > 4 && std::memcmp(blob.data(), kMagic, 4) == 0 && blob[4] == 1) {
    return NotSupported(what +
                        ": written by an older strata (version 1: no page views, conversion or "
                        "user); start the session query from a new checkpoint");
  }
  state_codec::Reader r(blob, what);
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
      Session s{};
      uint8_t converted;
      std::string_view user;
      if (!r.I64(&s.start) || !r.I64(&s.end) || !r.I64(&s.count) || !r.I64(&s.page_views) ||
          !r.U8(&converted) || !r.I64(&s.emitted_start) || !r.Bytes(&user)) {
        return r.Truncated();
      }
      if (s.end <= s.start || (!k.sessions.empty() && s.start < k.sessions.back().end)) {
        return Corruption(r.what() + ": sessions of a key out of order");
      }
      s.converted = converted != 0;
      s.user.assign(user);
      k.sessions.push_back(std::move(s));
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
