#include "stream/checkpoint.h"

#include <simdjson.h>

#include <algorithm>
#include <charconv>
#include <cstring>
#include <filesystem>

#include "core/file_util.h"
#include "core/hash.h"
#include "core/json_writer.h"

namespace strata {

namespace fs = std::filesystem;

namespace {

Result<simdjson::dom::element> ParseJson(simdjson::dom::parser& parser, const std::string& text,
                                         const std::string& path) {
  simdjson::dom::element doc;
  if (parser.parse(text).get(doc))
    return Corruption("checkpoint file " + path + " is not valid JSON");
  return doc;
}

Result<std::string> GetString(simdjson::dom::element doc, const char* key,
                              const std::string& path) {
  std::string_view v;
  if (doc[key].get_string().get(v))
    return Corruption("checkpoint file " + path + " has no string '" + key + "'");
  return std::string(v);
}

Result<int64_t> GetInt(simdjson::dom::element doc, const char* key, const std::string& path) {
  int64_t v;
  if (doc[key].get_int64().get(v))
    return Corruption("checkpoint file " + path + " has no integer '" + key + "'");
  return v;
}

Result<std::string> GetRaw(simdjson::dom::element doc, const char* key, const std::string& path) {
  simdjson::dom::element e;
  if (doc[key].get(e)) return Corruption("checkpoint file " + path + " has no '" + key + "'");
  return simdjson::minify(e);
}

}  // namespace

Result<CheckpointMetadata> Checkpoint::LoadMetadata() const {
  std::string path = dir_ + "/metadata";
  STRATA_ASSIGN_OR_RETURN(std::string text, ReadFile(path));
  simdjson::dom::parser parser;
  STRATA_ASSIGN_OR_RETURN(auto doc, ParseJson(parser, text, path));
  CheckpointMetadata m;
  STRATA_ASSIGN_OR_RETURN(int64_t version, GetInt(doc, "formatVersion", path));
  if (version > kFormatVersion) {
    return NotSupported("checkpoint " + dir_ + " was written by a newer strata (format " +
                        std::to_string(version) + ", this build reads up to " +
                        std::to_string(kFormatVersion) + ")");
  }
  m.format_version = static_cast<int>(version);
  STRATA_ASSIGN_OR_RETURN(m.query_id, GetString(doc, "id", path));
  STRATA_ASSIGN_OR_RETURN(m.name, GetString(doc, "name", path));
  STRATA_ASSIGN_OR_RETURN(m.source, GetString(doc, "source", path));
  STRATA_ASSIGN_OR_RETURN(m.fingerprint, GetString(doc, "fingerprint", path));
  return m;
}

Status Checkpoint::CreateMetadata(const CheckpointMetadata& meta) {
  STRATA_RETURN_IF_ERROR(CreateDirectories(dir_ + "/offsets"));
  STRATA_RETURN_IF_ERROR(CreateDirectories(dir_ + "/commits"));
  STRATA_RETURN_IF_ERROR(CreateDirectories(dir_ + "/state"));
  JsonWriter w;
  w.BeginObject()
      .Key("formatVersion")
      .Int(kFormatVersion)
      .Key("id")
      .String(meta.query_id)
      .Key("name")
      .String(meta.name)
      .Key("source")
      .String(meta.source)
      .Key("fingerprint")
      .String(meta.fingerprint)
      .EndObject();
  return WriteFileIfAbsent(dir_ + "/metadata", w.str());
}

Result<int64_t> Checkpoint::LatestIn(const std::string& sub) const {
  int64_t latest = -1;
  std::error_code ec;
  fs::directory_iterator it(dir_ + "/" + sub, ec);
  if (ec) return latest;
  for (const auto& e : it) {
    std::string name = e.path().filename().string();
    int64_t id = 0;
    auto [p, err] = std::from_chars(name.data(), name.data() + name.size(), id);
    if (err != std::errc() || p != name.data() + name.size()) continue;  // temporaries
    latest = std::max(latest, id);
  }
  return latest;
}

Result<int64_t> Checkpoint::LatestPlanned() const {
  return LatestIn("offsets");
}
Result<int64_t> Checkpoint::LatestCommitted() const {
  return LatestIn("commits");
}

Result<PlannedBatch> Checkpoint::LoadPlanned(int64_t batch_id) const {
  std::string path = dir_ + "/offsets/" + std::to_string(batch_id);
  STRATA_ASSIGN_OR_RETURN(std::string text, ReadFile(path));
  simdjson::dom::parser parser;
  STRATA_ASSIGN_OR_RETURN(auto doc, ParseJson(parser, text, path));
  PlannedBatch b;
  STRATA_ASSIGN_OR_RETURN(b.batch_id, GetInt(doc, "batchId", path));
  STRATA_ASSIGN_OR_RETURN(b.batch_timestamp_ms, GetInt(doc, "batchTimestampMs", path));
  STRATA_ASSIGN_OR_RETURN(b.watermark_ms, GetInt(doc, "batchWatermarkMs", path));
  STRATA_ASSIGN_OR_RETURN(b.start, GetRaw(doc, "start", path));
  STRATA_ASSIGN_OR_RETURN(b.end, GetRaw(doc, "end", path));
  if (b.batch_id != batch_id) return Corruption("checkpoint file " + path + " names another batch");
  return b;
}

Result<CommittedBatch> Checkpoint::LoadCommitted(int64_t batch_id) const {
  std::string path = dir_ + "/commits/" + std::to_string(batch_id);
  STRATA_ASSIGN_OR_RETURN(std::string text, ReadFile(path));
  simdjson::dom::parser parser;
  STRATA_ASSIGN_OR_RETURN(auto doc, ParseJson(parser, text, path));
  CommittedBatch c;
  STRATA_ASSIGN_OR_RETURN(c.batch_id, GetInt(doc, "batchId", path));
  STRATA_ASSIGN_OR_RETURN(c.next_watermark_ms, GetInt(doc, "nextBatchWatermarkMs", path));
  return c;
}

Status Checkpoint::WritePlanned(const PlannedBatch& b) {
  JsonWriter w;
  w.BeginObject()
      .Key("batchId")
      .Int(b.batch_id)
      .Key("batchTimestampMs")
      .Int(b.batch_timestamp_ms)
      .Key("batchWatermarkMs")
      .Int(b.watermark_ms)
      .Key("start")
      .Raw(b.start)
      .Key("end")
      .Raw(b.end)
      .EndObject();
  return WriteFileAtomic(dir_ + "/offsets/" + std::to_string(b.batch_id), w.str());
}

Status Checkpoint::WriteCommitted(const CommittedBatch& c) {
  JsonWriter w;
  w.BeginObject()
      .Key("batchId")
      .Int(c.batch_id)
      .Key("nextBatchWatermarkMs")
      .Int(c.next_watermark_ms)
      .EndObject();
  return WriteFileAtomic(dir_ + "/commits/" + std::to_string(c.batch_id), w.str());
}

namespace {

// State file: "STB1" | u32 count | count x (i32 partition | u64 size | bytes) | u64 checksum.
constexpr char kStateMagic[4] = {'S', 'T', 'B', '1'};

template <typename T>
void Put(std::string& out, T v) {
  out.append(reinterpret_cast<const char*>(&v), sizeof v);
}

std::string EncodeState(const std::vector<StateBlob>& blobs) {
  size_t total = 16;
  for (const auto& b : blobs) total += 12 + b.bytes.size();
  std::string out;
  out.reserve(total);
  out.append(kStateMagic, 4);
  Put<uint32_t>(out, static_cast<uint32_t>(blobs.size()));
  for (const auto& b : blobs) {
    Put<int32_t>(out, b.partition);
    Put<uint64_t>(out, b.bytes.size());
    out.append(b.bytes);
  }
  Put<uint64_t>(out, HashBytes(out));
  return out;
}

Status DecodeState(const std::string& data, const std::string& path, std::vector<StateBlob>* out) {
  auto bad = [&](const char* why) { return Corruption("state file " + path + ": " + why); };
  if (data.size() < 16 || std::memcmp(data.data(), kStateMagic, 4) != 0) return bad("bad header");
  uint64_t stored;
  std::memcpy(&stored, data.data() + data.size() - 8, 8);
  if (HashBytes(std::string_view(data).substr(0, data.size() - 8)) != stored)
    return bad("checksum mismatch (torn or overwritten)");
  size_t pos = 4, end = data.size() - 8;
  uint32_t count;
  std::memcpy(&count, data.data() + pos, 4);
  pos += 4;
  for (uint32_t i = 0; i < count; ++i) {
    if (end - pos < 12) return bad("truncated");
    StateBlob b;
    uint64_t size;
    std::memcpy(&b.partition, data.data() + pos, 4);
    std::memcpy(&size, data.data() + pos + 4, 8);
    pos += 12;
    if (end - pos < size) return bad("truncated");
    b.bytes.assign(data.data() + pos, size);
    pos += size;
    out->push_back(std::move(b));
  }
  return Status::OK();
}

// Batch ids of state files of one kind, ascending.
std::vector<int64_t> StateFiles(const std::string& dir, const std::string& suffix) {
  std::vector<int64_t> ids;
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(dir, ec)) {
    std::string name = e.path().filename().string();
    if (name.size() <= suffix.size() ||
        name.compare(name.size() - suffix.size(), suffix.size(), suffix))
      continue;
    int64_t id = 0;
    auto [p, err] = std::from_chars(name.data(), name.data() + name.size() - suffix.size(), id);
    if (err == std::errc() && p == name.data() + name.size() - suffix.size()) ids.push_back(id);
  }
  std::sort(ids.begin(), ids.end());
  return ids;
}

}  // namespace

