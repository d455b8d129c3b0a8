#include "event/generator.h"

#include <gtest/gtest.h>

#include <chrono>
#include <set>
#include <unordered_set>

#include "event/bronze_builder.h"
#include "event/event_schema.h"
#include "kafka/embedded_cluster.h"
#include "kafka/source_reader.h"

namespace strata {
namespace {

GeneratorOptions Sim(uint64_t seed) {
  GeneratorOptions o;
  o.seed = seed;
  o.simulated_start_ms = 1764000000000;
  o.simulated_rate = 10000;
  return o;
}

TEST(GeneratorTest, DeterministicForASeed) {
  TrafficGenerator a(Sim(7)), b(Sim(7)), c(Sim(8));
  GeneratedRecord ra, rb, rc;
  int differ = 0;
  for (int i = 0; i < 2000; ++i) {
    a.Next(ra);
    b.Next(rb);
    c.Next(rc);
    ASSERT_EQ(ra.key, rb.key);
    ASSERT_EQ(ra.value, rb.value);
    ASSERT_EQ(ra.kind, rb.kind);
    ASSERT_EQ(ra.clock_ms, rb.clock_ms);
    differ += ra.value != rc.value;
  }
  EXPECT_EQ(differ, 2000);
  EXPECT_EQ(a.generated(), 2000u);
  EXPECT_EQ(ra.clock_ms, 1764000000000 + 1999 / 10);
}

// Runs generated records through the bronze builder so the checks below see what the pipeline
// would see.
struct Parsed {
  std::vector<GeneratedRecord> records;
  RecordBatch batch{BronzeSchema()};
};

Parsed Generate(const GeneratorOptions& options, int n) {
  Parsed out;
  TrafficGenerator gen(options);
  BronzeBatchBuilder builder;
  builder.set_ingestion_timestamp_micros(1);
  out.records.resize(n);
  for (int i = 0; i < n; ++i) {
    gen.Next(out.records[i]);
    KafkaRecord r;
    r.key = out.records[i].key;
    r.has_key = true;
    r.value = out.records[i].value;
    r.has_value = true;
    r.offset = i;
    r.timestamp_ms = out.records[i].clock_ms;
    builder.Append("t", r);
  }
  out.batch = builder.Finish();
  return out;
}

TEST(GeneratorTest, CleanTrafficParsesAndHasTheConfiguredShape) {
  const int n = 50000;
  Parsed p = Generate(Sim(1), n);
  const RecordBatch& b = p.batch;
  ASSERT_EQ(b.num_rows(), static_cast<size_t>(n));
  std::map<std::string, int> types, devices, countries, pages;
  std::unordered_set<std::string> event_ids;
  std::set<std::string> sessions;
  for (int i = 0; i < n; ++i) {
    ASSERT_EQ(p.records[i].kind, RecordKind::kNormal);
    ASSERT_TRUE(b.column(bronze::kParseError).IsNull(i))
        << b.column(bronze::kParseError).String(i) << " in " << p.records[i].value;
    EXPECT_EQ(b.column(bronze::kKafkaKey).String(i), b.column(bronze::kUserId).String(i));
    EXPECT_EQ(b.column(bronze::kEventTimestamp).Int64(i), p.records[i].clock_ms);
    EXPECT_TRUE(event_ids.insert(std::string(b.column(bronze::kEventId).String(i))).second);
    ++types[std::string(b.column(bronze::kEventType).String(i))];
    ++devices[std::string(b.column(bronze::kDeviceType).String(i))];
    ++countries[std::string(b.column(bronze::kCountry).String(i))];
    ++pages[std::string(b.column(bronze::kPageUrl).String(i))];
    sessions.insert(std::string(b.column(bronze::kSessionId).String(i)));
    EXPECT_EQ(b.column(bronze::kProperties).String(i).front(), '{');
  }
  auto share = [&](const std::map<std::string, int>& m, const char* k) {
    auto it = m.find(k);
    return it == m.end() ? 0.0 : static_cast<double>(it->second) / n;
  };
  EXPECT_NEAR(share(types, "page_view"), 0.50, 0.01);
  EXPECT_NEAR(share(types, "click"), 0.25, 0.01);
  EXPECT_NEAR(share(types, "scroll"), 0.15, 0.01);
  EXPECT_NEAR(share(types, "add_to_cart"), 0.07, 0.01);
  EXPECT_NEAR(share(types, "purchase"), 0.03, 0.01);
  EXPECT_EQ(types.size(), 5u);
  EXPECT_GE(devices.size(), 4u);
  EXPECT_GT(share(countries, "US"), share(countries, "DE"));
  EXPECT_GT(countries.size(), 10u);
  // Zipf: the home page is the most popular and far above the median page.
  EXPECT_GT(share(pages, "https://shop.example.com/"), 0.1);
  EXPECT_GT(pages.size(), 500u);
  EXPECT_GT(sessions.size(), 1000u);
  EXPECT_LT(sessions.size(), static_cast<size_t>(n));
}

TEST(GeneratorTest, KnobFractionsAndGroundTruth) {
  GeneratorOptions o = Sim(3);
  o.duplicate_fraction = 0.05;
  o.late_fraction = 0.08;
  o.malformed_fraction = 0.03;
  o.unknown_type_fraction = 0.04;
  o.missing_field_fraction = 0.02;
  const int n = 100000;
  Parsed p = Generate(o, n);
  const RecordBatch& b = p.batch;
  std::array<int, kNumRecordKinds> counts{};
  std::unordered_set<std::string> seen_values;
  const auto& known = KnownEventTypes();
  for (int i = 0; i < n; ++i) {
    const GeneratedRecord& r = p.records[i];
    ++counts[static_cast<int>(r.kind)];
    const bool has_error = !b.column(bronze::kParseError).IsNull(i);
    const std::string error = has_error ? std::string(b.column(bronze::kParseError).String(i)) : "";
    switch (r.kind) {
      case RecordKind::kNormal:
        EXPECT_FALSE(has_error) << error;
        EXPECT_EQ(r.event_timestamp_ms, r.clock_ms);
        break;
      case RecordKind::kDuplicate:
        EXPECT_FALSE(has_error) << error;
        EXPECT_TRUE(seen_values.count(r.value)) << "a duplicate re-sends an earlier record";
        break;
      case RecordKind::kLate:
        EXPECT_FALSE(has_error) << error;
        EXPECT_LE(r.event_timestamp_ms, r.clock_ms - 1000);
        EXPECT_GE(r.event_timestamp_ms, r.clock_ms - o.max_lateness_ms);
        EXPECT_EQ(b.column(bronze::kEventTimestamp).Int64(i), r.event_timestamp_ms);
        break;
      case RecordKind::kMalformed:
        EXPECT_EQ(error.rfind("malformed JSON", 0), 0u) << error << " in " << r.value;
        break;
      case RecordKind::kUnknownType:
        EXPECT_FALSE(has_error) << error;
        EXPECT_EQ(std::find(known.begin(), known.end(), b.column(bronze::kEventType).String(i)),
                  known.end());
        break;
      case RecordKind::kMissingField:
        EXPECT_EQ(error.rfind("missing required field", 0), 0u) << error << " in " << r.value;
        break;
    }
    if (r.kind != RecordKind::kMalformed) {
      EXPECT_EQ(b.column(bronze::kKafkaKey).String(i), r.key);
      if (!b.column(bronze::kUserId).IsNull(i)) {
        EXPECT_EQ(b.column(bronze::kUserId).String(i), r.key);
      }
    }
    seen_values.insert(r.value);
  }
  auto frac = [&](RecordKind k) { return static_cast<double>(counts[static_cast<int>(k)]) / n; };
  EXPECT_NEAR(frac(RecordKind::kDuplicate), 0.05, 0.005);
  EXPECT_NEAR(frac(RecordKind::kLate), 0.08, 0.005);
  EXPECT_NEAR(frac(RecordKind::kMalformed), 0.03, 0.005);
  EXPECT_NEAR(frac(RecordKind::kUnknownType), 0.04, 0.005);
  EXPECT_NEAR(frac(RecordKind::kMissingField), 0.02, 0.005);
  EXPECT_NEAR(frac(RecordKind::kNormal), 0.78, 0.01);
}

TEST(GeneratorTest, ScenariosParse) {
  auto s = ParseScenarios(
      "volume-drop@30s-60s,null-spike:country@10s-20s,new-field:coupon@40s,"
      "type-change:event_timestamp@50s,null-spike:referrer:0.25@1m-1500ms");
  ASSERT_FALSE(s.ok()) << "end before start";
  s = ParseScenarios(
      "volume-drop:0.2@30s-60s,null-spike:country@10s-20s,new-field:coupon@40s,"
      "type-change:event_timestamp@50s-70s");
  ASSERT_TRUE(s.ok()) << s.status().ToString();
  ASSERT_EQ(s->size(), 4u);
  EXPECT_EQ((*s)[0].kind, Scenario::Kind::kVolumeDrop);
  EXPECT_DOUBLE_EQ((*s)[0].fraction, 0.2);
  EXPECT_EQ((*s)[0].start_ms, 30'000);
  EXPECT_EQ((*s)[0].end_ms, 60'000);
  EXPECT_EQ((*s)[1].field, "country");
  EXPECT_DOUBLE_EQ((*s)[1].fraction, 0.5);
  EXPECT_EQ((*s)[2].end_ms, INT64_MAX);
  EXPECT_EQ((*s)[3].end_ms, 70'000);
  for (const char* bad : {"volume-drop@30s", "null-spike@1s-2s", "nope@1s", "new-field:x",
                          "null-spike:c:2@1s-2s", "new-field:x:0.5@1s", "volume-drop@x-2s"}) {
    auto r = ParseScenarios(bad);
    ASSERT_FALSE(r.ok()) << bad;
    EXPECT_NE(r.status().message().find(bad), std::string::npos) << r.status().message();
  }
}

TEST(GeneratorTest, ScenariosAlterEventsOnlyWhileActive) {
  GeneratorOptions o = Sim(3);
  o.simulated_rate = 1000;  // 1 ms per record
  o.scenarios = *ParseScenarios(
      "null-spike:country:1@1s-2s,new-field:coupon@2s-3s,type-change:event_timestamp@3s-4s");
  TrafficGenerator g(o);
  GeneratedRecord r;
  int nulls = 0, coupons = 0, strings = 0, parsed = 0;
  for (int i = 0; i < 5000; ++i) {
    g.Next(r);
    const int64_t t = r.clock_ms - o.simulated_start_ms;
    const bool null_country = r.value.find("\"country\":null") != std::string::npos;
    const bool coupon = r.value.find("\"coupon\":\"v-") != std::string::npos;
    const bool string_ts = r.value.find("\"event_timestamp\":\"") != std::string::npos;
    EXPECT_EQ(null_country, t >= 1000 && t < 2000) << t << " " << r.value;
    EXPECT_EQ(coupon, t >= 2000 && t < 3000) << t << " " << r.value;
    if (r.kind == RecordKind::kNormal) {
      EXPECT_EQ(string_ts, t >= 3000 && t < 4000) << t << " " << r.value;
    }
    nulls += null_country;
    coupons += coupon;
    strings += string_ts;
    if (r.value.front() == '{' && r.value.back() == '}') ++parsed;
  }
  EXPECT_GT(nulls, 900);
  EXPECT_GT(coupons, 900);
  EXPECT_GT(strings, 900);
  EXPECT_EQ(parsed, 5000);
}

TEST(GeneratorTest, RunProducerDeliversToKafka) {
  auto cluster = EmbeddedCluster::Start({1, {{"clickstream-events", 4}}, 1});
  ASSERT_TRUE(cluster.ok()) << cluster.status().ToString();
  ProduceOptions o;
  o.bootstrap = (*cluster)->bootstrap_servers();
  o.rate = 20000;
  o.max_records = 3000;
  o.generator = Sim(5);
  o.generator.malformed_fraction = 0.1;
  ProduceCounters counters;
  o.counters = &counters;
  std::atomic<bool> stop{false};
  auto stats = RunProducer(o, stop);
  ASSERT_TRUE(stats.ok()) << stats.status().ToString();
  EXPECT_EQ(stats->produced, 3000u);
  EXPECT_EQ(counters.produced.load(), 3000u);
  EXPECT_EQ(counters.delivered.load(), 3000u);
  EXPECT_EQ(stats->delivered, 3000u);
  EXPECT_EQ(stats->delivery_errors, 0u);
  EXPECT_GT(stats->by_kind[static_cast<int>(RecordKind::kMalformed)], 150u);

  auto reader = KafkaReader::Create(o.bootstrap);
  ASSERT_TRUE(reader.ok());
  auto marks = (*reader)->Watermarks(o.topic, {0, 1, 2, 3}, std::chrono::seconds(10));
  ASSERT_TRUE(marks.ok()) << marks.status().ToString();
  std::vector<PartitionRange> plan;
  int64_t total = 0;
  for (const auto& w : *marks) {
    plan.push_back({w.partition, w.low, w.high});
    total += w.high - w.low;
  }
  EXPECT_EQ(total, 3000);
  BronzeBatchBuilder builder;
  Status st = (*reader)->ReadRange(o.topic, plan, builder,
                                   std::chrono::steady_clock::now() + std::chrono::seconds(30));
  ASSERT_TRUE(st.ok()) << st.ToString();
  RecordBatch batch = builder.Finish();
  EXPECT_EQ(batch.num_rows(), 3000u);
  size_t errors =
      batch.column(bronze::kParseError).size() - batch.column(bronze::kParseError).null_count();
  EXPECT_EQ(errors, stats->by_kind[static_cast<int>(RecordKind::kMalformed)]);
}

TEST(GeneratorTest, RunProducerStopsOnRequest) {
  std::atomic<bool> stop{true};
  ProduceOptions o;
  o.bootstrap = "127.0.0.1:1";
  auto stats = RunProducer(o, stop);
  ASSERT_TRUE(stats.ok()) << stats.status().ToString();
  EXPECT_EQ(stats->produced, 0u);
  o.rate = 0;
  EXPECT_EQ(RunProducer(o, stop).status().code(), StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace strata
