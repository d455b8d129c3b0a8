#pragma once

#include <memory>
#include <string>
#include <vector>

#include "batch/schema.h"
#include "connectors/kafka_source.h"
#include "operators/watermark.h"
#include "pipeline/enrichment.h"
#include "pipeline/expectations.h"
#include "stream/processor.h"

namespace strata {

class BronzeBatchBuilder;
class Deduplicator;
class TopKTracker;
class WindowAggregator;

// Schemas of the tables the pipeline writes (documented in docs/tables.md).
SchemaPtr SilverSchema();
SchemaPtr SilverLateSchema();
SchemaPtr SilverQuarantineSchema();
// The data-quality table of silver's expectations: one row per batch per expectation
// (batch_id, timestamp, expectation, action, passed, failed).
SchemaPtr SilverQualitySchema();

// Kafka records -> bronze rows (event/bronze_builder.h).
class BronzeDecoder : public RecordDecoder {
 public:
  BronzeDecoder();
  ~BronzeDecoder() override;
  SchemaPtr schema() const override;
  Status Decode(std::string_view topic, const KafkaRecord* records, size_t count,
                int64_t ingestion_ms) override;
  size_t buffered_rows() const override;
  RecordBatch Finish() override;

 private:
  std::unique_ptr<BronzeBatchBuilder> builder_;
};

// Bronze keeps every record as it came: the processor passes rows through.
class BronzeProcessor : public BatchProcessor {
 public:
  Status BeginBatch(const BatchContext&) override { return Status::OK(); }
  Status Process(RecordBatch&& input, std::vector<std::vector<RecordBatch>>& outputs) override;
  Status EndBatch(std::vector<std::vector<RecordBatch>>&, ProcessorMetrics&) override;
  int64_t NextWatermark(int64_t) override { return 0; }
  std::string Fingerprint() const override { return "bronze/v1"; }

 private:
  int64_t rows_ = 0;
  int64_t errors_ = 0;
};

// A validation rule of silver beyond the built-in ones: `field` (a string column of bronze)
// must be non-empty, and when `allowed` is not empty, one of those values. Rows breaking it go
// to quarantine with rule "<field>_required" or "<field>_allowed".
struct FieldRule {
  std::string field;
  bool required = false;
  std::vector<std::string> allowed;
};

struct SilverOptions {
  int64_t watermark_delay_ms = 10 * 60'000;
  WatermarkPolicy watermark_policy = WatermarkPolicy::kMin;
  int64_t idle_timeout_ms = 0;
  std::string dedup_key = "event_id";
  std::vector<std::string> event_types;
  std::vector<FieldRule> field_rules;
  // > 0: an event time more than this after the batch's processing time is quarantined with
  // rule "event_time_future".
  int64_t max_future_ms = 0;
  // Dimension tables joined to each silver row (page_category, product by page_url; region by
  // country); re-read when they get a new version.
  EnrichmentOptions enrichment;
  // DLT-style expectations over the bronze columns of the rows that passed the built-in
  // validation (pipeline/expectations.h). Not part of Fingerprint(): changing them does not
  // invalidate the checkpoint (a batch stopped by a failing `fail` expectation re-runs with the
  // new ones).
  std::vector<ExpectationConfig> expectations;
};

// Bronze -> silver (outputs: 0 silver, 1 late, 2 quarantine, and 3 quality when there are
// expectations).
//   1. validation: a row with a parse error, no event_id or user_id, or an event type not in
//      the allowed list goes to quarantine with the rule it broke;
//   1b. expectations, each evaluated over the whole batch a column at a time and counted over
//      the rows that passed step 1 (each expectation independently): `warn` only counts; a row
//      failing a `drop` expectation goes to quarantine with the first such expectation's name as
//      its rule; a row failing a `fail` expectation makes Process return InvalidArgument naming
//      the expectation with the first failing row (the query stops, the batch is not committed,
//      and a restart re-runs it). EndBatch writes one quality row per expectation;
//   2. event_time = event_timestamp (ms) as a timestamp; event_date and event_hour from it;
//   3. lateness: a valid row with event_time < the batch's watermark goes to the late table
//      with how late it was;
//   4. dedup within the watermark on the key (operators/dedup.h; the first copy wins);
//   5. enrichment: page_category and product from the pages dimension by page_url, region
//      from the countries dimension by country (null when absent or not configured). The
//      dimensions are checked for a new version at the start of every batch, so a batch re-run
//      after a crash may see a newer dimension than its first run (as Spark's stream-static
//      joins).
// State: the watermark tracker and the dedup keys, per Kafka partition.
class SilverProcessor : public BatchProcessor {
 public:
  static Result<std::unique_ptr<SilverProcessor>> Create(const SilverOptions& options);
  ~SilverProcessor() override;
  Status BeginBatch(const BatchContext& ctx) override;
  Status Process(RecordBatch&& input, std::vector<std::vector<RecordBatch>>& outputs) override;
  Status EndBatch(std::vector<std::vector<RecordBatch>>& outputs, ProcessorMetrics& m) override;
  int64_t NextWatermark(int64_t now_ms) override;
  bool stateful() const override { return true; }
  Status SaveState(bool full, StateSink& sink) override;
  Status LoadState(const std::vector<StateBlob>& snapshot,
                   const std::vector<std::vector<StateBlob>>& deltas) override;
  std::string Fingerprint() const override;

