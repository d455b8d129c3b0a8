#include "stream/checkpoint.h"

#include <simdjson.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cstdio>
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

// State file, version 2 (written blob by blob):
//   "STB2" | per blob: i32 partition | u64 size | u64 checksum of the bytes | bytes
//          | u32 count | u64 checksum of the blob headers and the count | "STBE"
// Version 1 (read only): "STB1" | u32 count | count x (i32 partition | u64 size | bytes)
//          | u64 checksum of everything before it.
constexpr char kStateMagic[4] = {'S', 'T', 'B', '1'};
constexpr char kStateMagic2[4] = {'S', 'T', 'B', '2'};
constexpr char kStateEnd[4] = {'S', 'T', 'B', 'E'};

template <typename T>
void Put(std::string& out, T v) {
  out.append(reinterpret_cast<const char*>(&v), sizeof v);
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

// Reads a version-2 state file blob by blob straight into each blob's string (a large snapshot
// is not read into one buffer first).
Status ReadStateFile2(const std::string& path, std::FILE* f, uint64_t size,
                      std::vector<StateBlob>* out) {
  auto bad = [&](const char* why) { return Corruption("state file " + path + ": " + why); };
  constexpr uint64_t kHead = 20, kTrailer = 16;
  if (size < 4 + kTrailer) return bad("truncated");
  uint64_t pos = 4;
  std::string index;
  uint32_t count = 0;
  while (size - pos > kTrailer) {
    if (size - pos - kTrailer < kHead) return bad("truncated");
    char head[kHead];
    if (std::fread(head, 1, kHead, f) != kHead) return bad("short read");
    pos += kHead;
    StateBlob b;
    uint64_t len, sum;
    std::memcpy(&b.partition, head, 4);
    std::memcpy(&len, head + 4, 8);
    std::memcpy(&sum, head + 12, 8);
    if (len > size - pos - kTrailer) return bad("truncated");
    b.bytes.resize(len);
    if (len > 0 && std::fread(b.bytes.data(), 1, len, f) != len) return bad("short read");
    pos += len;
    if (HashBytes(b.bytes) != sum) return bad("checksum mismatch (torn or overwritten)");
    index.append(head, kHead);
    ++count;
    out->push_back(std::move(b));
  }
  if (size - pos != kTrailer) return bad("truncated");
  char trailer[kTrailer];
  if (std::fread(trailer, 1, kTrailer, f) != kTrailer) return bad("short read");
  uint32_t stored_count;
  uint64_t stored_sum;
  std::memcpy(&stored_count, trailer, 4);
  std::memcpy(&stored_sum, trailer + 4, 8);
  Put<uint32_t>(index, count);
  if (stored_count != count || std::memcmp(trailer + 12, kStateEnd, 4) != 0 ||
      HashBytes(index) != stored_sum)
    return bad("bad trailer (torn or overwritten)");
  return Status::OK();
}

Status ReadStateFile(const std::string& path, std::vector<StateBlob>* out) {
  std::FILE* f = std::fopen(path.c_str(), "rb");
  if (!f) return IOError("cannot open state file " + path + ": " + std::strerror(errno));
  struct Closer {
    std::FILE* f;
    ~Closer() { std::fclose(f); }
  } closer{f};
  std::error_code ec;
  const uint64_t size = fs::file_size(path, ec);
  if (ec) return IOError("cannot stat state file " + path + ": " + ec.message());
  char magic[4];
  if (size < 4 || std::fread(magic, 1, 4, f) != 4)
    return Corruption("state file " + path + ": bad header");
  if (std::memcmp(magic, kStateMagic2, 4) == 0) return ReadStateFile2(path, f, size, out);
  STRATA_ASSIGN_OR_RETURN(std::string data, ReadFile(path));
  return DecodeState(data, path, out);
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

Result<std::unique_ptr<Checkpoint::StateWriter>> Checkpoint::BeginState(int64_t batch_id,
                                                                        bool snapshot) {
  const std::string base = dir_ + "/state/" + std::to_string(batch_id);
  STRATA_ASSIGN_OR_RETURN(auto file,
                          AtomicFileWriter::Open(base + (snapshot ? ".snapshot" : ".delta")));
  STRATA_RETURN_IF_ERROR(file->Append(std::string_view(kStateMagic2, 4)));
  return std::unique_ptr<StateWriter>(
      new StateWriter(std::move(file), base + (snapshot ? ".delta" : ".snapshot")));
}

Status Checkpoint::StateWriter::Add(StateBlob blob) {
  std::string head;
  Put<int32_t>(head, blob.partition);
  Put<uint64_t>(head, blob.bytes.size());
  Put<uint64_t>(head, HashBytes(blob.bytes));
  STRATA_RETURN_IF_ERROR(file_->Append(head));
  STRATA_RETURN_IF_ERROR(file_->Append(blob.bytes));
  index_ += head;
  ++count_;
  blob_bytes_ += static_cast<int64_t>(blob.bytes.size());
  return Status::OK();
}

Status Checkpoint::StateWriter::Finish() {
  Put<uint32_t>(index_, count_);
  std::string trailer;
  Put<uint32_t>(trailer, count_);
  Put<uint64_t>(trailer, HashBytes(index_));
  trailer.append(kStateEnd, 4);
  STRATA_RETURN_IF_ERROR(file_->Append(trailer));
  std::error_code ec;
  fs::remove(other_kind_path_, ec);
  return file_->Commit();
}

Status Checkpoint::WriteState(int64_t batch_id, bool snapshot, std::vector<StateBlob> blobs) {
  STRATA_ASSIGN_OR_RETURN(auto w, BeginState(batch_id, snapshot));
  for (auto& b : blobs) STRATA_RETURN_IF_ERROR(w->Add(std::move(b)));
  return w->Finish();
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
    STRATA_RETURN_IF_ERROR(ReadStateFile(path, snapshot));
  }
  int64_t expected = *snapshot_batch + 1;
  for (int64_t id : StateFiles(dir, ".delta")) {
    if (id <= *snapshot_batch || id > batch_id) continue;
    if (id != expected) {
      return Corruption("state of checkpoint " + dir_ + " has no file for batch " +
                        std::to_string(expected) + " (next is " + std::to_string(id) + ")");
    }
    std::string path = dir + "/" + std::to_string(id) + ".delta";
    deltas->emplace_back();
    STRATA_RETURN_IF_ERROR(ReadStateFile(path, &deltas->back()));
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
