#include "pipeline/partitioned_query.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <charconv>
#include <filesystem>

#include "stream/checkpoint.h"

namespace strata {

std::string PartitionCheckpointDir(const std::string& checkpoint_dir, int32_t partition) {
  return checkpoint_dir + "/partitions/" + std::to_string(partition);
}

Result<int64_t> CommittedPartitionWatermark(const std::string& checkpoint_dir, int32_t partition) {
  std::error_code ec;
  const std::string dir = PartitionCheckpointDir(checkpoint_dir, partition);
  if (!std::filesystem::exists(dir + "/commits", ec)) return int64_t{0};
  Checkpoint checkpoint(dir);
  STRATA_ASSIGN_OR_RETURN(int64_t committed, checkpoint.LatestCommitted());
  if (committed < 0) return int64_t{0};
  STRATA_ASSIGN_OR_RETURN(PlannedBatch planned, checkpoint.LoadPlanned(committed));
  return planned.watermark_ms;
}

std::vector<int32_t> PartitionDirs(const std::string& checkpoint_dir) {
  std::vector<int32_t> out;
  std::error_code ec;
  for (const auto& entry :
       std::filesystem::directory_iterator(checkpoint_dir + "/partitions", ec)) {
    if (!entry.is_directory(ec)) continue;
    const std::string name = entry.path().filename().string();
    int32_t p = -1;
    auto [end, err] = std::from_chars(name.data(), name.data() + name.size(), p);
    if (err == std::errc() && end == name.data() + name.size() && p >= 0) out.push_back(p);
  }
  std::sort(out.begin(), out.end());
  return out;
}

PartitionedQuery::PartitionedQuery(PartitionedQueryOptions options)
    : options_(std::move(options)) {}

PartitionedQuery::~PartitionedQuery() {
  Stop();
}

void PartitionedQuery::Start() {
  if (thread_.joinable()) return;
  stop_.store(false);
  thread_ = std::thread([this] { Supervise(); });
}

void PartitionedQuery::Stop() {
  {
    std::lock_guard<std::mutex> lock(wake_mu_);
    stop_.store(true);
  }
  wake_.notify_all();
  if (thread_.joinable()) thread_.join();
  // Ask every sub-query to stop at once, then wait for each (they finish their batches in
  // parallel).
  std::map<int32_t, std::unique_ptr<StreamingQuery>> running;
  {
    std::lock_guard<std::mutex> lock(mu_);
    running.swap(running_);
  }
  std::vector<std::thread> stoppers;
  for (auto& [p, q] : running) stoppers.emplace_back([q = q.get()] { q->Stop(); });
  for (auto& t : stoppers) t.join();
}

void PartitionedQuery::Supervise() {
  while (!stop_.load()) {
    Reconcile(options_.board->Get().partitions);
    std::unique_lock<std::mutex> lock(wake_mu_);
    wake_.wait_for(lock, std::chrono::milliseconds(options_.poll_ms), [&] { return stop_.load(); });
  }
}

void PartitionedQuery::Reconcile(const std::vector<int32_t>& owned) {
  std::vector<std::unique_ptr<StreamingQuery>> revoked;
  std::vector<int32_t> added;
  {
    std::lock_guard<std::mutex> lock(mu_);
    for (auto it = running_.begin(); it != running_.end();) {
      if (std::binary_search(owned.begin(), owned.end(), it->first)) {
        ++it;
        continue;
      }
      revoked.push_back(std::move(it->second));
      it = running_.erase(it);
    }
    for (auto it = build_errors_.begin(); it != build_errors_.end();) {
      it = std::binary_search(owned.begin(), owned.end(), it->first) ? std::next(it)
                                                                     : build_errors_.erase(it);
    }
    for (int32_t p : owned)
      if (!running_.count(p) && !build_errors_.count(p)) added.push_back(p);
  }
  // A revoked partition's sub-query finishes (or abandons, when it is standing by) its batch
  // and releases the partition's checkpoint for the new owner.
  for (auto& q : revoked) {
    spdlog::info("{}: partition revoked, stopping {}", options_.name, q->name());
    q->Stop();
  }
  for (int32_t p : added) {
    const std::string name = options_.name + "[p" + std::to_string(p) + "]";
    auto q = options_.make_query(p, name, PartitionCheckpointDir(options_.checkpoint_dir, p));
    std::lock_guard<std::mutex> lock(mu_);
    if (!q.ok()) {
      spdlog::error("{}: cannot start: {}", name, q.status().ToString());
      build_errors_[p] = q.status().ToString();
      continue;
    }
    spdlog::info("{}: partition assigned, starting", name);
    (*q)->Start();
    running_.emplace(p, std::move(*q));
  }
}

std::vector<QueryStatusView> PartitionedQuery::Views() const {
  std::lock_guard<std::mutex> lock(mu_);
  std::vector<QueryStatusView> out;
  for (const auto& [p, q] : running_) out.push_back(q->View());
  for (const auto& [p, message] : build_errors_) {
    QueryStatusView v;
    v.name = options_.name + "[p" + std::to_string(p) + "]";
    v.state = QueryState::kFailed;
    v.message = message;
    out.push_back(std::move(v));
  }
  return out;
}

}  // namespace strata

