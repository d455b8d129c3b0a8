#include "lake/delta/log_store.h"

#include <simdjson.h>
#include <sys/stat.h>

#include <cstdio>
#include <filesystem>

#include "core/file_util.h"
#include "core/json_writer.h"

namespace strata::delta {
namespace {

namespace fs = std::filesystem;

bool AllDigits(std::string_view s) {
  if (s.empty()) return false;
  for (char c : s) {
    if (c < '0' || c > '9') return false;
  }
  return true;
}

bool EndsWith(std::string_view s, std::string_view suffix) {
  return s.size() >= suffix.size() && s.substr(s.size() - suffix.size()) == suffix;
}

}  // namespace

std::optional<int64_t> LogListing::LatestVersion() const {
  std::optional<int64_t> v;
  if (!commits.empty()) v = commits.rbegin()->first;
  if (!checkpoints.empty() && (!v || checkpoints.rbegin()->first > *v)) {
    v = checkpoints.rbegin()->first;
  }
  return v;
}

LogStore::LogStore(std::string table_path) : table_path_(std::move(table_path)) {
  while (table_path_.size() > 1 && table_path_.back() == '/') table_path_.pop_back();
  log_dir_ = table_path_ + "/_delta_log";
}

std::string LogStore::CommitFileName(int64_t version) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%020lld.json", static_cast<long long>(version));
  return buf;
}

std::string LogStore::CheckpointFileName(int64_t version) {
  char buf[48];
  std::snprintf(buf, sizeof buf, "%020lld.checkpoint.parquet", static_cast<long long>(version));
  return buf;
}

std::string LogStore::CommitPath(int64_t version) const {
  return log_dir_ + "/" + CommitFileName(version);
}

bool LogStore::LogExists() const {
  std::error_code ec;
  return fs::is_directory(log_dir_, ec);
}

Result<LogListing> LogStore::List() const {
  LogListing out;
  std::error_code ec;
  fs::directory_iterator it(log_dir_, ec);
  if (ec) return IOError("cannot list " + log_dir_ + ": " + ec.message());
  // (version, num_parts) -> part index -> path
  std::map<std::pair<int64_t, int>, std::map<int, std::string>> multipart;
  for (const auto& entry : it) {
    std::string name = entry.path().filename().string();
    if (name.size() < 21 || name[0] == '.' || name[0] == '_') continue;
    if (!AllDigits(std::string_view(name).substr(0, 20)) || name[20] != '.') continue;
    int64_t version = std::stoll(name.substr(0, 20));
    std::string_view rest = std::string_view(name).substr(21);
    std::string full = log_dir_ + "/" + name;
    if (rest == "json") {
      out.commits[version] = full;
      continue;
    }
    if (rest.substr(0, 11) != "checkpoint.") continue;
    std::string_view cp = rest.substr(11);
    if (cp == "parquet") {
      out.checkpoints[version].push_back({version, CheckpointFiles::Kind::kClassic, {full}, 1});
      continue;
    }
    // NNNNNNNNNN.NNNNNNNNNN.parquet
    if (cp.size() == 10 + 1 + 10 + 8 && AllDigits(cp.substr(0, 10)) && cp[10] == '.' &&
        AllDigits(cp.substr(11, 10)) && cp.substr(21) == ".parquet") {
      int part = std::stoi(std::string(cp.substr(0, 10)));
      int parts = std::stoi(std::string(cp.substr(11, 10)));
      multipart[{version, parts}][part] = full;
      continue;
    }
    // <uuid>.parquet | <uuid>.json
    if (EndsWith(cp, ".parquet") && cp.size() > 8 && cp.find('.') == cp.size() - 8) {
      out.checkpoints[version].push_back({version, CheckpointFiles::Kind::kV2Parquet, {full}, 1});
    } else if (EndsWith(cp, ".json") && cp.size() > 5 && cp.find('.') == cp.size() - 5) {
      out.checkpoints[version].push_back({version, CheckpointFiles::Kind::kV2Json, {full}, 1});
    }
  }
  for (auto& [key, parts] : multipart) {
    auto [version, n] = key;
    if (static_cast<int>(parts.size()) != n) continue;  // incomplete: not usable
    if (parts.begin()->first != 1 || parts.rbegin()->first != n) continue;
    CheckpointFiles f{version, CheckpointFiles::Kind::kMultiPart, {}, n};
    for (auto& [i, p] : parts) f.paths.push_back(p);
    out.checkpoints[version].push_back(std::move(f));
  }
  return out;
}

Result<std::vector<Action>> LogStore::ReadCommit(int64_t version) const {
  std::string path = CommitPath(version);
  auto content = ReadFile(path);
  if (!content.ok()) {
    if (content.status().code() == StatusCode::kNotFound) {
      return NotFound("commit file " + path + " for version " + std::to_string(version) +
                      " does not exist");
    }
    return content.status();
  }
  return ParseActions(*content, path, version);
}

Status LogStore::WriteCommit(int64_t version, const std::vector<Action>& actions) const {
  STRATA_RETURN_IF_ERROR(CreateDirectories(log_dir_));
  Status st = WriteFileIfAbsent(CommitPath(version), SerializeActions(actions));
  if (st.code() == StatusCode::kAlreadyExists) {
    return AlreadyExists("commit " + CommitPath(version) + " already exists (version " +
                         std::to_string(version) + ")");
  }
  return st;
}

Result<int64_t> LogStore::CommitFileTime(int64_t version) const {
  struct stat st;
  std::string path = CommitPath(version);
  if (::stat(path.c_str(), &st) != 0) return NotFound("cannot stat " + path);
  return static_cast<int64_t>(st.st_mtim.tv_sec) * 1000 + st.st_mtim.tv_nsec / 1'000'000;
}

std::optional<LastCheckpoint> LogStore::ReadLastCheckpoint() const {
  auto content = ReadFile(log_dir_ + "/_last_checkpoint");
  if (!content.ok() || content->empty()) return std::nullopt;
  simdjson::dom::parser parser;
  simdjson::dom::element doc;
  if (parser.parse(*content).get(doc)) return std::nullopt;
  LastCheckpoint cp;
  if (doc["version"].get_int64().get(cp.version)) return std::nullopt;
  int64_t v;
  if (!doc["size"].get_int64().get(v)) cp.size = v;
  if (!doc["parts"].get_int64().get(v)) cp.parts = v;
  if (!doc["sizeInBytes"].get_int64().get(v)) cp.size_in_bytes = v;
  if (!doc["numOfAddFiles"].get_int64().get(v)) cp.num_of_add_files = v;
  return cp;
}

Status LogStore::WriteLastCheckpoint(const LastCheckpoint& cp) const {
  JsonWriter w;
  w.BeginObject();
  w.Key("version").Int(cp.version);
  w.Key("size").Int(cp.size);
  if (cp.parts) w.Key("parts").Int(*cp.parts);
  if (cp.size_in_bytes) w.Key("sizeInBytes").Int(*cp.size_in_bytes);
  if (cp.num_of_add_files) w.Key("numOfAddFiles").Int(*cp.num_of_add_files);
  w.EndObject();
  return WriteFileAtomic(log_dir_ + "/_last_checkpoint", w.str());
}

}  // namespace strata::delta