 private:
  explicit SilverProcessor(const SilverOptions& options);
  // Appends the enrichment columns to `rows` (whose base columns are filled).
  void Enrich(RecordBatch& rows) const;
  // Step 1b over `in`: counts, quarantines drop failures into `quarantine`, clears keep_[r] for
  // them; InvalidArgument for a failing `fail` expectation.
  Status ApplyExpectations(const RecordBatch& in, RecordBatch& quarantine);
  SilverOptions options_;
  std::vector<std::string> sorted_types_;
  struct CompiledRule {
    int column;
    std::string required_rule, allowed_rule;
    bool required;
    std::vector<std::string> sorted_allowed;
  };
  std::vector<CompiledRule> rules_;
  std::vector<Expectation> expectations_;
  struct ExpectationCount {
    int64_t passed = 0, failed = 0;
  };
  std::vector<ExpectationCount> expectation_counts_;  // of the current batch
  // Per-batch scratch, reused: rows that passed the built-in validation, rows still bound for
  // silver or late, one expectation's result, and the row selections gathered per output.
  std::vector<uint8_t> checked_, keep_, pass_;
  std::vector<uint32_t> on_time_rows_, late_rows_, dropped_rows_;
  std::unique_ptr<DimensionTable> pages_;
  std::unique_ptr<DimensionTable> countries_;
  std::unique_ptr<WatermarkTracker> tracker_;
  std::unique_ptr<Deduplicator> dedup_;
  BatchContext ctx_;
  int64_t watermark_micros_ = 0;
  ProcessorMetrics batch_metrics_;
  uint64_t dropped_before_ = 0;
};

enum class GoldOutputMode : uint8_t {
  kAppend,  // one final row per window, once the watermark passes its end
  kUpdate,  // each batch: the windows that changed (is_final = false), then those now final
};

struct GoldOptions {
  int64_t watermark_delay_ms = 5 * 60'000;
  WatermarkPolicy watermark_policy = WatermarkPolicy::kMin;
  int64_t idle_timeout_ms = 0;
  GoldOutputMode output_mode = GoldOutputMode::kAppend;
  std::string event_type_filter;  // non-empty: only rows with this event_type are aggregated
  int64_t window_ms = 60'000;
  int64_t slide_ms = 60'000;
  std::string key_column = "event_type";  // empty: one group per window
  std::string distinct_column = "user_id";
  // > 0 (needs a key column): each window keeps only the top_k keys by event_count, ties by key
  // (pipeline/top_k.h), with a `rank` column after is_final.
  int64_t top_k = 0;
  std::string value_column;  // int64 silver column: sum/min/max per window and key; "" = none
};

// Silver -> gold: event-time window aggregation. Append mode: a window's row is written once,
// when the watermark passes its end. Update mode: every batch writes the windows whose
// aggregate changed (is_final = false) followed by the windows that became final
// (is_final = true); the sink keeps the last row per window (UpsertDeltaSink). Output:
// window_start, window_end, [<key>], event_count, unique_users, users_sketch, is_final. State: the
// watermark tracker and the open windows (counts and HyperLogLog registers) per Kafka partition.
class GoldProcessor : public BatchProcessor {
 public:
  static Result<std::unique_ptr<GoldProcessor>> Create(const GoldOptions& options);
  ~GoldProcessor() override;
  SchemaPtr output_schema() const;
  // The silver columns Process reads (the source need not read the others).
  std::vector<std::string> InputColumns() const;
  Status BeginBatch(const BatchContext& ctx) override;
  Status Process(RecordBatch&& input, std::vector<std::vector<RecordBatch>>& outputs) override;
  Status EndBatch(std::vector<std::vector<RecordBatch>>& outputs, ProcessorMetrics& m) override;
  int64_t NextWatermark(int64_t now_ms) override;
  bool WantsNoDataBatch(int64_t watermark_ms) const override;
  bool stateful() const override { return true; }
  Status SaveState(bool full, StateSink& sink) override;
  Status LoadState(const std::vector<StateBlob>& snapshot,
                   const std::vector<std::vector<StateBlob>>& deltas) override;
  std::string Fingerprint() const override;

 private:
  explicit GoldProcessor(const GoldOptions& options);
  GoldOptions options_;
  std::unique_ptr<WatermarkTracker> tracker_;
  std::unique_ptr<WindowAggregator> agg_;
  SchemaPtr top_k_schema_;              // with top_k: the output schema
  std::unique_ptr<TopKTracker> top_k_;  // with top_k; reset by LoadState
  BatchContext ctx_;
  int64_t watermark_micros_ = 0;
  int64_t last_emitted_watermark_ms_ = 0;
  uint64_t dropped_before_ = 0;
  int64_t max_event_time_ms_ = -1;
};

}  // namespace strata
