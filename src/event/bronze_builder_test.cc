#include "event/bronze_builder.h"

#include <gtest/gtest.h>

#include "event/event_schema.h"

namespace strata {
namespace {

constexpr int64_t kKafkaTsMs = 1764000000123;  // 2025-11-24T16:00:00.123Z
constexpr int32_t kKafkaDay = 20416;           // 2025-11-24

KafkaRecord Rec(std::string_view value, int64_t offset = 7, std::string_view key = "u-1") {
  KafkaRecord r;
  r.key = key;
  r.has_key = true;
  r.value = value;
  r.has_value = true;
  r.partition = 3;
  r.offset = offset;
  r.timestamp_ms = kKafkaTsMs;
  return r;
}

const char* kGood =
    R"({"event_id":"e-1","user_id":"u-1","session_id":"s-1","event_type":"click",)"
    R"("page_url":"https://x/p","referrer":null,"device_type":"ios","country":"DE",)"
    R"("event_timestamp":1700000000000,"properties":{"x": 1, "tag":"a\"b"}})";

std::string Str(const RecordBatch& b, int col, size_t row = 0) {
  return std::string(b.column(col).String(row));
}

class BronzeBuilderTest : public ::testing::Test {
 protected:
  RecordBatch One(std::string_view value) {
    builder_.set_ingestion_timestamp_micros(42);
    builder_.Append("clickstream-events", Rec(value));
    RecordBatch b = builder_.Finish();
    EXPECT_TRUE(b.Validate().ok());
    EXPECT_EQ(b.num_rows(), 1u);
    return b;
  }
  BronzeBatchBuilder builder_;
};

TEST_F(BronzeBuilderTest, SchemaOrder) {
  const auto& s = *BronzeSchema();
  ASSERT_EQ(s.num_fields(), static_cast<size_t>(bronze::kNumColumns));
  EXPECT_EQ(s.field(bronze::kKafkaKey).name, "kafka_key");
  EXPECT_EQ(s.field(bronze::kEventTimestamp).type, TypeId::kInt64);
  EXPECT_EQ(s.field(bronze::kKafkaPartition).type, TypeId::kInt32);
  EXPECT_EQ(s.field(bronze::kKafkaTimestamp).type, TypeId::kTimestamp);
  EXPECT_EQ(s.field(bronze::kEventDate).name, "event_date");
  EXPECT_EQ(s.field(bronze::kEventDate).type, TypeId::kDate);
  EXPECT_EQ(s.IndexOf("parse_error"), bronze::kParseError);
  EXPECT_EQ(KnownEventTypes().size(), 5u);
}

TEST_F(BronzeBuilderTest, GoodEvent) {
  RecordBatch b = One(kGood);
  EXPECT_EQ(Str(b, bronze::kKafkaKey), "u-1");
  EXPECT_EQ(Str(b, bronze::kEventId), "e-1");
  EXPECT_EQ(Str(b, bronze::kUserId), "u-1");
  EXPECT_EQ(Str(b, bronze::kSessionId), "s-1");
  EXPECT_EQ(Str(b, bronze::kEventType), "click");
  EXPECT_EQ(Str(b, bronze::kPageUrl), "https://x/p");
  EXPECT_TRUE(b.column(bronze::kReferrer).IsNull(0));
  EXPECT_EQ(Str(b, bronze::kDeviceType), "ios");
  EXPECT_EQ(Str(b, bronze::kCountry), "DE");
  EXPECT_EQ(b.column(bronze::kEventTimestamp).Int64(0), 1700000000000);
  EXPECT_EQ(Str(b, bronze::kProperties), R"({"x": 1, "tag":"a\"b"})");
  EXPECT_EQ(Str(b, bronze::kKafkaTopic), "clickstream-events");
  EXPECT_EQ(b.column(bronze::kKafkaPartition).Int32(0), 3);
  EXPECT_EQ(b.column(bronze::kKafkaOffset).Int64(0), 7);
  EXPECT_EQ(b.column(bronze::kKafkaTimestamp).Int64(0), kKafkaTsMs * 1000);
  EXPECT_EQ(b.column(bronze::kIngestionTimestamp).Int64(0), 42);
  EXPECT_TRUE(b.column(bronze::kRawValue).IsNull(0));
  EXPECT_TRUE(b.column(bronze::kParseError).IsNull(0));
  EXPECT_EQ(b.column(bronze::kEventDate).Int32(0), 19675);  // 2023-11-14
}

TEST_F(BronzeBuilderTest, PropertiesAsStringAndEscapes) {
  RecordBatch b =
      One(R"({"event_id":"e","user_id":"u\u00e9","event_type":"page_view","event_timestamp":0,)"
          R"("properties":"{\"a\":1}"})");
  EXPECT_TRUE(b.column(bronze::kParseError).IsNull(0));
  EXPECT_EQ(Str(b, bronze::kUserId), "u\xc3\xa9");
  EXPECT_EQ(Str(b, bronze::kProperties), R"({"a":1})");
  EXPECT_EQ(b.column(bronze::kEventDate).Int32(0), 0);
  EXPECT_TRUE(b.column(bronze::kSessionId).IsNull(0));
}

