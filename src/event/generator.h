#pragma once

#include <array>
#include <atomic>
#include <climits>
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "core/status.h"

namespace strata {

// What a generated record is, as ground truth for tests.
enum class RecordKind : uint8_t {
  kNormal,        // a fresh, valid event stamped with the current clock
  kDuplicate,     // an earlier normal/late record re-sent byte for byte (same key and value)
  kLate,          // a fresh, valid event whose event_timestamp lags the clock
  kMalformed,     // a value that is not a JSON object (bronze: "malformed JSON: ...")
  kUnknownType,   // valid JSON whose event_type is none of KnownEventTypes()
  kMissingField,  // valid JSON lacking (or nulling) one required field
};
inline constexpr int kNumRecordKinds = 6;
const char* RecordKindName(RecordKind kind);

// A change of the traffic between two times (relative to the first generated record; for
// RunProducer, to its start), to exercise data-quality monitors:
//   volume-drop[:F]@T1-T2        the produce rate is multiplied by F (default 0.1)
//   null-spike:FIELD[:F]@T1-T2   FIELD is written as null in a fraction F (default 0.5) of events
//   new-field:NAME@T1[-T2]       events carry an extra string field NAME
//   type-change:FIELD@T1[-T2]    FIELD changes JSON type (a number becomes a string, others a
//                                number)
// Times are like 30s, 1500ms, 2m; without -T2 the scenario lasts until the end. Only valid
// (normal and late) events are altered.
struct Scenario {
  enum class Kind : uint8_t { kVolumeDrop, kNullSpike, kNewField, kTypeChange };
  Kind kind = Kind::kVolumeDrop;
  std::string field;
  double fraction = 0.0;
  int64_t start_ms = 0;
  int64_t end_ms = INT64_MAX;  // exclusive
  bool Active(int64_t elapsed_ms) const { return elapsed_ms >= start_ms && elapsed_ms < end_ms; }
};
// Parses a comma-separated list of the forms above. InvalidArgument names the bad item.
Result<std::vector<Scenario>> ParseScenarios(const std::string& spec);

struct GeneratorOptions {
  uint64_t seed = 42;
  int num_users = 100000;
  int num_pages = 1000;
  double page_zipf_s = 1.1;  // page popularity ~ 1 / rank^s
  // Clock: 0 = the wall clock at each Next(); otherwise a simulated clock starting here (ms
  // since the epoch) and advancing by 1000 / simulated_rate ms per record.
  int64_t simulated_start_ms = 0;
  double simulated_rate = 1000.0;
  int64_t session_timeout_ms = 30 * 60 * 1000;  // a user's session ends after this much silence
  int max_events_per_session = 50;              // ... or after N events, N uniform in [1, this]
  // Fractions of records of each abnormal kind; the rest are normal. Must sum to <= 1.
  double duplicate_fraction = 0.0;
  double late_fraction = 0.0;
  double malformed_fraction = 0.0;
  double unknown_type_fraction = 0.0;
  double missing_field_fraction = 0.0;
  // Late events lag the clock by 1 s + an exponential delay of this mean, at most max.
  int64_t mean_lateness_ms = 3 * 60 * 1000;
  int64_t max_lateness_ms = 20 * 60 * 1000;
  std::vector<Scenario> scenarios;  // applied in order; empty: none
};

// One generated Kafka record. Reuse one instance across Next() calls: the strings keep their
// capacity, so steady-state generation does not allocate.
struct GeneratedRecord {
  std::string key;    // the user_id
  std::string value;  // JSON event bytes (or garbage for kMalformed)
  RecordKind kind = RecordKind::kNormal;
  int64_t event_timestamp_ms = 0;  // the value's event_timestamp (of the original, for dups)
  int64_t clock_ms = 0;            // the generator clock when the record was made
};

// Synthetic clickstream traffic: users with sessions, Zipf-popular pages, skewed countries,
// web and mobile devices, referrers, an event mix of 50% page_view, 25% click, 15% scroll,
// 7% add_to_cart, 3% purchase, UUID-like event ids, and small `properties` objects, plus the
// abnormal kinds above at the configured fractions. Deterministic for a seed with the
// simulated clock. Not thread-safe; one generator per producing thread.
class TrafficGenerator {
 public:
  explicit TrafficGenerator(GeneratorOptions options);

  void Next(GeneratedRecord& out);
  uint64_t generated() const { return generated_; }
  const GeneratorOptions& options() const { return options_; }

 private:
  struct UserState {
    uint64_t session = 0;
    int64_t last_ms = 0;
    int remaining = 0;
  };
  struct Sent {  // a recently sent valid record, for duplicates
    std::string key;
    std::string value;
    int64_t event_timestamp_ms = 0;
  };

  uint64_t NextU64();
  double NextDouble();  // [0, 1)
  int64_t Clock();
  void WriteEvent(GeneratedRecord& out, int user, std::string_view event_type, int64_t event_ts,
                  int omit_required);
  void AppendUuid(std::string& out);
  void AppendHex(std::string& out, uint64_t v, int digits);

  // Applies the scenarios active at out.clock_ms to a valid event.
  void ApplyScenarios(GeneratedRecord& out);

  GeneratorOptions options_;
  int64_t scenario_origin_ms_ = -1;  // clock of the first record
  std::array<uint64_t, 4> rng_;
  uint64_t generated_ = 0;
  std::vector<std::string> pages_;
  std::vector<double> page_cdf_;
  std::vector<UserState> users_;
  std::vector<Sent> recent_;  // ring buffer
  size_t recent_next_ = 0;
  size_t recent_size_ = 0;
};

// Live counters of a running RunProducer, readable from any thread (e.g. a CLI printing
// progress). Owned by the caller.
struct ProduceCounters {
  std::atomic<uint64_t> produced{0};
  std::atomic<uint64_t> delivered{0};
  std::atomic<uint64_t> delivery_errors{0};
};

struct ProduceOptions {
  std::string bootstrap;
  std::string topic = "clickstream-events";
  double rate = 1000.0;      // records per second
  double duration_s = 0.0;   // 0 = until `stop`
  uint64_t max_records = 0;  // 0 = no limit
  GeneratorOptions generator;
  std::map<std::string, std::string> kafka_config;  // passthrough to the Producer
  ProduceCounters* counters = nullptr;              // optional, updated about every 1 ms
};

struct ProduceStats {
  uint64_t produced = 0;
  std::array<uint64_t, kNumRecordKinds> by_kind{};
  uint64_t delivered = 0;
  uint64_t delivery_errors = 0;
  double elapsed_s = 0.0;
};

// Produces generated records to Kafka at `rate` (a token bucket refilled every ~1 ms, so the
// flow is smooth rather than bursty) until `duration_s`, `max_records` or `stop` becomes true,
// then flushes. Prints nothing. Errors: InvalidArgument for bad options or Kafka config,
// Unavailable when the records cannot be flushed within 30 s (the message says how many were
// still in flight; `counters` still hold the counts). Setting `stop` also ends a wait for room
// in the local queue (e.g. while the brokers are down); the records still queued are then
// given the same 30 s flush.
Result<ProduceStats> RunProducer(const ProduceOptions& options, std::atomic<bool>& stop);

}  // namespace strata
