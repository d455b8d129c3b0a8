#include "monitor/group_status.h"

#include <signal.h>
#include <simdjson.h>
#include <spdlog/spdlog.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cstdio>
#include <filesystem>
#include <map>
#include <set>

#include "core/file_util.h"
#include "core/json_writer.h"
#include "core/time_util.h"
#include "lake/delta/maintenance.h"
#include "stream/checkpoint.h"

namespace strata::monitor {
namespace {

namespace fs = std::filesystem;

std::string HostName() {
  char buf[256] = {0};
  if (::gethostname(buf, sizeof buf - 1) != 0) return "";
  return buf;
}

// The count N of "... (N rebalances)" in a group source's description, -1 if absent.
int64_t RebalancesOf(const std::string& description) {
  size_t end = description.rfind(" rebalances)");
  size_t open = description.rfind('(', end);
  if (end == std::string::npos || open == std::string::npos) return -1;
  int64_t n = -1;
  auto [p, err] = std::from_chars(description.data() + open + 1, description.data() + end, n);
  return err == std::errc() && p == description.data() + end ? n : -1;
}

std::string Clock(int64_t ms) {
  if (ms <= 0) return "-";
  return FormatTimestampMicros(ms * 1000).substr(11, 8);
}

std::string WatermarkText(int64_t ms) {
  if (ms == -1) return "-";
  if (ms == -2) return "?";
  if (ms == 0) return "none";
  return Clock(ms);
}

// Whether `pid` runs on this machine (EPERM: it runs, under another user).
bool PidRuns(int64_t pid) {
  if (pid <= 0) return false;
  return ::kill(static_cast<pid_t>(pid), 0) == 0 || errno == EPERM;
}

// The watermark of a layer's partition checkpoint (see GroupStatus::Partition::watermarks).
int64_t PartitionWatermark(const std::string& layer_checkpoint, int32_t partition) {
  const std::string dir = layer_checkpoint + "/partitions/" + std::to_string(partition);
  std::error_code ec;
  if (!fs::is_directory(dir, ec)) return -1;
  Checkpoint cp(dir);
  auto latest = cp.LatestCommitted();
  if (!latest.ok()) return -2;
  if (*latest < 0) return 0;
  auto planned = cp.LoadPlanned(*latest);
  if (!planned.ok()) {
    spdlog::debug("group status: {}", planned.status().ToString());
    return -2;
  }
  return planned->watermark_ms;
}

}  // namespace

int32_t PartitionOfPosition(const std::string& name) {
  size_t dash = name.rfind('-');
  if (dash == std::string::npos || dash + 1 >= name.size()) return -1;
  int32_t p = -1;
  auto [ptr, err] = std::from_chars(name.data() + dash + 1, name.data() + name.size(), p);
  return err == std::errc() && ptr == name.data() + name.size() ? p : -1;
}

std::string GroupMemberStatus::ToJson() const {
  JsonWriter w;
  w.BeginObject();
  w.Key("member").String(member);
  w.Key("groupId").String(group_id);
  w.Key("pid").Int(pid);
  w.Key("host").String(host);
  w.Key("listen").String(listen);
  w.Key("writtenMs").Int(written_ms);
  w.Key("intervalMs").Int(interval_ms);
  w.Key("stopped").Bool(stopped);
  w.Key("rebalances").Int(rebalances);
  w.Key("lastRebalanceMs").Int(last_rebalance_ms);
  w.Key("partitions").BeginArray();
  for (const MemberPartition& p : partitions) {
    w.BeginObject();
    w.Key("partition").Int(p.partition);
    w.Key("committed").Int(p.committed);
    w.Key("highWatermark").Int(p.high_watermark);
    w.Key("lag").Int(p.lag);
    w.Key("asOfMs").Int(p.as_of_ms);
    w.EndObject();
  }
  w.EndArray();
  w.EndObject();
  return w.Take();
}

Result<GroupMemberStatus> ParseGroupMemberStatus(std::string_view json, const std::string& path) {
  simdjson::dom::parser parser;
  simdjson::dom::element doc;
  if (parser.parse(json.data(), json.size()).get(doc) != simdjson::SUCCESS)
    return Corruption("group member status " + path + " is not JSON");
  GroupMemberStatus s;
  auto str = [&](const char* key, std::string* out) -> Status {
    std::string_view v;
    if (doc[key].get_string().get(v) != simdjson::SUCCESS)
      return Corruption("group member status " + path + ": no string '" + key + "'");
    *out = v;
    return Status::OK();
  };
  auto num = [&](simdjson::dom::element e, const char* key, int64_t* out) -> Status {
    if (e[key].get_int64().get(*out) != simdjson::SUCCESS)
      return Corruption("group member status " + path + ": no integer '" + key + "'");
    return Status::OK();
  };
  STRATA_RETURN_IF_ERROR(str("member", &s.member));
  STRATA_RETURN_IF_ERROR(str("groupId", &s.group_id));
  STRATA_RETURN_IF_ERROR(str("host", &s.host));
  STRATA_RETURN_IF_ERROR(str("listen", &s.listen));
  STRATA_RETURN_IF_ERROR(num(doc, "pid", &s.pid));
  STRATA_RETURN_IF_ERROR(num(doc, "writtenMs", &s.written_ms));
  STRATA_RETURN_IF_ERROR(num(doc, "intervalMs", &s.interval_ms));
  STRATA_RETURN_IF_ERROR(num(doc, "rebalances", &s.rebalances));
  STRATA_RETURN_IF_ERROR(num(doc, "lastRebalanceMs", &s.last_rebalance_ms));
  if (doc["stopped"].get_bool().get(s.stopped) != simdjson::SUCCESS)
    return Corruption("group member status " + path + ": no boolean 'stopped'");
  simdjson::dom::array parts;
  if (doc["partitions"].get_array().get(parts) != simdjson::SUCCESS)
    return Corruption("group member status " + path + ": no array 'partitions'");
  for (simdjson::dom::element e : parts) {
    MemberPartition p;
    int64_t partition = 0;
    STRATA_RETURN_IF_ERROR(num(e, "partition", &partition));
    p.partition = static_cast<int32_t>(partition);
    STRATA_RETURN_IF_ERROR(num(e, "committed", &p.committed));
    STRATA_RETURN_IF_ERROR(num(e, "highWatermark", &p.high_watermark));
    STRATA_RETURN_IF_ERROR(num(e, "lag", &p.lag));
    STRATA_RETURN_IF_ERROR(num(e, "asOfMs", &p.as_of_ms));
    s.partitions.push_back(p);
  }
  return s;
}

std::string MemberStatusPath(const std::string& bronze_checkpoint, const std::string& member) {
  return bronze_checkpoint + "/members/" + member + "/status.json";
}

Status WriteMemberStatus(const std::string& bronze_checkpoint, const GroupMemberStatus& status) {
  if (status.member.empty() || status.member.find('/') != std::string::npos)
    return InvalidArgument("group member name '" + status.member + "' cannot name a directory");
  const std::string path = MemberStatusPath(bronze_checkpoint, status.member);
  STRATA_RETURN_IF_ERROR(CreateDirectories(fs::path(path).parent_path().string()));
  return WriteFileAtomic(path, status.ToJson() + "\n");
}

std::optional<GroupMemberStatus> MemberStatusFromView(const QueryStatusView& bronze) {
  if (bronze.recent.empty()) return std::nullopt;
  const std::string& d = bronze.recent.back().source_description;
  size_t g = d.find(" group ");
  size_t m = d.find(" member ", g == std::string::npos ? 0 : g);
  size_t paren = d.rfind(" (");
  if (g == std::string::npos || m == std::string::npos || paren == std::string::npos || paren < m)
    return std::nullopt;
  GroupMemberStatus s;
  s.group_id = d.substr(g + 7, m - g - 7);
  s.member = d.substr(m + 8, paren - m - 8);
  s.rebalances = std::max<int64_t>(RebalancesOf(d), 0);
  for (auto it = bronze.recent.rbegin(); it != bronze.recent.rend(); ++it) {
    if (it->partitions.empty()) continue;
    for (const PartitionPosition& pos : it->partitions) {
      MemberPartition p;
      p.partition = PartitionOfPosition(pos.partition);
      if (p.partition < 0) continue;
      p.committed = pos.end;
      p.high_watermark = pos.latest;
      p.lag = pos.latest >= 0 ? std::max<int64_t>(pos.latest - pos.end, 0) : -1;
      p.as_of_ms = it->timestamp_ms;
      s.partitions.push_back(p);
    }
    break;
  }
  std::sort(
      s.partitions.begin(), s.partitions.end(),
      [](const MemberPartition& a, const MemberPartition& b) { return a.partition < b.partition; });
  return s;
}

int32_t PartitionOfSubQuery(const std::string& view_name, const std::string& layer) {
  const std::string prefix = layer + "[p";
  if (view_name.size() <= prefix.size() + 1 || view_name.compare(0, prefix.size(), prefix) != 0 ||
      view_name.back() != ']')
    return -1;
  int32_t p = -1;
  const char* begin = view_name.data() + prefix.size();
  const char* end = view_name.data() + view_name.size() - 1;
  auto [ptr, err] = std::from_chars(begin, end, p);
  return err == std::errc() && ptr == end && p >= 0 ? p : -1;
}

void OwnPartitions(GroupMemberStatus& status, const std::vector<int32_t>& owned, int64_t now_ms) {
  std::vector<MemberPartition> out;
  for (int32_t p : owned) {
    auto it = std::find_if(status.partitions.begin(), status.partitions.end(),
                           [&](const MemberPartition& m) { return m.partition == p; });
    MemberPartition m = it != status.partitions.end() ? *it : MemberPartition{p, -1, -1, -1, 0};
    m.as_of_ms = now_ms;
    out.push_back(m);
  }
  status.partitions = std::move(out);
}

Result<GroupStatus> ReadGroupStatus(const GroupStatusOptions& options) {
  GroupStatus out;
  out.now_ms = options.now_ms ? options.now_ms : NowMillis();
  for (const LayerCheckpoint& l : options.layers) out.layers.push_back(l.name);
  const std::string members_dir = options.bronze_checkpoint + "/members";
  const std::string host = HostName();
  std::error_code ec;
  if (fs::is_directory(members_dir, ec)) {
    fs::directory_iterator it(members_dir, ec);
    if (ec) return IOError("listing " + members_dir + ": " + ec.message());
    for (const auto& entry : it) {
      const std::string path = (entry.path() / "status.json").string();
      auto text = ReadFile(path);
      if (!text.ok()) continue;  // a member that has not run a batch yet, or an old directory
      auto parsed = ParseGroupMemberStatus(*text, path);
      if (!parsed.ok()) {
        spdlog::warn("group status: {}", parsed.status().ToString());
        continue;
      }
      GroupStatus::Member m;
      m.status = std::move(*parsed);
      const int64_t stale_ms = options.stale_intervals * std::max<int64_t>(m.status.interval_ms, 1);
      if (m.status.stopped) {
        m.state = "stopped";
      } else if (!host.empty() && m.status.host == host && !PidRuns(m.status.pid)) {
        m.state = "dead";
      } else if (out.now_ms - m.status.written_ms > stale_ms) {
        m.state = "stale";
      } else {
        m.state = "alive";
        m.alive = true;
      }
      if (!m.alive && out.now_ms - m.status.written_ms > options.forget_after_ms) {
        ++out.forgotten;
        continue;
      }
      out.members.push_back(std::move(m));
    }
  }
  std::sort(out.members.begin(), out.members.end(),
            [](const GroupStatus::Member& a, const GroupStatus::Member& b) {
              if (a.alive != b.alive) return a.alive;
              return a.status.member < b.status.member;
            });
  for (const GroupStatus::Member& m : out.members) {
    if (out.group_id.empty()) out.group_id = m.status.group_id;
    out.last_rebalance_ms = std::max(out.last_rebalance_ms, m.status.last_rebalance_ms);
  }

  // Every partition seen anywhere: in a member's file or in a layer's partitions/ directory.
  std::set<int32_t> seen;
  std::map<int32_t, std::pair<const GroupStatus::Member*, const MemberPartition*>> owner;
  for (const GroupStatus::Member& m : out.members) {
    for (const MemberPartition& p : m.status.partitions) {
      seen.insert(p.partition);
      if (!m.alive) continue;
      auto& o = owner[p.partition];
      if (!o.first || p.as_of_ms > o.second->as_of_ms) o = {&m, &p};
    }
  }
  for (const LayerCheckpoint& l : options.layers) {
    fs::directory_iterator it(l.checkpoint + "/partitions", ec);
    if (ec) continue;
    for (const auto& entry : it) {
      const std::string name = entry.path().filename().string();
      int32_t p = -1;
      auto [ptr, err] = std::from_chars(name.data(), name.data() + name.size(), p);
      if (err == std::errc() && ptr == name.data() + name.size() && p >= 0) seen.insert(p);
    }
  }
  for (int32_t p : seen) {
    GroupStatus::Partition part;
    part.partition = p;
    auto o = owner.find(p);
    if (o != owner.end()) {
      part.owner = o->second.first->status.member;
      part.lag = o->second.second->lag;
    } else {
      out.unowned.push_back(p);
    }
    for (const LayerCheckpoint& l : options.layers)
      part.watermarks.push_back(PartitionWatermark(l.checkpoint, p));
    out.partitions.push_back(std::move(part));
  }
  return out;
}

std::string GroupStatus::ToJson() const {
  JsonWriter w;
  w.BeginObject();
  w.Key("groupId").String(group_id);
  w.Key("nowMs").Int(now_ms);
  w.Key("lastRebalanceMs").Int(last_rebalance_ms);
  w.Key("members").BeginArray();
  for (const Member& m : members) {
    w.BeginObject();
    w.Key("member").String(m.status.member);
    w.Key("state").String(m.state);
    w.Key("alive").Bool(m.alive);
    w.Key("pid").Int(m.status.pid);
    w.Key("host").String(m.status.host);
    w.Key("listen").String(m.status.listen);
    w.Key("writtenMs").Int(m.status.written_ms);
    w.Key("rebalances").Int(m.status.rebalances);
    w.Key("lastRebalanceMs").Int(m.status.last_rebalance_ms);
    w.Key("partitions").BeginArray();
    for (const MemberPartition& p : m.status.partitions) {
      w.BeginObject();
      w.Key("partition").Int(p.partition);
      w.Key("committed").Int(p.committed);
      w.Key("highWatermark").Int(p.high_watermark);
      w.Key("lag").Int(p.lag);
      w.Key("asOfMs").Int(p.as_of_ms);
      w.EndObject();
    }
    w.EndArray();
    w.EndObject();
  }
  w.EndArray();
  w.Key("partitions").BeginArray();
  for (const Partition& p : partitions) {
    w.BeginObject();
    w.Key("partition").Int(p.partition);
    w.Key("owner");
    if (p.owner.empty())
      w.Null();
    else
      w.String(p.owner);
    w.Key("lag").Int(p.lag);
    w.Key("watermarks").BeginObject();
    for (size_t i = 0; i < layers.size() && i < p.watermarks.size(); ++i) {
      w.Key(layers[i]);
      if (p.watermarks[i] < 0)
        w.Null();
      else
        w.Int(p.watermarks[i]);
    }
    w.EndObject();
    w.EndObject();
  }
  w.EndArray();
  w.Key("unowned").BeginArray();
  for (int32_t p : unowned) w.Int(p);
  w.EndArray();
  w.Key("forgottenMembers").Int(forgotten);
  w.EndObject();
  return w.Take();
}

std::string GroupStatus::ToText() const {
  std::string out;
  char line[512];
  int alive = 0;
  for (const Member& m : members) alive += m.alive ? 1 : 0;
  std::snprintf(line, sizeof line,
                "group %s: %d member%s alive, %zu gone, %zu partitions, %zu unowned, last "
                "rebalance %s\n",
                group_id.empty() ? "?" : group_id.c_str(), alive, alive == 1 ? "" : "s",
                members.size() - alive, partitions.size(), unowned.size(),
                Clock(last_rebalance_ms).c_str());
  out += line;
  for (const Member& m : members) {
    const GroupMemberStatus& s = m.status;
    std::snprintf(line, sizeof line,
                  "  member %s: %s, pid %lld on %s, http %s, written %.1f s ago, %lld rebalances "
                  "(last %s)\n",
                  s.member.c_str(), m.state.c_str(), static_cast<long long>(s.pid), s.host.c_str(),
                  s.listen.empty() ? "-" : s.listen.c_str(), (now_ms - s.written_ms) / 1000.0,
                  static_cast<long long>(s.rebalances), Clock(s.last_rebalance_ms).c_str());
    out += line;
    std::string owns;
    for (const MemberPartition& p : s.partitions) {
      owns += owns.empty() ? "" : ", ";
      owns +=
          std::to_string(p.partition) + " (lag " + (p.lag >= 0 ? std::to_string(p.lag) : "?") + ")";
    }
    out +=
        std::string("    ") + (m.alive ? "owns: " : "owned: ") + (owns.empty() ? "-" : owns) + "\n";
  }
  // The partition table: one column per layer, each as wide as its name.
  int owner_width = 8;  // "(nobody)"
  for (const Partition& p : partitions)
    owner_width = std::max(owner_width, static_cast<int>(p.owner.size()));
  auto row = [&](const std::string& partition, const std::string& owner, const std::string& lag,
                 const std::vector<std::string>& cells) {
    std::snprintf(line, sizeof line, "  %-9s  %-*s  %8s", partition.c_str(), owner_width,
                  owner.c_str(), lag.c_str());
    std::string r = line;
    for (size_t i = 0; i < cells.size(); ++i) {
      r += "  " + cells[i];
      if (i + 1 < cells.size() && layers[i].size() > cells[i].size())
        r.append(layers[i].size() - cells[i].size(), ' ');
    }
    while (!r.empty() && r.back() == ' ') r.pop_back();
    out += r + "\n";
  };
  row("partition", "owner", "lag", layers);
  for (const Partition& p : partitions) {
    std::vector<std::string> cells;
    for (size_t i = 0; i < layers.size() && i < p.watermarks.size(); ++i)
      cells.push_back(WatermarkText(p.watermarks[i]));
    row(std::to_string(p.partition), p.owner.empty() ? "(nobody)" : p.owner,
        p.lag >= 0 ? std::to_string(p.lag) : "-", cells);
  }
  if (forgotten > 0)
    out += "  (" + std::to_string(forgotten) + " member" + (forgotten == 1 ? "" : "s") +
           " gone for longer than an hour not shown)\n";
  if (!unowned.empty()) {
    std::string list;
    for (int32_t p : unowned) list += (list.empty() ? "" : ", ") + std::to_string(p);
    out += "  unowned: " + list + "\n";
  }
  return out;
}

GroupStatusWriter::GroupStatusWriter(Options options,
                                     std::function<std::vector<QueryStatusView>()> queries)
    : options_(std::move(options)), queries_(std::move(queries)) {}

GroupStatusWriter::~GroupStatusWriter() {
  Stop();
}

void GroupStatusWriter::Start() {
  if (thread_.joinable()) return;
  thread_ = std::thread([this] { Loop(); });
}

void GroupStatusWriter::Loop() {
  std::unique_lock<std::mutex> lock(mu_);
  while (!stop_) {
    lock.unlock();
    auto written = WriteOnce(false);
    if (!written.ok()) spdlog::warn("group status: {}", written.status().ToString());
    lock.lock();
    cv_.wait_for(lock, std::chrono::milliseconds(options_.interval_ms), [this] { return stop_; });
  }
}

void GroupStatusWriter::Stop() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
  {
    std::lock_guard<std::mutex> lock(write_mu_);
    if (stopped_written_) return;
  }
  auto written = WriteOnce(true);
  if (!written.ok()) spdlog::warn("group status: {}", written.status().ToString());
}

