#include "monitor/quality.h"

#include <simdjson.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <cstring>

#include "core/json_writer.h"
#include "core/time_util.h"

namespace strata::monitor {
namespace {

enum class Want { kString, kNumber, kObjectOrString };
struct KnownField {
  const char* name;
  Want want;
};
constexpr std::array<KnownField, 10> kFields = {{{"event_id", Want::kString},
                                                 {"user_id", Want::kString},
                                                 {"session_id", Want::kString},
                                                 {"event_type", Want::kString},
                                                 {"page_url", Want::kString},
                                                 {"referrer", Want::kString},
                                                 {"device_type", Want::kString},
                                                 {"country", Want::kString},
                                                 {"event_timestamp", Want::kNumber},
                                                 {"properties", Want::kObjectOrString}}};
constexpr size_t kMinRecordsToJudge = 20;
static_assert(kFields.size() == 10, "QualityMonitor::kKnownFields");

int FieldIndex(std::string_view key) {
  for (size_t i = 0; i < kFields.size(); ++i)
    if (key == kFields[i].name) return static_cast<int>(i);
  return -1;
}

bool TypeMatches(Want want, simdjson::ondemand::json_type t) {
  using T = simdjson::ondemand::json_type;
  switch (want) {
    case Want::kString:
      return t == T::string;
    case Want::kNumber:
      return t == T::number;
    case Want::kObjectOrString:
      return t == T::object || t == T::string;
  }
  return false;
}

const char* ExpectedTypeName(Want want) {
  switch (want) {
    case Want::kString:
      return "string";
    case Want::kNumber:
      return "number";
    case Want::kObjectOrString:
      return "object or string";
  }
  return "";
}

const char* JsonTypeName(simdjson::ondemand::json_type t) {
  using T = simdjson::ondemand::json_type;
  switch (t) {
    case T::array:
      return "array";
    case T::object:
      return "object";
    case T::number:
      return "number";
    case T::string:
      return "string";
    case T::boolean:
      return "boolean";
    case T::null:
      return "null";
    default:
      return "unknown";
  }
}

std::string SamplesJson(const std::vector<std::string>& samples) {
  JsonWriter w;
  w.BeginArray();
  for (const auto& s : samples) w.String(s);
  w.EndArray();
  return w.Take();
}

}  // namespace

double QualityMonitor::Baseline::Mean() const {
  double s = 0;
  for (double v : values) s += v;
  return values.empty() ? 0 : s / static_cast<double>(values.size());
}

double QualityMonitor::Baseline::StdDev() const {
  if (values.size() < 2) return 0;
  const double m = Mean();
  double s = 0;
  for (double v : values) s += (v - m) * (v - m);
  return std::sqrt(s / static_cast<double>(values.size() - 1));
}

QualityMonitor::QualityMonitor(const MonitoringConfig& config, AlertManager* alerts,
                               int64_t close_delay_ms)
    : interval_ms_(config.quality_interval_ms),
      close_delay_ms_(close_delay_ms),
      min_intervals_(static_cast<size_t>(config.baseline_min_intervals)),
      max_intervals_(static_cast<size_t>(config.baseline_max_intervals)),
      time_of_day_(config.time_of_day_baseline),
      drift_samples_(static_cast<size_t>(config.drift_samples)),
      alerts_(alerts) {
  for (const RuleConfig& r : config.rules)
    if (r.type == "volume" || r.type == "null_rate" || r.type == "event_type_mix" ||
        r.type == "parse_failures" || r.type == "schema_drift")
      rules_.push_back(r);
}

QualityMonitor::OpenInterval& QualityMonitor::IntervalFor(int64_t ts) {
  int64_t start = ts - ((ts % interval_ms_) + interval_ms_) % interval_ms_;
  if (next_close_ms_ < 0) next_close_ms_ = start;
  if (start < next_close_ms_) start = next_close_ms_;  // late for a closed interval
  if (last_open_ && last_open_->iv.start_ms == start) return *last_open_;
  OpenInterval& open = open_[start];
  open.iv.start_ms = start;
  last_open_ = &open;
  return open;
}

void QualityMonitor::Fold(OpenInterval& open) {
  QualityInterval& iv = open.iv;
  for (size_t i = 0; i < kFields.size(); ++i) {
    if (open.absent[i]) iv.absent[kFields[i].name] += open.absent[i];
    if (open.nulls[i]) iv.nulls[kFields[i].name] += open.nulls[i];
    if (open.wrong_type[i]) iv.wrong_type[kFields[i].name] += open.wrong_type[i];
  }
  for (auto& [type, n] : open.event_types) iv.event_types[type] += n;
}

// Per-thread parser and padded buffer: one feeding thread at a time.
struct QualityMonitor::Parser {
  simdjson::ondemand::parser parser;
  std::string buffer;
};

void QualityMonitor::Observe(std::string_view value, int64_t timestamp_ms, int32_t partition,
                             int64_t offset) {
  thread_local Parser p;
  std::lock_guard<std::mutex> lock(mu_);
  ObserveLocked(p, value, timestamp_ms, partition, offset);
}

void QualityMonitor::ObserveBatch(const KafkaRecord* records, size_t count, int64_t now_ms) {
  thread_local Parser p;
  // Readers (the server's metrics, History) wait at most one slice.
  constexpr size_t kSlice = 4096;
  for (size_t begin = 0; begin < count; begin += kSlice) {
    std::lock_guard<std::mutex> lock(mu_);
    const size_t end = std::min(count, begin + kSlice);
    for (size_t i = begin; i < end; ++i) {
      const KafkaRecord& r = records[i];
      ObserveLocked(p, r.value, r.timestamp_ms >= 0 ? r.timestamp_ms : now_ms, r.partition,
                    r.offset);
    }
  }
}

void QualityMonitor::ObserveLocked(Parser& p, std::string_view value, int64_t timestamp_ms,
                                   int32_t partition, int64_t offset) {
  if (p.buffer.size() < value.size() + simdjson::SIMDJSON_PADDING)
    p.buffer.resize(value.size() + simdjson::SIMDJSON_PADDING);
  std::memcpy(p.buffer.data(), value.data(), value.size());

  std::array<bool, kFields.size()> present{}, null{}, wrong{};
  std::array<simdjson::ondemand::json_type, kFields.size()> types{};
  std::vector<std::pair<std::string_view, simdjson::ondemand::json_type>> extra;  // rare
  std::string_view event_type;
  bool ok = false;
  {
    simdjson::ondemand::document doc;
    simdjson::ondemand::object obj;
    if (!p.parser.iterate(p.buffer.data(), value.size(), p.buffer.size()).get(doc) &&
        !doc.get_object().get(obj)) {
      ok = true;
      for (auto field : obj) {
        std::string_view key;
        simdjson::ondemand::json_type t;
        if (field.unescaped_key().get(key) || field.value().type().get(t)) {
          ok = false;
          break;
        }
        const int i = FieldIndex(key);
        if (i < 0) {
          extra.push_back({key, t});  // its value is skipped by the iteration
          continue;
        }
        present[i] = true;
        types[i] = t;
        if (t == simdjson::ondemand::json_type::null) {
          null[i] = true;
        } else if (!TypeMatches(kFields[i].want, t)) {
          wrong[i] = true;
        } else if (i == 3) {
          std::string_view s;
          if (field.value().get_string().get(s)) ok = false;
          event_type = s;
        }
        if (!ok) break;
      }
    }
  }

  OpenInterval& open = IntervalFor(timestamp_ms);
  QualityInterval& iv = open.iv;
  ++iv.records;
  if (!ok) {
    ++iv.parse_failures;
    return;
  }
  ++iv.objects;
  auto sample = [&](const std::string& subject) {
    auto& s = iv.samples[subject];
    if (s.size() < drift_samples_) s.emplace_back(value);
  };
  auto drift = [&](const char* kind, std::string_view field, const char* expected,
                   const char* observed) {
    DriftRecord d;
    d.detected_at_ms = NowMillis();
    d.kind = kind;
    d.field = std::string(field);
    d.expected_type = expected;
    d.observed_type = observed;
    d.kafka_partition = partition;
    d.kafka_offset = offset;
    d.sample = std::string(value);
    return d;
  };
  for (size_t i = 0; i < kFields.size(); ++i) {
    if (!present[i]) {
      ++open.absent[i];
      if (drift_table_ && !open.missing_sampled[i]) {
        open.missing_sampled[i] = true;
        iv.missing_samples[kFields[i].name] =
            drift("missing_field", kFields[i].name, ExpectedTypeName(kFields[i].want), "");
      }
    }
    if (!present[i] || null[i]) ++open.nulls[i];
    if (wrong[i]) {
      ++open.wrong_type[i];
      sample(std::string("type_change:") + kFields[i].name);
      if (drift_table_ && drift_table_->Wants("type_change", kFields[i].name))
        drift_table_->Record(drift("type_change", kFields[i].name,
                                   ExpectedTypeName(kFields[i].want), JsonTypeName(types[i])));
    }
  }
  if (!event_type.empty()) {
    auto it = open.event_types.find(event_type);
    if (it == open.event_types.end())
      open.event_types.emplace(std::string(event_type), 1);
    else
      ++it->second;
  }
  for (const auto& [k, t] : extra) {
    ++iv.new_fields[std::string(k)];
    sample("new_field:" + std::string(k));
    if (drift_table_ && drift_table_->Wants("new_field", k))
      drift_table_->Record(drift("new_field", k, "", JsonTypeName(t)));
  }
}

void QualityMonitor::CloseIntervals(int64_t now_ms) {
  std::lock_guard<std::mutex> lock(mu_);
  if (next_close_ms_ < 0) return;
  // Intervals starting at or before `last` are closed now.
  const int64_t last = now_ms - close_delay_ms_ - interval_ms_;
  while (next_close_ms_ <= last) {
    // A long run of empty intervals (records with old timestamps, a long pause) is judged only
    // as far as the history remembers: every baseline is all empty after that many, so the
    // ones before change nothing, and judging them one by one could take minutes.
    const int64_t next_data = open_.empty() ? last + interval_ms_ : open_.begin()->first;
    const int64_t empties =
        (std::min(next_data, last + interval_ms_) - next_close_ms_) / interval_ms_;
    const int64_t keep = static_cast<int64_t>(max_intervals_) + 1;
    if (empties > keep) next_close_ms_ += (empties - keep) * interval_ms_;
    QualityInterval iv;
    auto it = open_.find(next_close_ms_);
    if (it != open_.end()) {
      Fold(it->second);
      iv = std::move(it->second.iv);
      if (last_open_ == &it->second) last_open_ = nullptr;
      open_.erase(it);
    }
    iv.start_ms = next_close_ms_;
    next_close_ms_ += interval_ms_;
    Judge(iv);
    history_.push_back(std::move(iv));
    while (history_.size() > max_intervals_) history_.pop_front();
  }
}

std::vector<QualityInterval> QualityMonitor::History() const {
  std::lock_guard<std::mutex> lock(mu_);
  return {history_.begin(), history_.end()};
}

bool QualityMonitor::LastClosed(QualityInterval* out) const {
  std::lock_guard<std::mutex> lock(mu_);
  if (history_.empty()) return false;
  *out = history_.back();
  return true;
}

void QualityMonitor::Judge(QualityInterval& iv) {
  const bool first = first_interval_;
  first_interval_ = false;
  const int hour = static_cast<int>((iv.start_ms / 3'600'000) % 24);
  const bool enough_records = iv.objects >= static_cast<int64_t>(kMinRecordsToJudge);
  bool learn_volume = !first;
  bool learn_nulls = !first && enough_records;
  bool learn_mix = !first && enough_records;

  for (const RuleConfig& r : rules_) {
    if (r.type == "volume") {
      // The same hour of day once it has enough history (a day or more), else the recent past.
      const Baseline* b = &volume_;
      auto h = volume_by_hour_.find(hour);
      if (time_of_day_ && h != volume_by_hour_.end() && h->second.values.size() >= min_intervals_)
        b = &h->second;
      if (b->values.size() < min_intervals_) continue;
      const double mean = b->Mean(), sd = b->StdDev();
      const double dev = static_cast<double>(iv.records) - mean;
      int& run = anomalous_runs_[r.name];
      if (std::abs(dev) > r.stddevs * sd && std::abs(dev) > r.fraction * mean) {
        learn_volume = false;
        if (++run < r.intervals) continue;
        char msg[200];
        std::snprintf(msg, sizeof msg, "volume %s: %lld records in %lld s against %.0f +- %.0f",
                      dev < 0 ? "drop" : "spike", static_cast<long long>(iv.records),
                      static_cast<long long>(interval_ms_ / 1000), mean, sd);
        JsonWriter d;
        d.BeginObject().Key("records").Int(iv.records).Key("baseline_mean").Double(mean);
        d.Key("baseline_stddev").Double(sd).Key("interval_start_ms").Int(iv.start_ms).EndObject();
        alerts_->Raise(r.name, r.type, r.severity, "volume", msg, d.str());
      } else {
        run = 0;
        alerts_->Resolve(r.name, "volume");
      }
    } else if (r.type == "null_rate") {
      if (!enough_records) continue;
      for (const auto& f : kFields) {
        const std::string name = f.name;
        if (!r.columns.empty() &&
            std::find(r.columns.begin(), r.columns.end(), name) == r.columns.end())
          continue;
        const double rate = static_cast<double>(iv.nulls[name]) / static_cast<double>(iv.objects);
        Baseline& b = null_rates_[name];
        if (b.values.size() < min_intervals_) continue;
        const double mean = b.Mean(), sd = b.StdDev();
        const std::string subject = "null_rate:" + name;
        // The baseline's spread plus this interval's own sampling noise (binomial at its size),
        // so that a small interval (e.g. during a volume drop) does not look like a spike.
        const double noise =
            std::sqrt(sd * sd + mean * (1 - mean) / static_cast<double>(iv.objects));
        if (rate - mean > r.fraction && rate - mean > r.stddevs * noise) {
          learn_nulls = false;
          char msg[200];
          std::snprintf(msg, sizeof msg, "null rate of %s is %.1f%% against a baseline of %.1f%%",
                        name.c_str(), rate * 100, mean * 100);
          JsonWriter d;
          d.BeginObject().Key("column").String(name).Key("rate").Double(rate);
          d.Key("baseline").Double(mean).EndObject();
          alerts_->Raise(r.name, r.type, r.severity, subject, msg, d.str());
        } else {
          alerts_->Resolve(r.name, subject);
        }
      }
    } else if (r.type == "event_type_mix") {
      if (!enough_records || mix_history_.size() < min_intervals_) continue;
      std::map<std::string, double> base;
      double base_total = 0;
      for (const auto& m : mix_history_)
        for (const auto& [t, c] : m) {
          base[t] += static_cast<double>(c);
          base_total += static_cast<double>(c);
        }
      double cur_total = 0;
      for (const auto& [t, c] : iv.event_types) cur_total += static_cast<double>(c);
      if (base_total <= 0 || cur_total <= 0) continue;
      std::map<std::string, double> all = base;
      for (const auto& [t, c] : iv.event_types) all[t] += 0;
      double tvd = 0;
      for (const auto& [t, unused] : all) {
        auto ci = iv.event_types.find(t);
        const double p =
            ci == iv.event_types.end() ? 0 : static_cast<double>(ci->second) / cur_total;
        const double q = base[t] / base_total;
        tvd += std::abs(p - q);
      }
      tvd /= 2;
      // The distance sampling alone gives at this interval's size (mean absolute deviation of
      // binomial shares, sqrt(2 / pi) * sd each).
      double noise = 0;
      for (const auto& [t, unused] : all) {
        const double q = base[t] / base_total;
        noise += 0.5 * 0.8 * std::sqrt(q * (1 - q) / cur_total);
      }
      int& run = anomalous_runs_[r.name];
      if (tvd > r.max_distance + 2 * noise) {
        learn_mix = false;
        if (++run < r.intervals) continue;
        char msg[160];
        std::snprintf(msg, sizeof msg, "event_type mix shifted: distance %.2f > %.2f", tvd,
                      r.max_distance);
        JsonWriter d;
        d.BeginObject().Key("distance").Double(tvd).Key("counts").BeginObject();
        for (const auto& [t, c] : iv.event_types) d.Key(t).Int(c);
        d.EndObject().EndObject();
        alerts_->Raise(r.name, r.type, r.severity, "event_type", msg, d.str());
      } else {
        run = 0;
        alerts_->Resolve(r.name, "event_type");
      }
    } else if (r.type == "parse_failures") {
      if (iv.records < static_cast<int64_t>(kMinRecordsToJudge)) continue;
      const double rate = static_cast<double>(iv.parse_failures) / static_cast<double>(iv.records);
      if (rate > r.max_rate) {
        char msg[160];
        std::snprintf(msg, sizeof msg, "%.1f%% of records are not JSON objects (max %.1f%%)",
                      rate * 100, r.max_rate * 100);
        alerts_->Raise(r.name, r.type, r.severity, "parse", msg);
      } else {
        alerts_->Resolve(r.name, "parse");
      }
    } else if (r.type == "schema_drift") {
      if (iv.objects == 0) continue;
      // Subjects seen in this interval fire (keeping the first offending records); active ones
      // not seen in an interval with data resolve.
      std::map<std::string, std::string> seen;  // subject -> message
      for (const auto& [f, c] : iv.new_fields)
        seen["new_field:" + f] = "new field '" + f + "' in " + std::to_string(c) + " records";
      for (const auto& [f, c] : iv.wrong_type)
        if (c > 0)
          seen["type_change:" + f] =
              "field '" + f + "' has another JSON type in " + std::to_string(c) + " records";
      if (enough_records)
        for (const auto& [f, c] : iv.absent)
          if (static_cast<double>(c) > 0.9 * static_cast<double>(iv.objects))
            seen["missing_field:" + f] = "field '" + f + "' missing from " + std::to_string(c) +
                                         " of " + std::to_string(iv.objects) + " records";
      for (const auto& [subject, msg] : seen) {
        auto& kept = drift_samples_kept_[subject];
        for (const auto& s : iv.samples[subject])
          if (kept.size() < drift_samples_) kept.push_back(s);
        JsonWriter d;
        d.BeginObject().Key("drift").String(subject).Key("first_records").Raw(SamplesJson(kept));
        d.EndObject();
        alerts_->Raise(r.name, r.type, r.severity, subject, "schema drift: " + msg, d.str());
      }
      for (auto it = drift_samples_kept_.begin(); it != drift_samples_kept_.end();) {
        if (seen.count(it->first)) {
          ++it;
          continue;
        }
        alerts_->Resolve(r.name, it->first);
        it = drift_samples_kept_.erase(it);
      }
    }
  }

  // Missing fields for the drift table, as the schema_drift rule judges them.
  if (drift_table_ && enough_records) {
    for (auto& [f, c] : iv.absent) {
      if (static_cast<double>(c) <= 0.9 * static_cast<double>(iv.objects)) continue;
      auto it = iv.missing_samples.find(f);
      if (it != iv.missing_samples.end() && drift_table_->Wants("missing_field", f))
        drift_table_->Record(std::move(it->second));
    }
  }

  if (learn_volume) {
    volume_.Add(static_cast<double>(iv.records), max_intervals_);
    volume_by_hour_[hour].Add(static_cast<double>(iv.records), max_intervals_);
  }
  if (learn_nulls)
    for (const auto& f : kFields)
      null_rates_[f.name].Add(
          static_cast<double>(iv.nulls[f.name]) / static_cast<double>(iv.objects), max_intervals_);
  if (learn_mix) {
    mix_history_.push_back(iv.event_types);
    while (mix_history_.size() > max_intervals_) mix_history_.pop_front();
  }
}

// ---------------------------------------------------------------------------------------------

QualityTap::QualityTap(std::shared_ptr<QualityMonitor> monitor, int64_t tick_ms,
                       size_t max_pending_bytes)
    : monitor_(std::move(monitor)),
      tick_ms_(std::max<int64_t>(tick_ms, 10)),
      max_pending_bytes_(max_pending_bytes) {
  thread_ = std::thread([this] { Loop(); });
}

QualityTap::~QualityTap() {
  Stop();
}

void QualityTap::Stop() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

uint64_t QualityTap::observed_records() const {
  std::lock_guard<std::mutex> lock(mu_);
  return observed_;
}

uint64_t QualityTap::dropped_records() const {
  std::lock_guard<std::mutex> lock(mu_);
  return dropped_;
}

void QualityTap::ObserveRecords(std::string_view, const KafkaRecord* records, size_t count) {
  bool added = false;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (stop_) return;
    for (size_t i = 0; i < count; ++i) {
      const KafkaRecord& r = records[i];
      if (r.partition < 0) continue;
      const size_t p = static_cast<size_t>(r.partition);
      if (p >= next_offset_.size()) next_offset_.resize(p + 1, 0);
      if (r.offset < next_offset_[p]) continue;  // seen in an earlier read
      next_offset_[p] = r.offset + 1;
      if (pending_.bytes.size() + r.value.size() > max_pending_bytes_) {
        ++dropped_;
        continue;
      }
      KafkaRecord copy = r;
      copy.key = {};
      copy.value = {};  // pointed into bytes once the buffer no longer grows
      pending_.value_offsets.push_back(pending_.bytes.size());
      pending_.bytes.append(r.value);
      pending_.records.push_back(copy);
      added = true;
    }
  }
  if (added) cv_.notify_one();
}

void QualityTap::Loop() {
  Pending work;
  std::unique_lock<std::mutex> lock(mu_);
  while (true) {
    if (pending_.records.empty()) {
      if (stop_) break;
      cv_.wait_for(lock, std::chrono::milliseconds(tick_ms_));
      lock.unlock();
      monitor_->CloseIntervals(NowMillis());
      lock.lock();
      continue;
    }
    std::swap(work, pending_);
    observed_ += work.records.size();
    lock.unlock();
    for (size_t i = 0; i < work.records.size(); ++i) {
      const size_t begin = work.value_offsets[i];
      const size_t end =
          i + 1 < work.records.size() ? work.value_offsets[i + 1] : work.bytes.size();
      work.records[i].value = std::string_view(work.bytes.data() + begin, end - begin);
    }
    monitor_->ObserveBatch(work.records.data(), work.records.size(), NowMillis());
    monitor_->CloseIntervals(NowMillis());
    work.bytes.clear();
    work.records.clear();
    work.value_offsets.clear();
    lock.lock();
  }
}

}  // namespace strata::monitor
