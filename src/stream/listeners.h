#pragma once

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "stream/progress.h"

namespace strata {

// Forwards every query event to each of its listeners, in the order given. The list is fixed at
// construction, so calls need no lock; thread-safety is that of the listeners (each must accept
// calls from several query threads). Null entries are skipped.
class CompositeListener : public QueryListener {
 public:
  explicit CompositeListener(std::vector<std::shared_ptr<QueryListener>> listeners)
      : listeners_(std::move(listeners)) {}

  void OnQueryStarted(const std::string& id, const std::string& run_id,
                      const std::string& name) override {
    for (const auto& l : listeners_)
      if (l) l->OnQueryStarted(id, run_id, name);
  }
  void OnQueryProgress(const QueryProgress& progress) override {
    for (const auto& l : listeners_)
      if (l) l->OnQueryProgress(progress);
  }
  void OnQueryIdle(const std::string& id, const std::string& name, int64_t now_ms) override {
    for (const auto& l : listeners_)
      if (l) l->OnQueryIdle(id, name, now_ms);
  }
  void OnBatchRetry(const std::string& id, const std::string& name, int64_t batch_id, int attempt,
                    const Status& error) override {
    for (const auto& l : listeners_)
      if (l) l->OnBatchRetry(id, name, batch_id, attempt, error);
  }
  void OnQueryTerminated(const std::string& id, const std::string& name,
                         const Status& status) override {
    for (const auto& l : listeners_)
      if (l) l->OnQueryTerminated(id, name, status);
  }

 private:
  const std::vector<std::shared_ptr<QueryListener>> listeners_;
};

}  // namespace strata