Status Checkpoint::WriteState(int64_t batch_id, bool snapshot,
                              const std::vector<StateBlob>& blobs) {
  std::string base = dir_ + "/state/" + std::to_string(batch_id);
  std::error_code ec;
  fs::remove(base + (snapshot ? ".delta" : ".snapshot"), ec);
  return WriteFileAtomic(base + (snapshot ? ".snapshot" : ".delta"), EncodeState(blobs));
}

Status Checkpoint::LoadState(int64_t batch_id, std::vector<StateBlob>* snapshot,
                             std::vector<std::vector<StateBlob>>* deltas,
                             int64_t* snapshot_batch) const {
  snapshot->clear();
  deltas->clear();
  *snapshot_batch = -1;
  const std::string dir = dir_ + "/state";
  for (int64_t id : StateFiles(dir, ".snapshot"))
    if (id <= batch_id) *snapshot_batch = id;
  if (*snapshot_batch >= 0) {
    std::string path = dir + "/" + std::to_string(*snapshot_batch) + ".snapshot";
    STRATA_ASSIGN_OR_RETURN(std::string data, ReadFile(path));
    STRATA_RETURN_IF_ERROR(DecodeState(data, path, snapshot));
  }
  int64_t expected = *snapshot_batch + 1;
  for (int64_t id : StateFiles(dir, ".delta")) {
    if (id <= *snapshot_batch || id > batch_id) continue;
    if (id != expected) {
      return Corruption("state of checkpoint " + dir_ + " has no file for batch " +
                        std::to_string(expected) + " (next is " + std::to_string(id) + ")");
    }
    std::string path = dir + "/" + std::to_string(id) + ".delta";
    STRATA_ASSIGN_OR_RETURN(std::string data, ReadFile(path));
    deltas->emplace_back();
    STRATA_RETURN_IF_ERROR(DecodeState(data, path, &deltas->back()));
    ++expected;
  }
  if (expected != batch_id + 1 && !(snapshot->empty() && deltas->empty() && *snapshot_batch < 0)) {
    return Corruption("state of checkpoint " + dir_ + " stops at batch " +
                      std::to_string(expected - 1) + ", but batch " + std::to_string(batch_id) +
                      " is committed");
  }
  if (*snapshot_batch < 0 && batch_id >= 0 && deltas->empty()) {
    return Corruption("checkpoint " + dir_ + " has committed batch " + std::to_string(batch_id) +
                      " but no state for it");
  }
  return Status::OK();
}

