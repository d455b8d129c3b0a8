#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "pipeline/metrics.h"
#include "stream/streaming_query.h"

namespace strata::server {

// Counters of the server itself and of query terminations, for /metrics.
struct ServerCounters {
  int64_t failed_terminations = 0;  // queries that ended with an error
  int64_t sql_requests = 0;
  int64_t sql_errors = 0;
  int64_t sse_clients = 0;
  int64_t sse_events = 0;
  int64_t sse_dropped = 0;
};

// The Prometheus text exposition format (version 0.0.4) of the queries' current status, the
// running totals and the server counters. `now_ms` is wall-clock time, for watermark delays.
// Pure function; every metric has # HELP and # TYPE lines, label values are escaped.
std::string RenderPrometheus(const std::vector<QueryStatusView>& queries,
                             const std::map<std::string, PipelineMetrics::QueryTotals>& totals,
                             const ServerCounters& counters, int64_t now_ms);

}  // namespace strata::server
