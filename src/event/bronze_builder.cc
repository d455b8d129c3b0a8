#include "event/bronze_builder.h"

#include <simdjson.h>

#include <cstring>

#include "core/time_util.h"
#include "event/event_schema.h"

namespace strata {
namespace {

namespace od = simdjson::ondemand;

// Event fields in bronze column order; kFieldColumn maps them to columns.
enum EventField : int {
  kFEventId,
  kFUserId,
  kFSessionId,
  kFEventType,
  kFPageUrl,
  kFReferrer,
  kFDeviceType,
  kFCountry,
  kFEventTimestamp,
  kFProperties,
  kNumEventFields,
};
constexpr int kFieldColumn[kNumEventFields] = {
    bronze::kEventId,        bronze::kUserId,    bronze::kSessionId,  bronze::kEventType,
    bronze::kPageUrl,        bronze::kReferrer,  bronze::kDeviceType, bronze::kCountry,
    bronze::kEventTimestamp, bronze::kProperties};
constexpr std::string_view kFieldName[kNumEventFields] = {
    "event_id", "user_id",     "session_id", "event_type",      "page_url",
    "referrer", "device_type", "country",    "event_timestamp", "properties"};
constexpr std::string_view kFieldExpected[kNumEventFields] = {
    "string", "string", "string", "string",  "string",
    "string", "string", "string", "integer", "object or string"};
constexpr bool kRequired[kNumEventFields] = {true,  true,  false, true, false,
                                             false, false, false, true, false};

enum class FieldState : uint8_t { kMissing, kNull, kOk, kWrongType };

int LookupField(std::string_view key) {
  for (int i = 0; i < kNumEventFields; ++i) {
    if (kFieldName[i] == key) return i;
  }
  return -1;
}

constexpr size_t kInitialValueCapacity = 64 * 1024;
constexpr int64_t kMillisPerDay = 86400000;
int32_t DaysFromMillis(int64_t ms) {
  int64_t d = ms / kMillisPerDay;
  if (ms % kMillisPerDay < 0) --d;
  return static_cast<int32_t>(d);
}

}  // namespace

struct BronzeBatchBuilder::Parser {
  od::parser parser;
  std::string padded;  // the value plus SIMDJSON_PADDING bytes; capacity reused
  std::string error;   // parse_error of the current row; capacity reused
  FieldState state[kNumEventFields];
  std::string_view text[kNumEventFields];  // string and properties values
  int64_t event_timestamp = 0;
  bool malformed = false;

