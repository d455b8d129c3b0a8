#include "operators/watermark.h"

#include <algorithm>
#include <utility>
#include <vector>

#include "operators/column_access.h"
#include "operators/state_codec.h"

namespace strata {
namespace {
constexpr char kMagic[4] = {'S', 'W', 'M', 'K'};
constexpr uint8_t kVersion = 1;
constexpr int64_t kUnset = std::numeric_limits<int64_t>::min();

int64_t SaturatingSub(int64_t a, int64_t b) {
  int64_t r;
  if (__builtin_sub_overflow(a, b, &r)) return a < 0 ? kUnset : std::numeric_limits<int64_t>::max();
  return r;
}
int64_t SaturatingAdd(int64_t a, int64_t b) {
  int64_t r;
  if (__builtin_add_overflow(a, b, &r)) return a < 0 ? kUnset : std::numeric_limits<int64_t>::max();
  return r;
}
}  // namespace

Result<WatermarkTracker> WatermarkTracker::Create(const WatermarkOptions& options) {
  if (options.delay_ms < 0) {
    return InvalidArgument("watermark delay must be >= 0, got " + std::to_string(options.delay_ms));
  }
  if (options.idle_timeout_ms < 0) {
    return InvalidArgument("watermark idle timeout must be >= 0, got " +
                           std::to_string(options.idle_timeout_ms));
  }
  return WatermarkTracker(options);
}

Status WatermarkTracker::ObserveBatch(const RecordBatch& batch, std::string_view event_time_col,
                                      std::string_view partition_col, int64_t now_micros) {
  STRATA_ASSIGN_OR_RETURN(const Column* times,
                          FindColumn(batch, event_time_col, TypeId::kTimestamp, "watermark"));
  STRATA_ASSIGN_OR_RETURN(const Column* parts,
                          FindColumn(batch, partition_col, TypeId::kInt32, "watermark"));
  const size_t n = batch.num_rows();
  const int64_t* t = times->int64_data();
  const int32_t* pv = parts->int32_data();
  const uint8_t* tvalid = times->validity();
  const uint8_t* pvalid = parts->validity();
  // Batches are usually long runs of one partition: fold runs locally first.
  std::vector<std::pair<int32_t, int64_t>> maxima;
  for (size_t i = 0; i < n; ++i) {
    if (!tvalid[i]) continue;
    const int32_t p = pvalid[i] ? pv[i] : -1;
    if (maxima.empty() || maxima.back().first != p) {
      auto it = std::find_if(maxima.begin(), maxima.end(), [p](auto& e) { return e.first == p; });
      if (it == maxima.end()) {
        maxima.emplace_back(p, t[i]);
        continue;
      }
      std::iter_swap(it, maxima.end() - 1);
    }
    maxima.back().second = std::max(maxima.back().second, t[i]);
  }
  for (const auto& [p, max_t] : maxima) Observe(p, max_t, now_micros);
  return Status::OK();
}

void WatermarkTracker::Observe(int32_t partition, int64_t max_event_time_micros,
                               int64_t now_micros) {
  auto [it, inserted] =
      partitions_.try_emplace(partition, PartitionClock{max_event_time_micros, now_micros});
  if (!inserted) {
    it->second.max_event_time = std::max(it->second.max_event_time, max_event_time_micros);
    it->second.last_data_micros = std::max(it->second.last_data_micros, now_micros);
  }
}

int64_t WatermarkTracker::AdvanceWatermark(int64_t now_micros) {
  const int64_t delay = options_.delay_ms * 1000;
  const int64_t idle = options_.idle_timeout_ms * 1000;
  int64_t candidate = kUnset;
  bool any_active = false;
  int64_t extrapolated = kUnset;  // for the all-idle case
  for (const auto& [p, clock] : partitions_) {
    const int64_t silent_for = now_micros - clock.last_data_micros;
    if (idle > 0 && silent_for >= idle) {
      extrapolated = std::max(
          extrapolated, SaturatingAdd(clock.max_event_time, std::max<int64_t>(0, silent_for)));
      continue;
    }
    if (!any_active) {
      candidate = clock.max_event_time;
      any_active = true;
    } else if (options_.policy == WatermarkPolicy::kMin) {
      candidate = std::min(candidate, clock.max_event_time);
    } else {
      candidate = std::max(candidate, clock.max_event_time);
    }
  }
  if (!any_active) candidate = extrapolated;
  if (candidate == kUnset) return watermark_;
  watermark_ = std::max(watermark_, SaturatingSub(candidate, delay));
  return watermark_;
}

int64_t WatermarkTracker::max_event_time(int32_t partition) const {
  auto it = partitions_.find(partition);
  return it == partitions_.end() ? kUnset : it->second.max_event_time;
}

std::string WatermarkTracker::Serialize() const {
  state_codec::Writer w(kMagic, kVersion);
  w.I64(options_.delay_ms);
  w.U8(static_cast<uint8_t>(options_.policy));
  w.I64(options_.idle_timeout_ms);
  w.I64(watermark_);
  w.U32(static_cast<uint32_t>(partitions_.size()));
  for (const auto& [p, clock] : partitions_) {
    w.I32(p);
    w.I64(clock.max_event_time);
    w.I64(clock.last_data_micros);
  }
  return w.Finish();
}

Status WatermarkTracker::Restore(std::string_view blob) {
  state_codec::Reader r(blob, "watermark state");
  STRATA_RETURN_IF_ERROR(r.Open(kMagic, kVersion));
  int64_t delay, idle, watermark;
  uint8_t policy;
  uint32_t n;
  if (!r.I64(&delay) || !r.U8(&policy) || !r.I64(&idle) || !r.I64(&watermark) || !r.U32(&n)) {
    return r.Truncated();
  }
  if (delay != options_.delay_ms || policy != static_cast<uint8_t>(options_.policy)) {
    return InvalidArgument("watermark state was written with delay " + std::to_string(delay) +
                           " ms and policy " + std::to_string(policy) +
                           ", which differ from the configured ones");
  }
  std::map<int32_t, PartitionClock> parts;
  for (uint32_t i = 0; i < n; ++i) {
    int32_t p;
    PartitionClock c;
    if (!r.I32(&p) || !r.I64(&c.max_event_time) || !r.I64(&c.last_data_micros)) {
      return r.Truncated();
    }
    parts[p] = c;
  }
  if (!r.at_end()) return Corruption("watermark state: trailing bytes");
  watermark_ = watermark;
  partitions_ = std::move(parts);
  return Status::OK();
}

}  // namespace strata
