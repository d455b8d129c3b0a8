#include "event/generator.h"

#include <algorithm>
#include <bit>
#include <charconv>
#include <chrono>
#include <cmath>
#include <thread>

#include "core/time_util.h"
#include "event/event_schema.h"
#include "kafka/producer.h"

namespace strata {
namespace {

constexpr size_t kRecentRecords = 256;

struct Weighted {
  const char* value;  // nullptr writes JSON null
  double weight;
};

constexpr Weighted kCountries[] = {{"US", 34}, {"IN", 12}, {"GB", 8}, {"DE", 7}, {"BR", 6},
                                   {"FR", 5},  {"JP", 5},  {"CA", 4}, {"AU", 3}, {"MX", 3},
                                   {"ES", 3},  {"IT", 3},  {"NL", 2}, {"SE", 1}, {"PL", 1},
                                   {"KR", 1},  {"NG", 1},  {"ZA", 1}};
constexpr Weighted kDevices[] = {
    {"desktop", 40}, {"mobile_web", 25}, {"ios", 15}, {"android", 15}, {"tablet", 5}};
constexpr Weighted kReferrers[] = {
    {nullptr, 35},        {"https://www.google.com/", 30},  {"https://www.facebook.com/", 10},
    {"https://t.co/", 5}, {"https://news.example.org/", 5}, {"https://shop.example.com/", 15}};
constexpr Weighted kEventMix[] = {
    {"page_view", 50}, {"click", 25}, {"scroll", 15}, {"add_to_cart", 7}, {"purchase", 3}};
constexpr const char* kUnknownTypes[] = {"hover", "video_play", "share", "search"};
constexpr const char* kRequiredFields[] = {"event_id", "user_id", "event_type", "event_timestamp"};

template <size_t N>
const char* Pick(const Weighted (&table)[N], double u) {
  double total = 0;
  for (const auto& w : table) total += w.weight;
  double x = u * total;
  for (const auto& w : table) {
    if (x < w.weight) return w.value;
    x -= w.weight;
  }
  return table[N - 1].value;
}

uint64_t SplitMix(uint64_t& x) {
  uint64_t z = (x += 0x9E3779B97F4A7C15ull);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

double UnitFromHash(uint64_t h) {
  return static_cast<double>(h >> 11) * 0x1.0p-53;
}

void AppendInt(std::string& out, int64_t v) {
  char buf[24];
  auto res = std::to_chars(buf, buf + sizeof(buf), v);
  out.append(buf, res.ptr);
}

// Appends cents as a JSON number with two decimals: 1234 -> 12.34
void AppendCents(std::string& out, int64_t cents) {
  AppendInt(out, cents / 100);
  out.push_back('.');
  out.push_back(static_cast<char>('0' + (cents / 10) % 10));
  out.push_back(static_cast<char>('0' + cents % 10));
}

void AppendUserId(std::string& out, int user) {
  char buf[16];
  auto res = std::to_chars(buf, buf + sizeof(buf), user);
  out.append("u-");
  for (ptrdiff_t pad = 6 - (res.ptr - buf); pad > 0; --pad) out.push_back('0');
  out.append(buf, res.ptr);
}

}  // namespace

const char* RecordKindName(RecordKind kind) {
  switch (kind) {
    case RecordKind::kNormal:
      return "normal";
    case RecordKind::kDuplicate:
      return "duplicate";
    case RecordKind::kLate:
      return "late";
    case RecordKind::kMalformed:
      return "malformed";
    case RecordKind::kUnknownType:
      return "unknown_type";
    case RecordKind::kMissingField:
      return "missing_field";
  }
  return "?";
}

TrafficGenerator::TrafficGenerator(GeneratorOptions options) : options_(std::move(options)) {
  options_.num_users = std::max(1, options_.num_users);
  options_.num_pages = std::max(1, options_.num_pages);
  options_.max_events_per_session = std::max(1, options_.max_events_per_session);
  if (options_.simulated_rate <= 0) options_.simulated_rate = 1000.0;
  uint64_t s = options_.seed;
  for (auto& r : rng_) r = SplitMix(s);

  pages_.reserve(options_.num_pages);
  page_cdf_.reserve(options_.num_pages);
  static constexpr const char* kSections[] = {"product", "category", "blog", "help", "deals"};
  double total = 0;
  for (int i = 0; i < options_.num_pages; ++i) {
    if (i == 0) {
      pages_.push_back("https://shop.example.com/");
    } else {
      pages_.push_back(std::string("https://shop.example.com/") + kSections[i % 5] + "/" +
                       std::to_string(i));
    }
    total += 1.0 / std::pow(static_cast<double>(i + 1), options_.page_zipf_s);
    page_cdf_.push_back(total);
  }
  for (double& c : page_cdf_) c /= total;
  users_.resize(options_.num_users);
  recent_.resize(kRecentRecords);
}

uint64_t TrafficGenerator::NextU64() {  // xoshiro256**
  const uint64_t result = std::rotl(rng_[1] * 5, 7) * 9;
  const uint64_t t = rng_[1] << 17;
  rng_[2] ^= rng_[0];
  rng_[3] ^= rng_[1];
  rng_[1] ^= rng_[2];
  rng_[0] ^= rng_[3];
  rng_[2] ^= t;
  rng_[3] = std::rotl(rng_[3], 45);
  return result;
}

double TrafficGenerator::NextDouble() {
  return UnitFromHash(NextU64());
}

int64_t TrafficGenerator::Clock() {
  if (options_.simulated_start_ms == 0) return NowMillis();
  return options_.simulated_start_ms +
         static_cast<int64_t>(static_cast<double>(generated_) * 1000.0 / options_.simulated_rate);
}

void TrafficGenerator::AppendHex(std::string& out, uint64_t v, int digits) {
  static constexpr char kHex[] = "0123456789abcdef";
  for (int i = digits - 1; i >= 0; --i) out.push_back(kHex[(v >> (4 * i)) & 0xf]);
}

void TrafficGenerator::AppendUuid(std::string& out) {
  const uint64_t hi = (NextU64() & ~0xF000ull) | 0x4000ull;        // version 4
  const uint64_t lo = (NextU64() & ~(3ull << 62)) | (2ull << 62);  // RFC 4122 variant
  AppendHex(out, hi >> 32, 8);
  out.push_back('-');
  AppendHex(out, (hi >> 16) & 0xffff, 4);
  out.push_back('-');
  AppendHex(out, hi & 0xffff, 4);
  out.push_back('-');
  AppendHex(out, lo >> 48, 4);
  out.push_back('-');
  AppendHex(out, lo & 0xffffffffffffull, 12);
}

// omit_required: -1 none; 0..3 leave out kRequiredFields[i]; 4..7 write it as null.
void TrafficGenerator::WriteEvent(GeneratedRecord& out, int user, std::string_view event_type,
                                  int64_t event_ts, int omit_required) {
  UserState& u = users_[user];
  if (u.session == 0 || u.remaining <= 0 ||
      out.clock_ms - u.last_ms > options_.session_timeout_ms) {
    u.session = NextU64() | 1;
    u.remaining = 1 + static_cast<int>(NextU64() % options_.max_events_per_session);
  }
  --u.remaining;
  u.last_ms = out.clock_ms;

  // Country and device are attributes of the user: derived from (seed, user), not drawn.
  uint64_t user_state = options_.seed * 0x9E3779B97F4A7C15ull + static_cast<uint64_t>(user);
  const char* country = Pick(kCountries, UnitFromHash(SplitMix(user_state)));
  const char* device = Pick(kDevices, UnitFromHash(SplitMix(user_state)));
  const double page_u = NextDouble();
  const size_t page = std::min<size_t>(
      std::upper_bound(page_cdf_.begin(), page_cdf_.end(), page_u) - page_cdf_.begin(),
      pages_.size() - 1);
  const char* referrer = Pick(kReferrers, NextDouble());

  std::string& v = out.value;
  v.clear();
  v.push_back('{');
  bool first = true;
  auto key = [&](const char* name) {
    if (!first) v.push_back(',');
    first = false;
    v.push_back('"');
    v.append(name);
    v.append("\":");
  };
  // Writes a required field unless it is the omitted one; returns false when it must be null.
  auto required = [&](int index) {
    if (omit_required == index) return false;
    key(kRequiredFields[index]);
    if (omit_required == index + 4) {
      v.append("null");
      return false;
    }
    return true;
  };
  if (required(0)) {
    v.push_back('"');
    AppendUuid(v);
    v.push_back('"');
  }
  if (required(1)) {
    v.push_back('"');
    AppendUserId(v, user);
    v.push_back('"');
  }
  key("session_id");
  v.append("\"s-");
  AppendHex(v, u.session, 16);
  v.push_back('"');
  if (required(2)) {
    v.push_back('"');
    v.append(event_type);
    v.push_back('"');
  }
  key("page_url");
  v.push_back('"');
  v.append(pages_[page]);
  v.push_back('"');
  key("referrer");
  if (referrer == nullptr) {
    v.append("null");
  } else {
    v.push_back('"');
    v.append(referrer);
    v.push_back('"');
  }
  key("device_type");
  v.push_back('"');
  v.append(device);
  v.append("\"");
  key("country");
  v.push_back('"');
  v.append(country);
  v.push_back('"');
  if (required(3)) AppendInt(v, event_ts);
  key("properties");
  const uint64_t r = NextU64();
  if (event_type == "page_view") {
    v.append("{\"load_ms\":");
    AppendInt(v, 50 + static_cast<int64_t>(r % 2000));
  } else if (event_type == "click") {
    v.append("{\"element\":\"btn-");
    AppendInt(v, static_cast<int64_t>(r % 40));
    v.append("\",\"x\":");
    AppendInt(v, static_cast<int64_t>((r >> 8) % 1920));
    v.append(",\"y\":");
    AppendInt(v, static_cast<int64_t>((r >> 20) % 1080));
  } else if (event_type == "scroll") {
    v.append("{\"depth_pct\":");
    AppendInt(v, static_cast<int64_t>(r % 101));
  } else if (event_type == "add_to_cart") {
    v.append("{\"product_id\":\"p-");
    AppendInt(v, static_cast<int64_t>(page));
    v.append("\",\"quantity\":");
    AppendInt(v, 1 + static_cast<int64_t>(r % 4));
    v.append(",\"price\":");
    AppendCents(v, 199 + static_cast<int64_t>((r >> 8) % 20000));
  } else if (event_type == "purchase") {
    v.append("{\"order_id\":\"o-");
    AppendHex(v, r, 12);
    v.append("\",\"amount\":");
    AppendCents(v, 500 + static_cast<int64_t>((r >> 16) % 50000));
    v.append(",\"items\":");
    AppendInt(v, 1 + static_cast<int64_t>((r >> 40) % 6));
    v.append(",\"currency\":\"USD\"");
  } else {
    v.append("{\"detail\":\"");
    AppendInt(v, static_cast<int64_t>(r % 100));
    v.push_back('"');
  }
  v.append("}}");

  out.key.clear();
  AppendUserId(out.key, user);
  out.event_timestamp_ms = event_ts;
}

namespace {

// The [begin, end) of the value of top-level `field` in a generated event, or npos when absent.
// Generated values hold no escaped quotes and only `properties` (the last field) nests.
std::pair<size_t, size_t> FindTopLevelValue(const std::string& v, std::string_view field) {
  std::string needle = "\"";
  needle.append(field);
  needle.append("\":");
  size_t pos = v.find(needle);
  if (pos == std::string::npos) return {std::string::npos, std::string::npos};
  const size_t b = pos + needle.size();
  size_t e = b;
  if (b < v.size() && v[b] == '"') {
    e = v.find('"', b + 1);
    e = e == std::string::npos ? v.size() : e + 1;
  } else if (b < v.size() && v[b] == '{') {
    int depth = 0;
    for (; e < v.size(); ++e) {
      if (v[e] == '{') ++depth;
      if (v[e] == '}' && --depth == 0) {
        ++e;
        break;
      }
    }
  } else {
    while (e < v.size() && v[e] != ',' && v[e] != '}') ++e;
  }
  return {b, e};
}

int64_t ParseScenarioTime(std::string_view t, bool* ok) {
  int64_t unit = 1000;
  if (t.ends_with("ms")) {
    unit = 1;
    t.remove_suffix(2);
  } else if (t.ends_with("s")) {
    t.remove_suffix(1);
  } else if (t.ends_with("m")) {
    unit = 60'000;
    t.remove_suffix(1);
  }
  double v = 0;
  auto [p, ec] = std::from_chars(t.data(), t.data() + t.size(), v);
  *ok = ec == std::errc() && p == t.data() + t.size() && !t.empty() && v >= 0;
  return static_cast<int64_t>(v * static_cast<double>(unit));
}

}  // namespace

Result<std::vector<Scenario>> ParseScenarios(const std::string& spec) {
  std::vector<Scenario> out;
  size_t pos = 0;
  while (pos <= spec.size() && !spec.empty()) {
    size_t comma = spec.find(',', pos);
    if (comma == std::string::npos) comma = spec.size();
    const std::string item = spec.substr(pos, comma - pos);
    pos = comma + 1;
    auto bad = [&](const std::string& why) {
      return InvalidArgument("scenario '" + item + "': " + why);
    };
    const size_t at = item.find('@');
    if (at == std::string::npos) return bad("expected KIND[:FIELD][:FRACTION]@START[-END]");
    std::vector<std::string> parts;
    for (size_t b = 0;;) {
      size_t c = item.find(':', b);
      if (c == std::string::npos || c > at) c = at;
      parts.push_back(item.substr(b, c - b));
      if (c == at) break;
      b = c + 1;
    }
    Scenario s;
    const std::string& kind = parts[0];
    size_t next = 1;
    if (kind == "volume-drop") {
      s.kind = Scenario::Kind::kVolumeDrop;
      s.fraction = 0.1;
    } else if (kind == "null-spike" || kind == "new-field" || kind == "type-change") {
      s.kind = kind == "null-spike"  ? Scenario::Kind::kNullSpike
               : kind == "new-field" ? Scenario::Kind::kNewField
                                     : Scenario::Kind::kTypeChange;
      s.fraction = kind == "null-spike" ? 0.5 : 1.0;
      if (parts.size() < 2 || parts[1].empty()) return bad("needs a field name");
      s.field = parts[1];
      next = 2;
    } else {
      return bad("unknown kind '" + kind + "' (volume-drop, null-spike, new-field, type-change)");
    }
    if (parts.size() > next + 1) return bad("too many ':' parts");
    if (parts.size() == next + 1) {
      if (s.kind == Scenario::Kind::kNewField || s.kind == Scenario::Kind::kTypeChange)
        return bad("takes no fraction");
      const std::string& f = parts[next];
      auto [p, ec] = std::from_chars(f.data(), f.data() + f.size(), s.fraction);
      if (ec != std::errc() || p != f.data() + f.size() || s.fraction < 0 || s.fraction > 1)
        return bad("fraction '" + f + "' is not in [0, 1]");
    }
    const std::string times = item.substr(at + 1);
    const size_t dash = times.find('-');
    bool ok = false;
    s.start_ms = ParseScenarioTime(std::string_view(times).substr(0, dash), &ok);
    if (!ok) return bad("bad start time");
    if (dash != std::string::npos) {
      s.end_ms = ParseScenarioTime(std::string_view(times).substr(dash + 1), &ok);
      if (!ok || s.end_ms <= s.start_ms) return bad("bad end time");
    } else if (s.kind == Scenario::Kind::kVolumeDrop || s.kind == Scenario::Kind::kNullSpike) {
      return bad("needs START-END");
    }
    out.push_back(std::move(s));
  }
  return out;
}

void TrafficGenerator::ApplyScenarios(GeneratedRecord& out) {
  if (scenario_origin_ms_ < 0) scenario_origin_ms_ = out.clock_ms;
  const int64_t elapsed = out.clock_ms - scenario_origin_ms_;
  for (const Scenario& s : options_.scenarios) {
    if (!s.Active(elapsed)) continue;
    std::string& v = out.value;
    switch (s.kind) {
      case Scenario::Kind::kVolumeDrop:
        break;  // RunProducer lowers the rate
      case Scenario::Kind::kNullSpike: {
        if (NextDouble() >= s.fraction) break;
        auto [b, e] = FindTopLevelValue(v, s.field);
        if (b != std::string::npos) v.replace(b, e - b, "null");
        break;
      }
      case Scenario::Kind::kNewField:
        v.pop_back();  // the closing brace
        v.append(",\"");
        v.append(s.field);
        v.append("\":\"v-");
        AppendInt(v, static_cast<int64_t>(NextU64() % 100));
        v.append("\"}");
        break;
      case Scenario::Kind::kTypeChange: {
        auto [b, e] = FindTopLevelValue(v, s.field);
        if (b == std::string::npos) break;
        if (v[b] == '"' || v[b] == '{' || v.compare(b, e - b, "null") == 0) {
          v.replace(b, e - b, std::to_string(e - b));
        } else {
          v.insert(e, 1, '"');
          v.insert(b, 1, '"');
        }
        break;
      }
    }
  }
}

void TrafficGenerator::Next(GeneratedRecord& out) {
  out.clock_ms = Clock();
  ++generated_;
  const GeneratorOptions& o = options_;
  double u = NextDouble();
  RecordKind kind = RecordKind::kNormal;
  for (auto [fraction, k] : {std::pair{o.duplicate_fraction, RecordKind::kDuplicate},
                             std::pair{o.late_fraction, RecordKind::kLate},
                             std::pair{o.malformed_fraction, RecordKind::kMalformed},
                             std::pair{o.unknown_type_fraction, RecordKind::kUnknownType},
                             std::pair{o.missing_field_fraction, RecordKind::kMissingField}}) {
    if (u < fraction) {
      kind = k;
      break;
    }
    u -= fraction;
  }
  if (kind == RecordKind::kDuplicate) {
    if (recent_size_ > 0) {
      const Sent& s =
          recent_[(recent_next_ + kRecentRecords - 1 - NextU64() % recent_size_) % kRecentRecords];
      out.kind = kind;
      out.key.assign(s.key);
      out.value.assign(s.value);
      out.event_timestamp_ms = s.event_timestamp_ms;
      return;
    }
    kind = RecordKind::kNormal;
  }

  const int user = static_cast<int>(NextU64() % static_cast<uint64_t>(o.num_users));
  const char* type = Pick(kEventMix, NextDouble());
  int64_t ts = out.clock_ms;
  int omit = -1;
  switch (kind) {
    case RecordKind::kLate: {
      const double mean = static_cast<double>(std::max<int64_t>(1, o.mean_lateness_ms));
      const double delay = 1000.0 - mean * std::log(1.0 - NextDouble());
      ts -= std::min<int64_t>(o.max_lateness_ms, static_cast<int64_t>(delay));
      break;
    }
    case RecordKind::kUnknownType:
      type = kUnknownTypes[NextU64() % std::size(kUnknownTypes)];
      break;
    case RecordKind::kMissingField:
      omit = static_cast<int>(NextU64() % 8);
      break;
    default:
      break;
  }
  out.kind = kind;
  WriteEvent(out, user, type, ts, omit);

  if (kind == RecordKind::kMalformed) {
    switch (NextU64() % 4) {
      case 0:
        out.value.resize(out.value.size() / 2);
        break;  // truncated
      case 1:
        out.value.assign("not json ");
        AppendUuid(out.value);
        break;
      case 2:  // valid JSON, but not an object
        out.value.assign("[\"");
        out.value.append(type);
        out.value.append("\",");
        AppendInt(out.value, ts);
        out.value.push_back(']');
        break;
      default:
        out.value.erase(1, 1);
        break;  // first key loses its opening quote
    }
  } else if (kind == RecordKind::kNormal || kind == RecordKind::kLate) {
    if (!options_.scenarios.empty()) ApplyScenarios(out);
    Sent& s = recent_[recent_next_];
    s.key.assign(out.key);
    s.value.assign(out.value);
    s.event_timestamp_ms = out.event_timestamp_ms;
    recent_next_ = (recent_next_ + 1) % kRecentRecords;
    recent_size_ = std::min(recent_size_ + 1, kRecentRecords);
  }
}

Result<ProduceStats> RunProducer(const ProduceOptions& options, std::atomic<bool>& stop) {
  if (options.rate <= 0) return InvalidArgument("produce: rate must be > 0");
  if (options.topic.empty()) return InvalidArgument("produce: topic must be set");
  STRATA_ASSIGN_OR_RETURN(std::unique_ptr<Producer> producer,
                          Producer::Create(options.bootstrap, options.kafka_config));
  producer->set_cancel_flag(&stop);
  TrafficGenerator generator(options.generator);
  GeneratedRecord record;
  ProduceStats stats;
  auto publish = [&] {
    if (options.counters == nullptr) return;
    options.counters->produced.store(stats.produced, std::memory_order_relaxed);
    options.counters->delivered.store(producer->delivered(), std::memory_order_relaxed);
    options.counters->delivery_errors.store(producer->delivery_errors(), std::memory_order_relaxed);
  };
  const double burst = std::max(1.0, options.rate / 100.0);  // at most 10 ms worth at once
  double tokens = 0;
  const int64_t start_ns = MonotonicNanos();
  int64_t last_ns = start_ns;
  for (;;) {
    if (stop.load(std::memory_order_relaxed)) break;
    if (options.max_records > 0 && stats.produced >= options.max_records) break;
    const int64_t now_ns = MonotonicNanos();
    if (options.duration_s > 0 && (now_ns - start_ns) * 1e-9 >= options.duration_s) break;
    double rate = options.rate;
    for (const Scenario& s : options.generator.scenarios)
      if (s.kind == Scenario::Kind::kVolumeDrop && s.Active((now_ns - start_ns) / 1'000'000))
        rate *= s.fraction;
    tokens = std::min(burst, tokens + rate * static_cast<double>(now_ns - last_ns) * 1e-9);
    last_ns = now_ns;
    if (tokens < 1.0) {
      producer->Poll();
      std::this_thread::sleep_for(std::chrono::microseconds(1000));
      continue;
    }
    while (tokens >= 1.0) {
      if (options.max_records > 0 && stats.produced >= options.max_records) break;
      generator.Next(record);
      Status st = producer->Produce(options.topic, record.key, record.value);
      if (st.code() == StatusCode::kCancelled) break;
      STRATA_RETURN_IF_ERROR(st);
      ++stats.produced;
      ++stats.by_kind[static_cast<int>(record.kind)];
      tokens -= 1.0;
    }
    publish();
  }
  Status flushed = producer->Flush(std::chrono::seconds(30));
  publish();
  STRATA_RETURN_IF_ERROR(flushed);
  stats.elapsed_s = static_cast<double>(MonotonicNanos() - start_ns) * 1e-9;
  stats.delivered = producer->delivered();
  stats.delivery_errors = producer->delivery_errors();
  return stats;
}

}  // namespace strata
