#include "stream/progress.h"

#include "core/json_writer.h"
#include "core/time_util.h"

namespace strata {

const char* QueryStateName(QueryState s) {
  switch (s) {
    case QueryState::kInitializing:
      return "INITIALIZING";
    case QueryState::kActive:
      return "ACTIVE";
    case QueryState::kIdle:
      return "IDLE";
    case QueryState::kStopped:
      return "STOPPED";
    case QueryState::kFailed:
      return "FAILED";
  }
  return "UNKNOWN";
}

std::string QueryProgress::ToJson() const {
  JsonWriter w;
  w.BeginObject();
  w.Key("id").String(id);
  w.Key("runId").String(run_id);
  w.Key("name").String(name);
  w.Key("timestamp").String(FormatTimestampMicros(timestamp_ms * 1000));
  w.Key("batchId").Int(batch_id);
  w.Key("numInputRows").Int(num_input_rows);
  w.Key("inputRowsPerSecond").Double(input_rows_per_second);
  w.Key("processedRowsPerSecond").Double(processed_rows_per_second);
  w.Key("noDataBatch").Bool(no_data_batch);
  w.Key("durationMs").BeginObject();
  for (const auto& [k, v] : duration_ms) w.Key(k).Int(v);
  w.EndObject();
  w.Key("eventTime").BeginObject();
  if (watermark_ms > 0) w.Key("watermark").String(FormatTimestampMicros(watermark_ms * 1000));
  if (max_event_time_ms >= 0) w.Key("max").String(FormatTimestampMicros(max_event_time_ms * 1000));
  w.EndObject();
  w.Key("stateOperators").BeginArray();
  if (stateful) {
    w.BeginObject()
        .Key("numRowsTotal")
        .Int(state.state_rows)
        .Key("numRowsUpdated")
        .Int(state.rows_updated)
        .Key("memoryUsedBytes")
        .Int(state.state_bytes)
        .Key("numRowsDroppedByWatermark")
        .Int(state.rows_dropped_by_watermark)
        .Key("numDroppedDuplicateRows")
        .Int(state.rows_dropped_duplicates)
        .Key("numLateRows")
        .Int(state.rows_late)
        .Key("numQuarantinedRows")
        .Int(state.rows_quarantined)
        .Key("checkpointBytesWritten")
        .Int(state_file_bytes)
        .EndObject();
  }
  w.EndArray();
  w.Key("sources").BeginArray().BeginObject();
  w.Key("description").String(source_description);
  w.Key("startOffset").Raw(start_offset.empty() ? "null" : start_offset);
  w.Key("endOffset").Raw(end_offset.empty() ? "null" : end_offset);
  w.Key("numInputRows").Int(num_input_rows);
  w.Key("inputRowsPerSecond").Double(input_rows_per_second);
  w.Key("processedRowsPerSecond").Double(processed_rows_per_second);
  w.Key("metrics").BeginObject().Key("lag").Int(source_lag).Key("partitions").BeginArray();
  for (const auto& p : partitions) {
    w.BeginObject().Key("partition").String(p.partition).Key("start").Int(p.start);
    w.Key("end").Int(p.end).Key("latest").Int(p.latest);
    w.Key("lag").Int(p.latest >= 0 ? std::max<int64_t>(0, p.latest - p.end) : 0).EndObject();
  }
  w.EndArray().EndObject();
  w.EndObject().EndArray();
  w.Key("sink").BeginObject();
  w.Key("description").String(sink_description).Key("numOutputRows").Int(num_output_rows);
  w.EndObject();
  if (latency_max_ms >= 0) {
    w.Key("latencyMs").BeginObject().Key("p50").Int(latency_p50_ms).Key("p99").Int(latency_p99_ms);
    w.Key("max").Int(latency_max_ms).EndObject();
  }
  if (!state.expectations.empty()) {
    // As Delta Live Tables' event log: data_quality.expectations per flow.
    w.Key("dataQuality").BeginObject().Key("expectations").BeginArray();
    for (const auto& e : state.expectations) {
      w.BeginObject().Key("name").String(e.name).Key("action").String(e.action);
      w.Key("passedRecords").Int(e.passed).Key("failedRecords").Int(e.failed).EndObject();
    }
    w.EndArray().EndObject();
  }
  w.Key("tables").BeginArray();
  for (const auto& t : tables) {
    w.BeginObject().Key("table").String(t.table).Key("rows").Int(t.rows).Key("files").Int(t.files);
    w.Key("bytes").Int(t.bytes).Key("version").Int(t.version).Key("skipped").Bool(t.skipped);
    w.EndObject();
  }
  w.EndArray();
  w.EndObject();
  return w.Take();
}

}  // namespace strata