  void Reset() {
    for (auto& s : state) s = FieldState::kMissing;
    error.clear();
    malformed = false;
  }
  void Malformed(std::string_view what) {
    malformed = true;
    error.assign("malformed JSON: ");
    error.append(what);
  }
};

BronzeBatchBuilder::BronzeBatchBuilder()
    : parser_(std::make_unique<Parser>()), batch_(BronzeSchema()) {
  // Room for typical events up front, so that only unusually large values make these grow.
  const simdjson::error_code err = parser_->parser.allocate(kInitialValueCapacity);
  (void)err;  // if this fails, iterate() allocates (and reports) per value later
  parser_->padded.resize(kInitialValueCapacity + simdjson::SIMDJSON_PADDING);
  parser_->error.reserve(128);
}

BronzeBatchBuilder::~BronzeBatchBuilder() = default;

void BronzeBatchBuilder::Reserve(size_t rows, size_t value_bytes) {
  batch_.Reserve(rows);
  // Where a typical event's bytes land; generous, so that a batch of typical events never
  // reallocates (fixed-width columns were sized by batch_.Reserve).
  const size_t r = rows;
  const std::pair<int, size_t> estimates[] = {
      {bronze::kKafkaKey, r * 24},   {bronze::kEventId, r * 40},
      {bronze::kUserId, r * 24},     {bronze::kSessionId, r * 24},
      {bronze::kEventType, r * 16},  {bronze::kPageUrl, value_bytes / 4 + r * 16},
      {bronze::kReferrer, r * 32},   {bronze::kDeviceType, r * 12},
      {bronze::kCountry, r * 4},     {bronze::kProperties, value_bytes / 3 + r * 16},
      {bronze::kKafkaTopic, r * 32}, {bronze::kRawValue, value_bytes / 8},
      {bronze::kParseError, r * 8}};
  for (const auto& [column, bytes] : estimates) batch_.column(column).Reserve(rows, bytes);
}

void BronzeBatchBuilder::ParseValue(std::string_view value) {
  Parser& p = *parser_;
  p.Reset();
  const size_t need = value.size() + simdjson::SIMDJSON_PADDING;
  if (p.padded.size() < need) p.padded.resize(need);
  std::memcpy(p.padded.data(), value.data(), value.size());
  std::memset(p.padded.data() + value.size(), 0, simdjson::SIMDJSON_PADDING);

  od::document doc;
  simdjson::error_code err =
      p.parser.iterate(p.padded.data(), value.size(), p.padded.size()).get(doc);
  if (err) return p.Malformed(simdjson::error_message(err));
  od::object obj;
  err = doc.get_object().get(obj);
  if (err == simdjson::INCORRECT_TYPE) return p.Malformed("not an object");
  if (err) return p.Malformed(simdjson::error_message(err));
  for (auto field_result : obj) {
    od::field field;
    if ((err = std::move(field_result).get(field)))
      return p.Malformed(simdjson::error_message(err));
    std::string_view key;
    if ((err = field.unescaped_key().get(key))) return p.Malformed(simdjson::error_message(err));
    const int f = LookupField(key);
    if (f < 0) {
      ++unknown_fields_;
      if (unknown_field_hook_) unknown_field_hook_(key);
      continue;  // the value is skipped when the loop advances
    }
    od::value v = field.value();
    od::json_type type;
    if ((err = v.type().get(type))) return p.Malformed(simdjson::error_message(err));
    if (type == od::json_type::null) {
      bool is_null = false;
      if ((err = v.is_null().get(is_null)) || !is_null) {
        return p.Malformed(err ? simdjson::error_message(err) : "bad literal");
      }
      p.state[f] = FieldState::kNull;
      continue;
    }
    if (f == kFEventTimestamp) {
      if (type != od::json_type::number) {
        p.state[f] = FieldState::kWrongType;
        continue;
      }
      od::number_type nt;
      if ((err = v.get_number_type().get(nt))) return p.Malformed(simdjson::error_message(err));
      if (nt != od::number_type::signed_integer) {
        p.state[f] = FieldState::kWrongType;
        continue;
      }
      if ((err = v.get_int64().get(p.event_timestamp))) {
        return p.Malformed(simdjson::error_message(err));
      }
      p.state[f] = FieldState::kOk;
    } else if (f == kFProperties && type == od::json_type::object) {
      od::object props;
      if ((err = v.get_object().get(props)) || (err = props.raw_json().get(p.text[f]))) {
        return p.Malformed(simdjson::error_message(err));
      }
      p.state[f] = FieldState::kOk;
    } else if (type == od::json_type::string) {
      if ((err = v.get_string().get(p.text[f]))) return p.Malformed(simdjson::error_message(err));
      p.state[f] = FieldState::kOk;
    } else {
      p.state[f] = FieldState::kWrongType;
    }
  }
  const char* trailing = nullptr;
  if (!doc.current_location().get(trailing)) {
    return p.Malformed(simdjson::error_message(simdjson::TRAILING_CONTENT));
  }
  for (int f = 0; f < kNumEventFields; ++f) {
    if (p.state[f] == FieldState::kWrongType) {
      p.error.assign("field ");
      p.error.append(kFieldName[f]);
      p.error.append(": expected ");
      p.error.append(kFieldExpected[f]);
      return;
    }
    if (kRequired[f] && p.state[f] != FieldState::kOk) {
      p.error.assign("missing required field ");
      p.error.append(kFieldName[f]);
      return;
    }
  }
}

void BronzeBatchBuilder::Append(std::string_view topic, const KafkaRecord& record) {
  Parser& p = *parser_;
  if (ingestion_micros_ < 0) ingestion_micros_ = NowMicros();
  if (record.has_value) {
    ParseValue(record.value);
  } else {
    p.Reset();
    p.Malformed("record has no value");
  }
  const bool parsed = !p.malformed;

  if (record.has_key) {
    batch_.column(bronze::kKafkaKey).AppendString(record.key);
  } else {
    batch_.column(bronze::kKafkaKey).AppendNull();
  }
  for (int f = 0; f < kNumEventFields; ++f) {
    Column& col = batch_.column(kFieldColumn[f]);
    if (!parsed || p.state[f] != FieldState::kOk) {
      col.AppendNull();
    } else if (f == kFEventTimestamp) {
      col.AppendInt64(p.event_timestamp);
    } else {
      col.AppendString(p.text[f]);
    }
  }
  batch_.column(bronze::kKafkaTopic).AppendString(topic);
  batch_.column(bronze::kKafkaPartition).AppendInt32(record.partition);
  batch_.column(bronze::kKafkaOffset).AppendInt64(record.offset);
  const bool has_kafka_ts = record.timestamp_ms >= 0;
  if (has_kafka_ts) {
    batch_.column(bronze::kKafkaTimestamp).AppendInt64(record.timestamp_ms * 1000);
  } else {
    batch_.column(bronze::kKafkaTimestamp).AppendNull();
  }
  batch_.column(bronze::kIngestionTimestamp).AppendInt64(ingestion_micros_);
  if (p.error.empty()) {
    batch_.column(bronze::kRawValue).AppendNull();
    batch_.column(bronze::kParseError).AppendNull();
  } else {
    ++error_rows_;
    if (record.has_value) {
      batch_.column(bronze::kRawValue).AppendString(record.value);
    } else {
      batch_.column(bronze::kRawValue).AppendNull();
    }
    batch_.column(bronze::kParseError).AppendString(p.error);
  }
  Column& date = batch_.column(bronze::kEventDate);
  if (parsed && p.state[kFEventTimestamp] == FieldState::kOk) {
    date.AppendInt32(DaysFromMillis(p.event_timestamp));
  } else if (has_kafka_ts) {
    date.AppendInt32(DaysFromMillis(record.timestamp_ms));
  } else {
    date.AppendNull();
  }
}

Status BronzeBatchBuilder::OnRecords(std::string_view topic, const KafkaRecord* records,
                                     size_t count) {
  for (size_t i = 0; i < count; ++i) Append(topic, records[i]);
  return Status::OK();
}

RecordBatch BronzeBatchBuilder::Finish() {
  const size_t rows = batch_.num_rows();
  size_t chars[bronze::kNumColumns];
  for (int c = 0; c < bronze::kNumColumns; ++c) chars[c] = batch_.column(c).chars_size();
  RecordBatch out = std::move(batch_);
  batch_ = RecordBatch(BronzeSchema());
  // The next batch gets the room this one needed, so same-sized batches never reallocate.
  if (rows > 0) {
    for (int c = 0; c < bronze::kNumColumns; ++c) batch_.column(c).Reserve(rows, chars[c]);
  }
  error_rows_ = 0;
  unknown_fields_ = 0;
  if (!ingestion_is_set_) ingestion_micros_ = -1;
  return out;
}

}  // namespace strata