Result<bool> GroupStatusWriter::WriteOnce(bool stopped) {
  std::optional<GroupMemberStatus> s;
  std::vector<QueryProgress> recent;
  std::set<int32_t> owned;
  for (QueryStatusView& v : queries_()) {
    if (!options_.partitioned_layer.empty()) {
      int32_t p = PartitionOfSubQuery(v.name, options_.partitioned_layer);
      if (p >= 0) owned.insert(p);
    }
    if (v.name != options_.bronze_query) continue;
    s = MemberStatusFromView(v);
    recent = std::move(v.recent);
  }
  std::lock_guard<std::mutex> lock(write_mu_);
  if (!s) {
    if (!last_) return false;
    s = last_;  // the view has no progress any more (a restart of the query): keep the last
  }
  if (s->rebalances != seen_rebalances_) {
    // The start of the first batch planned after the newest rebalance: the oldest progress
    // still in memory that reports the current count.
    seen_rebalances_ = s->rebalances;
    for (const QueryProgress& p : recent) {
      if (RebalancesOf(p.source_description) == s->rebalances) {
        last_rebalance_ms_ = p.timestamp_ms;
        break;
      }
    }
  }
  if (!last_ || last_->member != s->member) delta::SetMaintenanceMember(s->member);
  s->written_ms = NowMillis();
  if (!options_.partitioned_layer.empty())
    OwnPartitions(*s, std::vector<int32_t>(owned.begin(), owned.end()), s->written_ms);
  s->pid = ::getpid();
  s->host = HostName();
  s->listen = options_.listen;
  s->interval_ms = options_.interval_ms;
  s->last_rebalance_ms = s->rebalances > 0 ? last_rebalance_ms_ : 0;
  s->stopped = stopped;
  last_ = s;
  if (stopped) {
    s->partitions.clear();  // a stopped member has left the group
    stopped_written_ = true;
  }
  STRATA_RETURN_IF_ERROR(WriteMemberStatus(options_.bronze_checkpoint, *s));
  return true;
}

}  // namespace strata::monitor