int64_t Checkpoint::StateBytes(int64_t batch_id) const {
  std::error_code ec;
  std::string base = dir_ + "/state/" + std::to_string(batch_id);
  for (const char* suffix : {".snapshot", ".delta"}) {
    auto size = fs::file_size(base + suffix, ec);
    if (!ec) return static_cast<int64_t>(size);
  }
  return 0;
}

Status Checkpoint::Purge(int64_t latest_committed) {
  // State older than the newest snapshot a restart would use is dead weight.
  int64_t snapshot = -1;
  for (int64_t id : StateFiles(dir_ + "/state", ".snapshot"))
    if (id <= latest_committed) snapshot = id;
  if (snapshot > 0) {
    std::error_code ec;
    for (const auto& e : fs::directory_iterator(dir_ + "/state", ec)) {
      std::string name = e.path().filename().string();
      int64_t id = 0;
      auto [p, err] = std::from_chars(name.data(), name.data() + name.size(), id);
      if (err == std::errc() && id < snapshot) fs::remove(e.path(), ec);
    }
  }
  int64_t keep_from = latest_committed - kRetainedBatches;
  if (keep_from <= 0) return Status::OK();
  for (const char* sub : {"offsets", "commits"}) {
    std::error_code ec;
    for (const auto& e : fs::directory_iterator(dir_ + "/" + sub, ec)) {
      std::string name = e.path().filename().string();
      int64_t id = 0;
      auto [p, err] = std::from_chars(name.data(), name.data() + name.size(), id);
      if (err != std::errc()) continue;
      if (id < keep_from) fs::remove(e.path(), ec);
    }
  }
  return Status::OK();
}

}  // namespace strata
