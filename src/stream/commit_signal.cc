#include "stream/commit_signal.h"

#include <filesystem>
#include <system_error>

namespace strata {

CommitSignals& CommitSignals::Global() {
  static CommitSignals* signals = new CommitSignals();  // never destroyed: used at exit
  return *signals;
}

int64_t CommitSignals::Subscribe(const std::string& key, Callback callback) {
  std::lock_guard<std::mutex> lock(mu_);
  int64_t id = next_id_++;
  subscriptions_.emplace(id, Subscription{key, std::move(callback)});
  return id;
}

void CommitSignals::Unsubscribe(int64_t id) {
  std::lock_guard<std::mutex> lock(mu_);
  subscriptions_.erase(id);
}

void CommitSignals::Notify(const std::string& key) {
  std::lock_guard<std::mutex> lock(mu_);
  for (auto& [id, s] : subscriptions_)
    if (s.key == key) s.callback();
}

std::string TableSignalKey(const std::string& path) {
  std::error_code ec;
  std::filesystem::path p = std::filesystem::absolute(path, ec);
  if (ec) p = path;
  std::string key = p.lexically_normal().string();
  while (key.size() > 1 && key.back() == '/') key.pop_back();
  return key;
}

}  // namespace strata
