#include "monitor/quality.h"

#include <gtest/gtest.h>

#include <map>
#include <set>

#include "core/time_util.h"
#include "event/generator.h"

namespace strata::monitor {
namespace {

MonitoringConfig QualityConfig() {
  MonitoringConfig c;
  c.quality_interval_ms = 1000;
  c.baseline_min_intervals = 8;
  c.rules.clear();
  for (const char* type :
       {"volume", "null_rate", "event_type_mix", "parse_failures", "schema_drift"}) {
    RuleConfig r;
    r.name = r.type = type;
    if (r.type == "null_rate") r.fraction = 0.1;
    c.rules.push_back(r);
  }
  return c;
}

GeneratorOptions Traffic(const std::string& scenarios) {
  GeneratorOptions o;
  o.seed = 5;
  o.simulated_start_ms = 1'764'000'000'000;
  o.simulated_rate = 400;  // records per simulated second
  o.duplicate_fraction = 0.02;
  o.late_fraction = 0.02;
  o.malformed_fraction = 0.01;
  o.unknown_type_fraction = 0.01;
  o.missing_field_fraction = 0.01;
  if (!scenarios.empty()) o.scenarios = *ParseScenarios(scenarios);
  return o;
}

// Runs `seconds` of simulated traffic through a QualityMonitor and returns, per alert subject,
// the simulated seconds (since the start) at which it was active after each interval closed.
std::map<std::string, std::set<int>> RunTraffic(const std::string& scenarios, int seconds,
                                                AlertManager& alerts) {
  GeneratorOptions o = Traffic(scenarios);
  QualityMonitor m(QualityConfig(), &alerts, /*close_delay_ms=*/0);
  TrafficGenerator g(o);
  GeneratedRecord r;
  std::map<std::string, std::set<int>> active;
  int64_t next_tick = o.simulated_start_ms + 1000;
  const int64_t end = o.simulated_start_ms + seconds * 1000LL;
  for (;;) {
    g.Next(r);
    if (r.clock_ms >= end) break;
    const int64_t elapsed = r.clock_ms - o.simulated_start_ms;
    bool dropped = false;  // RunProducer's rate change, as a thinning of the records
    for (const Scenario& s : o.scenarios)
      if (s.kind == Scenario::Kind::kVolumeDrop && s.Active(elapsed) &&
          (r.clock_ms % 1000) >= static_cast<int64_t>(s.fraction * 1000))
        dropped = true;
    if (!dropped) m.Observe(r.value, r.clock_ms);
    if (r.clock_ms >= next_tick) {
      m.CloseIntervals(next_tick);
      for (const Alert& a : alerts.Active())
        active[a.subject].insert(static_cast<int>((next_tick - o.simulated_start_ms) / 1000));
      next_tick += 1000;
    }
  }
  return active;
}

std::string Describe(const std::map<std::string, std::set<int>>& active) {
  std::string out;
  for (const auto& [s, secs] : active) {
    out += s + ":";
    for (int t : secs) out += " " + std::to_string(t);
    out += "\n";
  }
  return out;
}

// Active exactly within [from, to] seconds (fired within the bound, resolved after the end).
void ExpectActiveWithin(const std::map<std::string, std::set<int>>& active,
                        const std::string& subject, int from, int to) {
  auto it = active.find(subject);
  ASSERT_NE(it, active.end()) << subject << " never fired\n" << Describe(active);
  EXPECT_GE(*it->second.begin(), from) << Describe(active);
  EXPECT_LE(*it->second.begin(), from + 2) << "fired late\n" << Describe(active);
  EXPECT_LE(*it->second.rbegin(), to) << "not resolved\n" << Describe(active);
}

TEST(QualityMonitorTest, NormalTrafficRaisesNothing) {
  AlertManager alerts;
  auto active = RunTraffic("", 600, alerts);
  EXPECT_TRUE(active.empty()) << Describe(active);
  EXPECT_EQ(alerts.fired_total(), 0u);
}

TEST(QualityMonitorTest, NullSpikeFiresAndResolves) {
  AlertManager alerts;
  auto active = RunTraffic("null-spike:country:0.5@30s-45s", 70, alerts);
  ExpectActiveWithin(active, "null_rate:country", 31, 47);
  EXPECT_EQ(active.size(), 1u) << Describe(active);
}

TEST(QualityMonitorTest, NewFieldFiresWithTheFirstRecordsAndResolves) {
  AlertManager alerts;
  auto active = RunTraffic("new-field:coupon@30s-40s", 60, alerts);
  ExpectActiveWithin(active, "new_field:coupon", 31, 42);
  EXPECT_EQ(active.size(), 1u) << Describe(active);
  auto all = alerts.Snapshot();
  ASSERT_FALSE(all.empty());
  EXPECT_NE(all[0].details_json.find("coupon"), std::string::npos) << all[0].details_json;
  EXPECT_NE(all[0].details_json.find("first_records"), std::string::npos);
}

TEST(QualityMonitorTest, TypeChangeFiresAndResolves) {
  AlertManager alerts;
  auto active = RunTraffic("type-change:event_timestamp@30s-40s", 60, alerts);
  ExpectActiveWithin(active, "type_change:event_timestamp", 31, 42);
  EXPECT_EQ(active.size(), 1u) << Describe(active);
}

TEST(QualityMonitorTest, VolumeDropFiresAndResolves) {
  AlertManager alerts;
  auto active = RunTraffic("volume-drop:0.1@30s-45s", 70, alerts);
  ExpectActiveWithin(active, "volume", 31, 47);
}

TEST(QualityMonitorTest, ParseFailuresAndMixShift) {
  AlertManager alerts;
  GeneratorOptions o = Traffic("");
  QualityMonitor m(QualityConfig(), &alerts, 0);
  TrafficGenerator g(o);
  GeneratedRecord r;
  int64_t t = o.simulated_start_ms;
  for (int s = 0; s < 20; ++s) {
    for (int i = 0; i < 400; ++i) {
      g.Next(r);
      m.Observe(r.value, t + s * 1000 + i);
    }
    m.CloseIntervals(t + (s + 1) * 1000);
  }
  EXPECT_TRUE(alerts.Active().empty());
  // Two seconds of garbage and only purchases (the mix rule wants 2 anomalous intervals).
  for (int i = 0; i < 800; ++i) {
    if (i == 400) {
      m.CloseIntervals(t + 21'000);
      EXPECT_TRUE(alerts.IsActive("parse_failures", "parse"));
      EXPECT_FALSE(alerts.IsActive("event_type_mix", "event_type"));
    }
    m.Observe(
        i % 4 == 0
            ? std::string_view("{oops")
            : std::string_view(
                  R"({"event_id":"e","user_id":"u","session_id":"s","event_type":"purchase","page_url":"/","referrer":null,"device_type":"web","country":"US","event_timestamp":1,"properties":{}})"),
        t + 20'000 + (i / 400) * 1000 + i % 400);
  }
  m.CloseIntervals(t + 22'000);
  EXPECT_TRUE(alerts.IsActive("parse_failures", "parse"));
  EXPECT_TRUE(alerts.IsActive("event_type_mix", "event_type"));
}

// A record a year old (a producer's clock, a replayed topic) does not make the monitor judge a
// year of empty one-second intervals one by one: it judges as many as its history keeps.
TEST(QualityMonitorTest, ALongGapIsJudgedOnlyAsFarAsTheHistoryReaches) {
  AlertManager alerts;
  MonitoringConfig c = QualityConfig();
  QualityMonitor m(c, &alerts, 0);
  const int64_t now = (NowMillis() / 1000) * 1000;
  m.Observe(R"({"event_id":"e"})", now - 365LL * 86'400'000);
  m.CloseIntervals(now);
  std::vector<QualityInterval> h = m.History();
  ASSERT_EQ(h.size(), static_cast<size_t>(c.baseline_max_intervals));
  EXPECT_EQ(h.back().start_ms, now - 1000);
  EXPECT_EQ(h.back().records, 0);
  m.Observe(R"({"event_id":"e"})", now + 500);
  m.CloseIntervals(now + 1000);
  h = m.History();
  EXPECT_EQ(h.back().start_ms, now);
  EXPECT_EQ(h.back().records, 1);
}

// The tap counts what bronze reads: every record once, even when a batch is read again (a retry
// or a replay), and the per-field counts are the same as observing each record directly.
TEST(QualityTapTest, CountsEachRecordOnceAndMatchesDirectObservation) {
  AlertManager alerts_a, alerts_b;
  auto tapped = std::make_shared<QualityMonitor>(QualityConfig(), &alerts_a, 0);
  QualityMonitor direct(QualityConfig(), &alerts_b, 0);
  GeneratorOptions o = Traffic("");
  TrafficGenerator g(o);
  GeneratedRecord gr;
  std::vector<std::string> values;
  std::vector<KafkaRecord> records;
  for (int i = 0; i < 3000; ++i) {
    g.Next(gr);
    values.push_back(gr.value);
  }
  // Ahead of the clock, so that the tap's own timer closes none of these intervals.
  const int64_t t0 = (NowMillis() / 1000 + 3600) * 1000;
  for (int i = 0; i < 3000; ++i) {
    KafkaRecord r;
    r.value = values[i];
    r.has_value = true;
    r.partition = i % 3;
    r.offset = i / 3;
    r.timestamp_ms = t0 + i;  // three intervals of 1,000 records
    records.push_back(r);
    direct.Observe(r.value, r.timestamp_ms, r.partition, r.offset);
  }
  {
    QualityTap tap(tapped, 10);
    tap.ObserveRecords("t", records.data(), 2000);
    tap.ObserveRecords("t", records.data() + 1000, 1000);  // read again: a retried batch
    tap.ObserveRecords("t", records.data() + 1500, 1500);  // overlapping the next read
    tap.Stop();                                            // counts everything pending first
    EXPECT_EQ(tap.observed_records(), 3000u);
    EXPECT_EQ(tap.dropped_records(), 0u);
    tap.ObserveRecords("t", records.data(), 10);  // after Stop: ignored
    EXPECT_EQ(tap.observed_records(), 3000u);
  }
  tapped->CloseIntervals(t0 + 10'000);
  direct.CloseIntervals(t0 + 10'000);
  std::vector<QualityInterval> a = tapped->History(), b = direct.History();
  ASSERT_EQ(a.size(), b.size());
  ASSERT_EQ(a.size(), 10u);
  int64_t total = 0;
  for (size_t i = 0; i < a.size(); ++i) {
    SCOPED_TRACE(i);
    EXPECT_EQ(a[i].start_ms, b[i].start_ms);
    EXPECT_EQ(a[i].records, b[i].records);
    EXPECT_EQ(a[i].objects, b[i].objects);
    EXPECT_EQ(a[i].parse_failures, b[i].parse_failures);
    EXPECT_EQ(a[i].nulls, b[i].nulls);
    EXPECT_EQ(a[i].absent, b[i].absent);
    EXPECT_EQ(a[i].wrong_type, b[i].wrong_type);
    EXPECT_EQ(a[i].event_types, b[i].event_types);
    EXPECT_EQ(a[i].new_fields, b[i].new_fields);
    total += a[i].records;
  }
  EXPECT_EQ(total, 3000);
  // The generator's malformed, missing-field and unknown-type records were counted.
  int64_t failures = 0, absent = 0;
  for (const auto& iv : a) {
    failures += iv.parse_failures;
    for (const auto& [f, n] : iv.absent) absent += n;
  }
  EXPECT_GT(failures, 0);
  EXPECT_GT(absent, 0);
}

// A monitor that falls behind never holds up the reader: past the byte bound, records are
// dropped and counted.
TEST(QualityTapTest, DropsRecordsBeyondItsBoundAndCountsThem) {
  AlertManager alerts;
  auto monitor = std::make_shared<QualityMonitor>(QualityConfig(), &alerts, 0);
  const std::string value(100, 'x');
  std::vector<KafkaRecord> records(50);
  for (size_t i = 0; i < records.size(); ++i) {
    records[i].value = value;
    records[i].partition = 0;
    records[i].offset = static_cast<int64_t>(i);
    records[i].timestamp_ms = NowMillis() + 3'600'000;
  }
  // A tick far away and the records handed over in one call: the thread has not taken any
  // of them while the call appends, so the bound of 10 values decides.
  QualityTap tap(monitor, 60'000, 1000);
  tap.ObserveRecords("t", records.data(), records.size());
  tap.Stop();
  EXPECT_EQ(tap.observed_records() + tap.dropped_records(), 50u);
  EXPECT_EQ(tap.observed_records(), 10u);
  EXPECT_EQ(tap.dropped_records(), 40u);
}

}  // namespace
}  // namespace strata::monitor
