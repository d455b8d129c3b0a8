#include "connectors/kafka_source.h"

#include <simdjson.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <charconv>
#include <chrono>

#include "core/json_writer.h"
#include "core/uuid.h"
#include "kafka/group_member.h"
#include "kafka/source_reader.h"

namespace strata {

namespace {

constexpr std::chrono::milliseconds kMetadataTimeout{10'000};

// For avail * max_rows without overflow (a GCC/Clang extension, hence __extension__).
__extension__ typedef __int128 Int128;

// Collects records into the decoder and hands full batches to the engine.
class DecodingSink : public RecordSink {
 public:
  DecodingSink(RecordDecoder* decoder, const MicroBatchSource::Emit& emit, int64_t ingestion_ms,
               size_t max_rows, RecordObserver* observer)
      : decoder_(decoder),
        emit_(emit),
        ingestion_ms_(ingestion_ms),
        max_rows_(max_rows),
        observer_(observer) {}
  Status OnRecords(std::string_view topic, const KafkaRecord* records, size_t count) override {
    if (observer_) observer_->ObserveRecords(topic, records, count);
    STRATA_RETURN_IF_ERROR(decoder_->Decode(topic, records, count, ingestion_ms_));
    if (decoder_->buffered_rows() >= max_rows_) return emit_(decoder_->Finish());
    return Status::OK();
  }
  Status Flush() {
    if (decoder_->buffered_rows() == 0) return Status::OK();
    return emit_(decoder_->Finish());
  }

 private:
  RecordDecoder* decoder_;
  const MicroBatchSource::Emit& emit_;
  int64_t ingestion_ms_;
  size_t max_rows_;
  RecordObserver* observer_;
};

}  // namespace

std::string KafkaClusterIdentity(const std::string& cluster_id, const std::string& bootstrap) {
  // A real cluster's id is a UUID; the mock's repeats across processes (deterministically so
  // under ASan, whose heap layout does not vary).
  if (cluster_id.rfind("mockCluster", 0) == 0) return cluster_id + "@" + bootstrap;
  return cluster_id;
}

KafkaSource::KafkaSource(KafkaSourceOptions options, std::unique_ptr<RecordDecoder> decoder)
    : options_(std::move(options)), decoder_(std::move(decoder)) {}
KafkaSource::~KafkaSource() = default;

std::string KafkaSource::Description() const {
  if (group_) {
    return "kafka[" + options_.topic + "] group " + group_->group_id() + " member " + member_name_ +
           " (" + std::to_string(group_->Assignment().rebalances) + " rebalances)";
  }
  return "kafka[" + options_.topic + "]";
}
std::string KafkaSource::Identity() const {
  return "kafka:" + options_.topic;
}
SchemaPtr KafkaSource::schema() const {
  return decoder_->schema();
}

Status KafkaSource::Open() {
  auto it = options_.kafka.find("bootstrap.servers");
  if (it == options_.kafka.end() || it->second.empty())
    return InvalidArgument("kafka.bootstrap.servers is not set");
  bootstrap_ = it->second;
  std::map<std::string, std::string> props = options_.kafka;
  props.erase("bootstrap.servers");
  // The group's settings belong to the group member; the reader never joins a group.
  const bool group_mode = props.count("group.id") > 0;
  for (const char* key : {"group.id", "group.instance.id", "partition.assignment.strategy",
                          "session.timeout.ms", "heartbeat.interval.ms", "max.poll.interval.ms"})
    props.erase(key);
  STRATA_ASSIGN_OR_RETURN(reader_, KafkaReader::Create(bootstrap_, props));
  STRATA_ASSIGN_OR_RETURN(TopicInfo info, reader_->Describe(options_.topic, kMetadataTimeout));
  cluster_id_ = KafkaClusterIdentity(info.cluster_id, bootstrap_);
  partitions_ = info.partitions;
  if (group_mode) {
    // A static member (group.instance.id) keeps its name, and its checkpoint, across restarts.
    auto instance = options_.kafka.find("group.instance.id");
    member_name_ = instance != options_.kafka.end() && !instance->second.empty()
                       ? instance->second
                       : "m-" + NewUuid().substr(0, 13);
    STRATA_ASSIGN_OR_RETURN(group_,
                            KafkaGroupMember::Create(options_.topic, member_name_, options_.kafka,
                                                     options_.assignment_board));
  }
  return RefreshWatermarks();
}

void KafkaSource::Close() {
  if (group_) group_->Close();
}

Status KafkaSource::RefreshWatermarks() {
  return RefreshWatermarks(partitions_);
}

Status KafkaSource::RefreshWatermarks(const std::vector<int32_t>& partitions) {
  if (partitions.empty()) return Status::OK();
  STRATA_ASSIGN_OR_RETURN(auto wms,
                          reader_->Watermarks(options_.topic, partitions, kMetadataTimeout));
  for (const auto& w : wms) watermarks_[w.partition] = {w.low, w.high};
  return Status::OK();
}

std::string KafkaSource::MarkAppId(const std::string& cluster, int32_t partition) const {
  return "kafka/" + cluster + "/" + options_.topic + "/" + std::to_string(partition);
}

int64_t KafkaSource::RangeStart(const Offsets& from, const Offsets& to, int32_t partition) {
  const auto& starts = to.group ? to.from : from.next;
  auto it = starts.find(partition);
  return it != starts.end() ? it->second : to.next.at(partition);
}

Result<KafkaSource::Offsets> KafkaSource::Parse(const std::string& json) const {
  simdjson::dom::parser parser;
  simdjson::dom::element doc;
  simdjson::dom::object offsets;
  std::string_view cluster, topic;
  if (parser.parse(json).get(doc) || doc["cluster"].get_string().get(cluster) ||
      doc["topic"].get_string().get(topic) || doc["offsets"].get_object().get(offsets)) {
    return Corruption("not a Kafka source offset: " + json);
  }
  Offsets o;
  o.cluster = std::string(cluster);
  for (auto [key, value] : offsets) {
    int32_t p = 0;
    int64_t n = 0;
    auto r = std::from_chars(key.data(), key.data() + key.size(), p);
    if (r.ec != std::errc() || value.get_int64().get(n))
      return Corruption("bad partition offset in Kafka source offset: " + json);
    o.next[p] = n;
  }
  // Group mode's extra maps.
  for (auto [name, target] : {std::pair{"from", &o.from}, std::pair{"expected", &o.expected}}) {
    simdjson::dom::object extra;
    if (doc[name].get_object().get(extra)) continue;
    o.group = true;
    for (auto [key, value] : extra) {
      int32_t p = 0;
      int64_t n = 0;
      auto r = std::from_chars(key.data(), key.data() + key.size(), p);
      if (r.ec != std::errc() || value.get_int64().get(n))
        return Corruption("bad partition entry in Kafka source offset: " + json);
      (*target)[p] = n;
    }
  }
  return o;
}

std::string KafkaSource::Format(const Offsets& o) const {
  JsonWriter w;
  w.BeginObject().Key("cluster").String(o.cluster).Key("topic").String(options_.topic);
  w.Key("offsets").BeginObject();
  for (const auto& [p, n] : o.next) w.Key(std::to_string(p)).Int(n);
  w.EndObject();
  if (o.group) {
    w.Key("from").BeginObject();
    for (const auto& [p, n] : o.from) w.Key(std::to_string(p)).Int(n);
    w.EndObject().Key("expected").BeginObject();
    for (const auto& [p, n] : o.expected) w.Key(std::to_string(p)).Int(n);
    w.EndObject();
  }
  w.EndObject();
  return w.Take();
}

Result<std::string> KafkaSource::InitialOffset() {
  if (group_) {
    // Nothing owned yet: each plan takes the owned partitions from the group and the marks.
    Offsets o;
    o.cluster = cluster_id_;
    o.group = true;
    return Format(o);
  }
  STRATA_ASSIGN_OR_RETURN(Offsets o, StartingOffsets());
  return Format(o);
}

Result<KafkaSource::Offsets> KafkaSource::StartingOffsets() {
  Offsets o;
  o.cluster = cluster_id_;
  const std::string& so = options_.starting_offsets;
  std::map<int32_t, int64_t> given;  // -2 earliest, -1 latest (Spark's codes)
  if (!so.empty() && so[0] == '{') {
    simdjson::dom::parser parser;
    simdjson::dom::element doc;
    simdjson::dom::object parts;
    if (parser.parse(so).get(doc) || doc[options_.topic].get_object().get(parts))
      return InvalidArgument("source.startingOffsets: expected {\"" + options_.topic +
                             "\":{\"0\":offset,...}}, got " + so);
    for (auto [key, value] : parts) {
      int32_t p = 0;
      int64_t n = 0;
      if (std::from_chars(key.data(), key.data() + key.size(), p).ec != std::errc() ||
          value.get_int64().get(n))
        return InvalidArgument("source.startingOffsets: bad entry for partition " +
                               std::string(key));
      given[p] = n;
    }
  }
  for (int32_t p : partitions_) {
    auto [low, high] = watermarks_[p];
    int64_t code = so == "earliest" ? -2 : so == "latest" ? -1 : -2;
    if (auto it = given.find(p); it != given.end()) code = it->second;
    o.next[p] = code == -2 ? low : code == -1 ? high : code;
  }
  STRATA_RETURN_IF_ERROR(CheckDataLoss(o));
  return o;
}

Status KafkaSource::CheckDataLoss(Offsets& o) {
  for (auto& [p, next] : o.next) {
    auto [low, high] = watermarks_[p];
    if (next >= low && next <= high) continue;
    std::string what = "topic " + options_.topic + " partition " + std::to_string(p) + ": offset " +
                       std::to_string(next) + " is no longer in the log (it holds " +
                       std::to_string(low) + ".." + std::to_string(high) + ")";
    if (options_.fail_on_data_loss) {
      return DataLoss(what +
                      "; records were deleted by retention or the topic was recreated. "
                      "Set source.failOnDataLoss = false to skip ahead");
    }
    int64_t to = next < low ? low : high;
    spdlog::warn("{}; skipping to {} (failOnDataLoss = false)", what, to);
    next = to;
  }
  return Status::OK();
}

Result<std::string> KafkaSource::Reconcile(const std::string& offset) {
  if (group_) {
    // Group mode plans from the table's marks, never from a checkpointed offset (a member's
    // checkpoint is its own; which partitions it owns is the group's business).
    Offsets o;
    o.cluster = cluster_id_;
    o.group = true;
    return Format(o);
  }
  STRATA_ASSIGN_OR_RETURN(Offsets o, Parse(offset));
  // The log's bounds as of now: a query that stood by for its checkpoint opened the source
  // long before, and the holder has read further since (a stale end would look like data loss).
  STRATA_RETURN_IF_ERROR(RefreshWatermarks());
  if (o.cluster != cluster_id_) {
    if (options_.on_cluster_change != "reset") {
      return InvalidArgument("the checkpoint's Kafka offsets belong to cluster '" + o.cluster +
                             "', but " + bootstrap_ + " is cluster '" + cluster_id_ +
                             "'; the offsets cannot be reused (set source.onClusterChange = "
                             "\"reset\" to start over from startingOffsets)");
    }
    spdlog::warn(
        "Kafka cluster changed from '{}' to '{}' (a new embedded cluster?): starting "
        "{} again from startingOffsets = {}; the tables keep their rows",
        o.cluster, cluster_id_, options_.topic, options_.starting_offsets);
    return InitialOffset();
  }
  // Partitions added to the topic since the checkpoint start at their beginning.
  for (int32_t p : partitions_)
    if (!o.next.count(p)) o.next[p] = watermarks_[p].first;
  if (options_.on_cluster_change == "reset") {
    // Offsets beyond the end of every partition's log: the topic (or cluster) was recreated.
    bool all_beyond = !o.next.empty();
    for (const auto& [p, next] : o.next) all_beyond = all_beyond && next > watermarks_[p].second;
    if (all_beyond) {
      spdlog::warn(
          "the checkpoint's offsets of {} lie beyond the end of every partition: the "
          "topic or cluster was recreated; starting again from startingOffsets = {}",
          options_.topic, options_.starting_offsets);
      return InitialOffset();
    }
  }
  STRATA_RETURN_IF_ERROR(CheckDataLoss(o));
  return Format(o);
}

Result<std::string> KafkaSource::PlanEnd(const std::string& start, const ReadLimit& limit,
                                         const std::string& cap) {
  if (group_) return PlanGroupEnd(start, limit);
  STRATA_ASSIGN_OR_RETURN(Offsets from, Parse(start));
  STRATA_RETURN_IF_ERROR(RefreshWatermarks());
  Offsets capped;
  if (!cap.empty()) {
    STRATA_ASSIGN_OR_RETURN(capped, Parse(cap));
  }
  STRATA_RETURN_IF_ERROR(CheckDataLoss(from));
  Offsets to = from;
  int64_t total = 0;
  for (auto& [p, next] : to.next) {
    int64_t high = watermarks_[p].second;
    if (!cap.empty() && capped.next.count(p)) high = std::min(high, capped.next[p]);
    next = std::max(next, high);
    total += next - from.next[p];
  }
  if (limit.max_rows > 0 && total > limit.max_rows) {
    // Spread the limit over partitions in proportion to what each has available.
    int64_t given = 0;
    for (auto& [p, next] : to.next) {
      int64_t avail = next - from.next[p];
      int64_t share = static_cast<int64_t>(static_cast<Int128>(avail) * limit.max_rows / total);
      next = from.next[p] + share;
      given += share;
    }
    for (auto& [p, next] : to.next) {
      if (given >= limit.max_rows) break;
      int64_t high = watermarks_[p].second;
      if (!cap.empty() && capped.next.count(p)) high = std::min(high, capped.next[p]);
      int64_t extra = std::min(high - next, limit.max_rows - given);
      next += extra;
      given += extra;
    }
  }
  return Format(to);
}

Status KafkaSource::Read(const std::string& start, const std::string& end,
                         int64_t batch_timestamp_ms, const Emit& emit) {
  STRATA_ASSIGN_OR_RETURN(Offsets from, Parse(start));
  STRATA_ASSIGN_OR_RETURN(Offsets to, Parse(end));
  std::vector<PartitionRange> ranges;
  for (const auto& [p, s] : to.group ? to.from : from.next) {
    auto it = to.next.find(p);
    if (it == to.next.end() || it->second <= s) continue;
    ranges.push_back({p, s, it->second});
  }
  if (!options_.fail_on_data_loss) {
    // Retention may have deleted part of the planned range since it was planned: read what is
    // left (with failOnDataLoss the reader reports DataLoss instead).
    STRATA_RETURN_IF_ERROR(RefreshWatermarks());
    for (auto& r : ranges) {
      int64_t low = watermarks_[r.partition].first;
      if (r.start < low) {
        spdlog::warn(
            "topic {} partition {}: offsets {}..{} were deleted before they were read; "
            "skipping them (failOnDataLoss = false)",
            options_.topic, r.partition, r.start, low);
        r.start = std::min(low, r.end);
      }
    }
  }
  if (ranges.empty()) return Status::OK();
  DecodingSink sink(decoder_.get(), emit, batch_timestamp_ms, options_.max_batch_rows,
                    options_.record_observer.get());
  auto deadline =
      std::chrono::steady_clock::now() + std::chrono::milliseconds(options_.read_timeout_ms);
  Status st = reader_->ReadRange(options_.topic, ranges, sink, deadline);
  if (st.code() == StatusCode::kDataLoss && !options_.fail_on_data_loss) {
    // Some rows may already be with the processor: fail the attempt as retryable, so the engine
    // restores the committed state and reads again (clamped above).
    return Unavailable("retention deleted records while they were being read (" + st.message() +
                       "); retrying the batch");
  }
  STRATA_RETURN_IF_ERROR(st);
  return sink.Flush();
}

std::vector<PartitionPosition> KafkaSource::Positions(const std::string& start,
                                                      const std::string& end) {
  std::vector<PartitionPosition> out;
  auto from = Parse(start);
  auto to = Parse(end);
  if (!from.ok() || !to.ok()) return out;
  for (const auto& [p, e] : to->next) {
    int64_t s = RangeStart(*from, *to, p);
    int64_t latest = watermarks_.count(p) ? watermarks_[p].second : -1;
    out.push_back({options_.topic + "-" + std::to_string(p), s, e, latest});
  }
  return out;
}

std::vector<PartitionMark> KafkaSource::Marks(const std::string& end) {
  std::vector<PartitionMark> out;
  auto to = Parse(end);
  if (!to.ok()) return out;
  for (const auto& [p, e] : to->next) {
    PartitionMark mark{MarkAppId(to->cluster, p), e};
    if (to->group) {
      mark.fenced = true;
      auto it = to->expected.find(p);
      mark.expected = it != to->expected.end() ? it->second : -1;
    }
    out.push_back(std::move(mark));
  }
  return out;
}

int64_t KafkaSource::RowsBetween(const std::string& start, const std::string& end) {
  auto from = Parse(start);
  auto to = Parse(end);
  if (!from.ok() || !to.ok()) return -1;
  int64_t n = 0;
  for (const auto& [p, e] : to->next) n += e - RangeStart(*from, *to, p);
  return n;
}

Result<std::string> KafkaSource::PlanGroupEnd(const std::string& start, const ReadLimit& limit) {
  if (!mark_reader_) return Internal(Description() + ": group mode without a mark reader");
  const std::vector<int32_t> owned = group_->Assignment().partitions;
  for (auto it = unmarked_start_.begin(); it != unmarked_start_.end();) {
    it = std::binary_search(owned.begin(), owned.end(), it->first) ? std::next(it)
                                                                   : unmarked_start_.erase(it);
  }
  if (owned.empty()) return start;
  Offsets plan;
  plan.cluster = cluster_id_;
  plan.group = true;
  // Where each owned partition stands: its mark in the table, read before anything is read.
  std::vector<std::string> apps;
  for (int32_t p : owned) apps.push_back(MarkAppId(cluster_id_, p));
  STRATA_ASSIGN_OR_RETURN(auto marks, mark_reader_(apps));
  if (marks.size() != owned.size()) return Internal(Description() + ": mark reader mismatch");
  STRATA_RETURN_IF_ERROR(RefreshWatermarks(owned));
  Offsets initial;  // startingOffsets, resolved only when a partition without a mark appears
  bool have_initial = false;
  bool unmarked = false;
  for (size_t i = 0; i < owned.size(); ++i) {
    int32_t p = owned[i];
    if (marks[i]) {
      plan.from[p] = *marks[i];
      plan.expected[p] = *marks[i];
      unmarked_start_.erase(p);
      continue;
    }
    if (!unmarked_start_.count(p)) {
      if (!have_initial) {
        STRATA_RETURN_IF_ERROR(RefreshWatermarks());
        STRATA_ASSIGN_OR_RETURN(initial, StartingOffsets());
        have_initial = true;
      }
      auto it = initial.next.find(p);
      unmarked_start_[p] = it != initial.next.end() ? it->second : watermarks_[p].first;
      spdlog::info(
          "{}: partition {} has no mark in the table; starting at {} (startingOffsets "
          "= {})",
          Description(), p, unmarked_start_[p], options_.starting_offsets);
    }
    plan.from[p] = unmarked_start_[p];
    plan.expected[p] = -1;
    unmarked = true;
  }
  Offsets checked;
  checked.next = plan.from;
  STRATA_RETURN_IF_ERROR(CheckDataLoss(checked));
  plan.from = checked.next;
  // A partition without a mark gets one before anything of it is read: a batch that reads
  // nothing and commits only the marks. Otherwise an owner that died before its first commit
  // would leave the partition unmarked, and the next owner would resolve startingOffsets again
  // ("latest" then skips what was produced in between).
  if (unmarked) {
    for (const auto& [p, s] : plan.from) plan.next[p] = s;
    return Format(plan);
  }
  int64_t total = 0;
  for (const auto& [p, s] : plan.from) {
    plan.next[p] = std::max(s, watermarks_[p].second);
    total += plan.next[p] - s;
  }
  // Nothing new: no batch (a batch that only restated the marks would be an empty commit).
  if (total == 0) return start;
  if (limit.max_rows > 0 && total > limit.max_rows) {
    int64_t given = 0;
    for (auto& [p, next] : plan.next) {
      int64_t avail = next - plan.from[p];
      int64_t share = static_cast<int64_t>(static_cast<Int128>(avail) * limit.max_rows / total);
      next = plan.from[p] + share;
      given += share;
    }
    for (auto& [p, next] : plan.next) {
      if (given >= limit.max_rows) break;
      int64_t extra = std::min(watermarks_[p].second - next, limit.max_rows - given);
      next += extra;
      given += extra;
    }
  }
  return Format(plan);
}

}  // namespace strata
