#include "pipeline/top_k.h"

#include <algorithm>
#include <numeric>
#include <string_view>
#include <unordered_set>

namespace strata {

namespace {

constexpr int kWindowStart = 0;
constexpr int kKey = 2;
constexpr int kEventCount = 3;

// Rows of `batch` grouped by window_start: window -> row indexes in order.
std::map<int64_t, std::vector<uint32_t>> ByWindow(const RecordBatch& batch) {
  std::map<int64_t, std::vector<uint32_t>> out;
  const Column& ws = batch.column(kWindowStart);
  for (size_t r = 0; r < batch.num_rows(); ++r)
    out[ws.Int64(r)].push_back(static_cast<uint32_t>(r));
  return out;
}

}  // namespace

SchemaPtr TopKSchema(const SchemaPtr& aggregate_schema) {
  std::vector<Field> fields;
  for (size_t i = 0; i < aggregate_schema->num_fields(); ++i)
    fields.push_back(aggregate_schema->field(i));
  fields.push_back({"rank", TypeId::kInt32, false});
  return std::make_shared<Schema>(std::move(fields));
}

RecordBatch SelectTopK(const RecordBatch& rows, const SchemaPtr& out_schema, int64_t k) {
  RecordBatch out(out_schema);
  const Column& key = rows.column(kKey);
  const Column& count = rows.column(kEventCount);
  const size_t agg_columns = rows.num_columns();
  for (auto& [window, idx] : ByWindow(rows)) {
    auto before = [&](uint32_t a, uint32_t b) {
      if (count.Int64(a) != count.Int64(b)) return count.Int64(a) > count.Int64(b);
      const bool a_null = key.IsNull(a), b_null = key.IsNull(b);
      if (a_null || b_null) return a_null && !b_null;
      return key.String(a) < key.String(b);
    };
    const size_t n = std::min<size_t>(idx.size(), static_cast<size_t>(k));
    std::partial_sort(idx.begin(), idx.begin() + n, idx.end(), before);
    for (size_t i = 0; i < n; ++i) {
      for (size_t c = 0; c < agg_columns; ++c) out.column(c).AppendFrom(rows.column(c), idx[i]);
      out.column(agg_columns).AppendInt32(static_cast<int32_t>(i + 1));
    }
  }
  return out;
}

TopKTracker::TopKTracker(SchemaPtr out_schema, int64_t k)
    : out_schema_(std::move(out_schema)), k_(k) {}

RecordBatch TopKTracker::Update(const RecordBatch& updated) {
  RecordBatch candidates(updated.schema());
  for (auto& [window, idx] : ByWindow(updated)) {
    const Column& key = updated.column(kKey);
    std::unordered_set<std::string_view> changed;
    bool null_changed = false;
    for (uint32_t r : idx) {
      if (key.IsNull(r)) {
        null_changed = true;
      } else {
        changed.insert(key.String(r));
      }
    }
    RecordBatch merged(updated.schema());
    auto it = windows_.find(window);
    if (it != windows_.end()) {
      const RecordBatch& prev = it->second;
      const Column& prev_key = prev.column(kKey);
      std::vector<uint32_t> keep;
      for (size_t r = 0; r < prev.num_rows(); ++r) {
        bool replaced = prev_key.IsNull(r) ? null_changed : changed.count(prev_key.String(r)) > 0;
        if (!replaced) keep.push_back(static_cast<uint32_t>(r));
      }
      merged.Append(prev.Take(keep));
    }
    merged.Append(updated.Take(idx));
    candidates.Append(merged);
    windows_.insert_or_assign(window, std::move(merged));
  }
  return SelectTopK(candidates, out_schema_, k_);
}

RecordBatch TopKTracker::Final(const RecordBatch& final_rows) {
  const Column& ws = final_rows.column(kWindowStart);
  for (size_t r = 0; r < final_rows.num_rows(); ++r) windows_.erase(ws.Int64(r));
  return SelectTopK(final_rows, out_schema_, k_);
}

}  // namespace strata