TEST_F(BronzeBuilderTest, MalformedKeepsRawValue) {
  for (std::string_view bad :
       {std::string_view("not json"), std::string_view(R"({"event_id":"e",)"),
        std::string_view(R"({event_id:"e"})"), std::string_view("[1,2]"),
        std::string_view(R"({"event_id":"e"} trailing)"), std::string_view("")}) {
    RecordBatch b = One(bad);
    ASSERT_FALSE(b.column(bronze::kParseError).IsNull(0)) << bad;
    EXPECT_EQ(Str(b, bronze::kParseError).rfind("malformed JSON: ", 0), 0u)
        << bad << " -> " << Str(b, bronze::kParseError);
    EXPECT_EQ(Str(b, bronze::kRawValue), bad);
    for (int c = bronze::kEventId; c <= bronze::kProperties; ++c) {
      EXPECT_TRUE(b.column(c).IsNull(0)) << bad << " column " << c;
    }
    EXPECT_EQ(b.column(bronze::kEventDate).Int32(0), kKafkaDay);
    EXPECT_EQ(b.column(bronze::kKafkaOffset).Int64(0), 7);
  }
  EXPECT_EQ(Str(One("[1,2]"), bronze::kParseError), "malformed JSON: not an object");
}

TEST_F(BronzeBuilderTest, MissingRequiredFieldsKeepTheRest) {
  RecordBatch b =
      One(R"({"event_id":"e","event_type":"click","event_timestamp":5,"country":"FR"})");
  EXPECT_EQ(Str(b, bronze::kParseError), "missing required field user_id");
  EXPECT_EQ(Str(b, bronze::kEventId), "e");
  EXPECT_EQ(Str(b, bronze::kCountry), "FR");
  EXPECT_EQ(b.column(bronze::kEventTimestamp).Int64(0), 5);
  EXPECT_FALSE(b.column(bronze::kRawValue).IsNull(0));

  b = One(R"({"event_id":"e","user_id":"u","event_type":null,"event_timestamp":5})");
  EXPECT_EQ(Str(b, bronze::kParseError), "missing required field event_type");
  b = One(R"({"event_id":"e","user_id":"u","event_type":"x"})");
  EXPECT_EQ(Str(b, bronze::kParseError), "missing required field event_timestamp");
  EXPECT_EQ(b.column(bronze::kEventDate).Int32(0), kKafkaDay);
  b = One(R"({})");
  EXPECT_EQ(Str(b, bronze::kParseError), "missing required field event_id");
}

TEST_F(BronzeBuilderTest, WrongTypes) {
  RecordBatch b =
      One(R"({"event_id":"e","user_id":"u","event_type":"x","event_timestamp":"1700000000000"})");
  EXPECT_EQ(Str(b, bronze::kParseError), "field event_timestamp: expected integer");
  EXPECT_TRUE(b.column(bronze::kEventTimestamp).IsNull(0));
  EXPECT_EQ(Str(b, bronze::kUserId), "u");
  EXPECT_EQ(b.column(bronze::kEventDate).Int32(0), kKafkaDay);

  b = One(R"({"event_id":"e","user_id":"u","event_type":"x","event_timestamp":1.5})");
  EXPECT_EQ(Str(b, bronze::kParseError), "field event_timestamp: expected integer");
  b = One(R"({"event_id":"e","user_id":7,"event_type":"x","event_timestamp":1})");
  EXPECT_EQ(Str(b, bronze::kParseError), "field user_id: expected string");
  EXPECT_TRUE(b.column(bronze::kUserId).IsNull(0));
  b = One(R"({"event_id":"e","user_id":"u","event_type":"x","event_timestamp":1,"country":true})");
  EXPECT_EQ(Str(b, bronze::kParseError), "field country: expected string");
  b = One(
      R"({"event_id":"e","user_id":"u","event_type":"x","event_timestamp":1,"properties":[1]})");
  EXPECT_EQ(Str(b, bronze::kParseError), "field properties: expected object or string");
}

TEST_F(BronzeBuilderTest, UnknownTypesAndFieldsAreNotErrors) {
  std::vector<std::string> seen;
  builder_.set_unknown_field_hook([&](std::string_view f) { seen.emplace_back(f); });
  RecordBatch b =
      One(R"({"event_id":"e","user_id":"u","event_type":"teleport","event_timestamp":1,)"
          R"("app_version":"2.1","nested":{"a":[1,2,{"b":null}]}})");
  EXPECT_TRUE(b.column(bronze::kParseError).IsNull(0)) << Str(b, bronze::kParseError);
  EXPECT_EQ(Str(b, bronze::kEventType), "teleport");
  EXPECT_EQ(seen, (std::vector<std::string>{"app_version", "nested"}));
}

TEST_F(BronzeBuilderTest, NullKeyNullValueAndReset) {
  KafkaRecord r = Rec(kGood);
  r.has_key = false;
  r.key = {};
  r.timestamp_ms = -1;
  builder_.set_ingestion_timestamp_micros(9);
  builder_.Append("t", r);
  r.has_value = false;
  r.value = {};
  builder_.Append("t", r);
  EXPECT_EQ(builder_.num_rows(), 2u);
  EXPECT_EQ(builder_.error_rows(), 1u);
  RecordBatch b = builder_.Finish();
  ASSERT_TRUE(b.Validate().ok());
  EXPECT_TRUE(b.column(bronze::kKafkaKey).IsNull(0));
  EXPECT_TRUE(b.column(bronze::kKafkaTimestamp).IsNull(0));
  EXPECT_EQ(b.column(bronze::kEventDate).Int32(0), 19675);
  EXPECT_EQ(Str(b, bronze::kParseError, 1), "malformed JSON: record has no value");
  EXPECT_TRUE(b.column(bronze::kRawValue).IsNull(1));
  EXPECT_TRUE(b.column(bronze::kEventDate).IsNull(1));
  EXPECT_EQ(builder_.num_rows(), 0u);
  EXPECT_EQ(builder_.error_rows(), 0u);
  builder_.Append("t", Rec(kGood));
  EXPECT_EQ(builder_.Finish().num_rows(), 1u);
}

}  // namespace
}  // namespace strata
