#include "server/prometheus.h"

#include <cstdio>
#include <functional>

namespace strata::server {

namespace {

std::string Escape(const std::string& v) {
  std::string out;
  out.reserve(v.size());
  for (char c : v) {
    if (c == '\\') {
      out += "\\\\";
    } else if (c == '"') {
      out += "\\\"";
    } else if (c == '\n') {
      out += "\\n";
    } else {
      out.push_back(c);
    }
  }
  return out;
}

std::string Number(double v) {
  char buf[64];
  std::snprintf(buf, sizeof(buf), "%.17g", v);
  return buf;
}

class Exposition {
 public:
  // Starts a metric family.
  void Family(const std::string& name, const char* type, const char* help) {
    out_ += "# HELP " + name + " " + help + "\n# TYPE " + name + " " + type + "\n";
    name_ = name;
  }
  void Sample(const std::vector<std::pair<std::string, std::string>>& labels, double value) {
    out_ += name_;
    if (!labels.empty()) {
      out_ += "{";
      for (size_t i = 0; i < labels.size(); ++i) {
        if (i) out_ += ",";
        out_ += labels[i].first + "=\"" + Escape(labels[i].second) + "\"";
      }
      out_ += "}";
    }
    out_ += " " + Number(value) + "\n";
  }
  std::string Take() { return std::move(out_); }

