#include "stream/checkpoint.h"

#include <simdjson.h>

#include <charconv>
#include <filesystem>

#include "core/file_util.h"
#include "core/json_writer.h"

namespace strata {

namespace fs = std::filesystem;

namespace {

Result<simdjson::dom::element> ParseJson(simdjson::dom::parser& parser, const std::string& text,
                                         const std::string& path) {
  simdjson::dom::element doc;
  if (parser.parse(text).get(doc)) return Corruption("checkpoint file " + path + " is not valid JSON");
  return doc;
}

Result<std::string> GetString(simdjson::dom::element doc, const char* key, const std::string& path) {
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
      .Key("formatVersion").Int(kFormatVersion)
      .Key("id").String(meta.query_id)
      .Key("name").String(meta.name)
      .Key("source").String(meta.source)
      .Key("fingerprint").String(meta.fingerprint)
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

Result<int64_t> Checkpoint::LatestPlanned() const { return LatestIn("offsets"); }
Result<int64_t> Checkpoint::LatestCommitted() const { return LatestIn("commits"); }

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
      .Key("batchId").Int(b.batch_id)
      .Key("batchTimestampMs").Int(b.batch_timestamp_ms)
      .Key("batchWatermarkMs").Int(b.watermark_ms)
      .Key("start").Raw(b.start)
      .Key("end").Raw(b.end)
      .EndObject();
  return WriteFileAtomic(dir_ + "/offsets/" + std::to_string(b.batch_id), w.str());
}

Status Checkpoint::WriteCommitted(const CommittedBatch& c) {
  JsonWriter w;
  w.BeginObject()
      .Key("batchId").Int(c.batch_id)
      .Key("nextBatchWatermarkMs").Int(c.next_watermark_ms)
      .EndObject();
  return WriteFileAtomic(dir_ + "/commits/" + std::to_string(c.batch_id), w.str());
}

Status Checkpoint::WriteState(int64_t batch_id, const std::string& bytes) {
  return WriteFileAtomic(dir_ + "/state/" + std::to_string(batch_id) + ".bin", bytes);
}

Result<std::string> Checkpoint::LoadState(int64_t batch_id) const {
  return ReadFile(dir_ + "/state/" + std::to_string(batch_id) + ".bin");
}

Status Checkpoint::Purge(int64_t latest_committed) {
  int64_t keep_from = latest_committed - kRetainedBatches;
  if (keep_from <= 0) return Status::OK();
  for (const char* sub : {"offsets", "commits", "state"}) {
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
