#pragma once

// Helpers shared by the stateful processors of the pipeline (silver, gold windows, sessions):
// watermark unit conversions, the watermark tracker of a processor, and the per-partition state
// blobs of the StreamingQuery checkpoint (stream/processor.h).

#include <cstdint>
#include <map>
#include <string_view>
#include <vector>

#include "operators/watermark.h"
#include "stream/processor.h"

namespace strata::processor_state {

// The engine's watermarks are epoch ms (0 = none); the operators' are micros (kNoWatermark).
inline int64_t ToMicros(int64_t watermark_ms) {
  return watermark_ms > 0 ? watermark_ms * 1000 : kNoWatermark;
}
inline int64_t ToMillis(int64_t watermark_micros) {
  return watermark_micros == kNoWatermark || watermark_micros <= 0 ? 0 : watermark_micros / 1000;
}

// The watermark tracker of a processor.
inline Result<WatermarkTracker> NewTracker(int64_t delay_ms, WatermarkPolicy policy,
                                           int64_t idle_timeout_ms) {
  WatermarkOptions wo;
  wo.delay_ms = delay_ms;
  wo.policy = policy;
  wo.idle_timeout_ms = idle_timeout_ms;
  return WatermarkTracker::Create(wo);
}

// Per partition: the snapshot blob (or empty) and the delta blobs in order; the global blob is
// the newest one seen (it is always written in full). Views into the blobs given to Collect.
struct PartitionHistory {
  std::string_view snapshot;
  std::vector<std::string_view> deltas;
};
struct StateHistory {
  std::string_view global;
  std::map<int32_t, PartitionHistory> partitions;
};

inline StateHistory Collect(const std::vector<StateBlob>& snapshot,
                            const std::vector<std::vector<StateBlob>>& deltas) {
  StateHistory h;
  for (const auto& b : snapshot) {
    if (b.partition == kGlobalStatePartition)
      h.global = b.bytes;
    else
      h.partitions[b.partition].snapshot = b.bytes;
  }
  for (const auto& save : deltas) {
    for (const auto& b : save) {
      if (b.partition == kGlobalStatePartition)
        h.global = b.bytes;
      else
        h.partitions[b.partition].deltas.push_back(b.bytes);
    }
  }
  return h;
}

// Hands each partition's state of a partitioned operator (Deduplicator, WindowAggregator,
// SessionWindowAggregator) to `sink`, one partition serialized at a time: all of it when
// `full`, else what changed since the last call; then starts a new delta.
template <typename PartitionedOperator>
Status SavePartitions(PartitionedOperator& op, bool full, StateSink& sink) {
  for (int32_t p : op.Partitions())
    STRATA_RETURN_IF_ERROR(sink.Add({p, full ? op.SerializeSnapshot(p) : op.SerializeDelta(p)}));
  op.MarkCheckpointed();
  return Status::OK();
}

}  // namespace strata::processor_state