 private:
  std::string out_;
  std::string name_;
};

const QueryProgress* LastProgress(const QueryStatusView& q) {
  for (auto it = q.recent.rbegin(); it != q.recent.rend(); ++it) {
    if (!it->no_data_batch || it == q.recent.rbegin()) return &*it;
  }
  return nullptr;
}

}  // namespace

std::string RenderPrometheus(const std::vector<QueryStatusView>& queries,
                             const std::map<std::string, PipelineMetrics::QueryTotals>& totals,
                             const ServerCounters& counters, int64_t now_ms) {
  Exposition e;
  using Labels = std::vector<std::pair<std::string, std::string>>;
  auto per_query =
      [&](const std::string& name, const char* type, const char* help,
          const std::function<std::optional<double>(const QueryStatusView&, const QueryProgress*)>&
              value) {
        e.Family(name, type, help);
        for (const auto& q : queries) {
          auto v = value(q, LastProgress(q));
          if (v) e.Sample({{"query", q.name}}, *v);
        }
      };
  using P = const QueryProgress*;
  using V = const QueryStatusView&;

  e.Family("strata_query_status", "gauge", "1 for the query's current state.");
  for (const auto& q : queries)
    e.Sample({{"query", q.name}, {"state", QueryStateName(q.state)}}, 1);
  per_query("strata_query_failed", "gauge", "1 when the query stopped with an error.",
            [](V q, P) { return q.state == QueryState::kFailed ? 1.0 : 0.0; });
  per_query("strata_query_last_batch_id", "gauge", "Id of the last committed micro-batch.",
            [](V q, P) { return static_cast<double>(q.last_batch_id); });
  per_query("strata_query_input_rows_per_second", "gauge",
            "Input rate of the last batch (rows / time since the previous batch started).",
            [](V, P p) -> std::optional<double> {
              if (!p) return std::nullopt;
              return p->input_rows_per_second;
            });
  per_query("strata_query_processed_rows_per_second", "gauge",
            "Processing rate of the last batch (rows / batch duration).",
            [](V, P p) -> std::optional<double> {
              if (!p) return std::nullopt;
              return p->processed_rows_per_second;
            });
  per_query("strata_query_batch_duration_seconds", "gauge",
            "Duration of the last batch (triggerExecution).", [](V, P p) -> std::optional<double> {
              if (!p) return std::nullopt;
              auto it = p->duration_ms.find("triggerExecution");
              return it == p->duration_ms.end() ? 0.0 : it->second / 1000.0;
            });
  per_query("strata_query_watermark_seconds", "gauge",
            "Event-time watermark, seconds since the epoch (absent before the first one).",
            [](V q, P) -> std::optional<double> {
              if (q.watermark_ms <= 0) return std::nullopt;
              return q.watermark_ms / 1000.0;
            });
  per_query("strata_query_watermark_delay_seconds", "gauge",
            "Wall-clock time minus the event-time watermark.",
            [now_ms](V q, P) -> std::optional<double> {
              if (q.watermark_ms <= 0) return std::nullopt;
              return (now_ms - q.watermark_ms) / 1000.0;
            });
  per_query("strata_query_source_lag", "gauge",
            "Records (or files) in the source not yet read, summed over partitions.",
            [](V, P p) -> std::optional<double> {
              if (!p) return std::nullopt;
              return static_cast<double>(p->source_lag);
            });
  e.Family("strata_kafka_partition_lag", "gauge",
           "Records of a Kafka partition after the end of the last batch.");
  for (const auto& q : queries) {
    P p = LastProgress(q);
    if (!p || p->source_description.rfind("kafka", 0) != 0) continue;
    for (const auto& part : p->partitions) {
      if (part.latest < 0) continue;
      e.Sample(Labels{{"query", q.name}, {"partition", part.partition}},
               static_cast<double>(std::max<int64_t>(0, part.latest - part.end)));
    }
  }
  per_query("strata_state_rows", "gauge", "Rows held in the query's operator state.",
            [](V, P p) -> std::optional<double> {
              if (!p || !p->stateful) return std::nullopt;
              return static_cast<double>(p->state.state_rows);
            });
  per_query("strata_state_memory_bytes", "gauge", "Memory used by the query's operator state.",
            [](V, P p) -> std::optional<double> {
              if (!p || !p->stateful) return std::nullopt;
              return static_cast<double>(p->state.state_bytes);
            });

  auto total = [&](const std::string& name, const char* help,
                   const std::function<int64_t(const PipelineMetrics::QueryTotals&)>& value) {
    e.Family(name, "counter", help);
    for (const auto& [query, t] : totals) e.Sample({{"query", query}}, value(t));
  };
  using T = const PipelineMetrics::QueryTotals&;
  total("strata_query_batches_total", "Micro-batches completed since start.",
        [](T t) { return t.batches; });
  total("strata_query_input_rows_total", "Rows read since start.",
        [](T t) { return t.input_rows; });
  total("strata_rows_late_total", "Rows routed to the late-data table since start.",
        [](T t) { return t.late_rows; });
  total("strata_rows_dropped_by_watermark_total",
        "Rows dropped because their window had closed, since start.",
        [](T t) { return t.dropped_by_watermark; });
  total("strata_rows_dropped_duplicates_total", "Duplicate rows dropped since start.",
        [](T t) { return t.dropped_duplicates; });
  total("strata_rows_quarantined_total", "Rows routed to the quarantine table since start.",
        [](T t) { return t.quarantined_rows; });
  e.Family("strata_expectation_passed_rows_total", "counter",
           "Rows that passed a data-quality expectation since start.");
  for (const auto& [query, t] : totals)
    for (const auto& [name, counts] : t.expectations)
      e.Sample(Labels{{"query", query}, {"expectation", name}}, static_cast<double>(counts.first));
  e.Family("strata_expectation_failed_rows_total", "counter",
           "Rows that failed a data-quality expectation since start (warn: kept, drop: "
           "quarantined, fail: the query stopped).");
  for (const auto& [query, t] : totals)
    for (const auto& [name, counts] : t.expectations)
      e.Sample(Labels{{"query", query}, {"expectation", name}}, static_cast<double>(counts.second));
  e.Family("strata_table_rows_written_total", "counter", "Rows committed per table since start.");
  for (const auto& [query, t] : totals)
    for (const auto& [table, rows] : t.table_rows)
      e.Sample(Labels{{"query", query}, {"table", table}}, static_cast<double>(rows));

  e.Family("strata_query_failures_total", "counter", "Queries that terminated with an error.");
  e.Sample({}, static_cast<double>(counters.failed_terminations));
  e.Family("strata_http_sql_requests_total", "counter", "POST /api/sql requests.");
  e.Sample({}, static_cast<double>(counters.sql_requests));
  e.Family("strata_http_sql_errors_total", "counter", "POST /api/sql requests that failed.");
  e.Sample({}, static_cast<double>(counters.sql_errors));
  e.Family("strata_sse_clients", "gauge", "Connected /api/stream clients.");
  e.Sample({}, static_cast<double>(counters.sse_clients));
  e.Family("strata_sse_events_total", "counter", "Events published to /api/stream.");
  e.Sample({}, static_cast<double>(counters.sse_events));
  e.Family("strata_sse_dropped_events_total", "counter",
           "Events dropped for slow /api/stream clients (oldest first).");
  e.Sample({}, static_cast<double>(counters.sse_dropped));
  return e.Take();
}

}  // namespace strata::server
