#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <string>

namespace strata {

// Process-wide doorbells, one per table: a query that commits to a table rings the table's
// key, and a query that reads the table as its source, waiting for its next trigger, is woken
// and starts a batch at once (StreamingQuery keeps a minimum spacing between such batches). A
// downstream layer in the same process thus follows its upstream's commits instead of polling
// on its own interval; readers in other processes still poll. Thread-safe.
class CommitSignals {
 public:
  using Callback = std::function<void()>;

  static CommitSignals& Global();

  // Calls `callback` on every Notify(key) until Unsubscribe(returned id). The callback runs on
  // the notifying thread, under this object's lock: it must be quick and must not subscribe,
  // unsubscribe or notify.
  int64_t Subscribe(const std::string& key, Callback callback);
  // Stops the calls; when it returns, no call of this subscription is running.
  void Unsubscribe(int64_t id);
  // Rings `key`: runs the callbacks subscribed to it. Nothing when none are.
  void Notify(const std::string& key);

 private:
  struct Subscription {
    std::string key;
    Callback callback;
  };
  std::mutex mu_;
  std::map<int64_t, Subscription> subscriptions_;  // guarded by mu_
  int64_t next_id_ = 0;                            // guarded by mu_
};

// Unsubscribes when it goes out of scope (an exception included).
class ScopedSubscription {
 public:
  ScopedSubscription(CommitSignals* signals, int64_t id) : signals_(signals), id_(id) {}
  ~ScopedSubscription() { signals_->Unsubscribe(id_); }
  ScopedSubscription(const ScopedSubscription&) = delete;
  ScopedSubscription& operator=(const ScopedSubscription&) = delete;

 private:
  CommitSignals* signals_;
  int64_t id_;
};

// The signal key of the table at `path`: its absolute, lexically normal path, so that a writer
// and a reader that name the same directory differently ("./t", "/data/t/") share a key.
std::string TableSignalKey(const std::string& path);

}  // namespace strata