namespace strata {

SchemaPtr WithSourcePartition(const SchemaPtr& schema) {
  std::vector<Field> fields = schema->fields();
  fields.push_back({kSourcePartitionColumn, TypeId::kInt32, true});
  return std::make_shared<const Schema>(std::move(fields));
}

namespace {

class PartitionTagProcessor : public BatchProcessor {
 public:
  PartitionTagProcessor(std::unique_ptr<BatchProcessor> inner, int32_t partition)
      : inner_(std::move(inner)), partition_(partition) {}

  Status BeginBatch(const BatchContext& ctx) override { return inner_->BeginBatch(ctx); }
  Status Process(RecordBatch&& input, std::vector<std::vector<RecordBatch>>& outputs) override {
    const size_t before = outputs.empty() ? 0 : outputs[0].size();
    STRATA_RETURN_IF_ERROR(inner_->Process(std::move(input), outputs));
    Tag(outputs, before);
    return Status::OK();
  }
  Status EndBatch(std::vector<std::vector<RecordBatch>>& outputs, ProcessorMetrics& m) override {
    const size_t before = outputs.empty() ? 0 : outputs[0].size();
    STRATA_RETURN_IF_ERROR(inner_->EndBatch(outputs, m));
    Tag(outputs, before);
    return Status::OK();
  }
  int64_t NextWatermark(int64_t now_ms) override { return inner_->NextWatermark(now_ms); }
  bool WantsNoDataBatch(int64_t watermark_ms) const override {
    return inner_->WantsNoDataBatch(watermark_ms);
  }
  bool stateful() const override { return inner_->stateful(); }
  Status SaveState(bool full, StateSink& sink) override { return inner_->SaveState(full, sink); }
  Status LoadState(const std::vector<StateBlob>& snapshot,
                   const std::vector<std::vector<StateBlob>>& deltas) override {
    return inner_->LoadState(snapshot, deltas);
  }
  std::string Fingerprint() const override { return inner_->Fingerprint() + "/partials"; }

 private:
  void Tag(std::vector<std::vector<RecordBatch>>& outputs, size_t from) {
    if (outputs.empty()) return;
    for (size_t i = from; i < outputs[0].size(); ++i) {
      RecordBatch& batch = outputs[0][i];
      const size_t rows = batch.num_rows();
      RecordBatch tagged(Tagged(batch.schema()));
      for (size_t c = 0; c < batch.num_columns(); ++c)
        tagged.column(c) = std::move(batch.column(c));
      Column& col = tagged.column(batch.num_columns());
      col.Reserve(rows);
      for (size_t r = 0; r < rows; ++r) col.AppendInt32(partition_);
      batch = std::move(tagged);
    }
  }
  // The tagged schema of each schema seen (table rows, retractions), made once.
  const SchemaPtr& Tagged(const SchemaPtr& schema) {
    for (const auto& [from, to] : schemas_)
      if (from == schema || *from == *schema) return to;
    schemas_.emplace_back(schema, WithSourcePartition(schema));
    return schemas_.back().second;
  }

  std::unique_ptr<BatchProcessor> inner_;
  int32_t partition_;
  std::vector<std::pair<SchemaPtr, SchemaPtr>> schemas_;
};

}  // namespace

std::unique_ptr<BatchProcessor> TagWithPartition(std::unique_ptr<BatchProcessor> inner,
                                                 int32_t partition) {
  return std::make_unique<PartitionTagProcessor>(std::move(inner), partition);
}

}  // namespace strata
