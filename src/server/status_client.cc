#include "server/status_client.h"

#include <httplib.h>
#include <simdjson.h>

#include <cstdio>

namespace strata::server {

namespace {

std::string Str(simdjson::dom::element e, const char* key) {
  std::string_view v;
  if (e[key].get_string().get(v)) return "";
  return std::string(v);
}

double Num(simdjson::dom::element e, const char* key) {
  double d = 0;
  auto v = e[key];
  if (v.error()) return 0;
  if (v.is_int64()) return static_cast<double>(v.get_int64().value_unsafe());
  if (v.get_double().get(d)) return 0;
  return d;
}

}  // namespace

Result<std::string> FetchStatusText(const std::string& url, const std::string& auth_token) {
  if (url.rfind("http://", 0) != 0) {
    return InvalidArgument("status URL '" + url + "' must start with http://");
  }
  httplib::Client client(url);
  client.set_connection_timeout(5, 0);
  client.set_read_timeout(10, 0);
  httplib::Headers headers;
  if (!auth_token.empty()) headers.emplace("Authorization", "Bearer " + auth_token);
  auto res = client.Get("/api/queries?recent=1", headers);
  if (!res) {
    return Unavailable("no strata server answers at " + url + " (" +
                       httplib::to_string(res.error()) + ")");
  }
  if (res->status == 401) {
    return InvalidArgument("the server at " + url + " needs an auth token (--auth-token)");
  }
  if (res->status != 200) {
    return Internal("GET " + url + "/api/queries answered HTTP " + std::to_string(res->status));
  }
  simdjson::dom::parser parser;
  simdjson::dom::array queries;
  if (parser.parse(res->body).get_array().get(queries)) {
    return Corruption("GET " + url + "/api/queries: the body is not a JSON array");
  }
  std::string out;
  char line[512];
  std::snprintf(line, sizeof(line), "%-28s %-12s %8s %-24s %10s %12s %12s %10s\n", "query",
                "status", "batch", "watermark", "input", "in rows/s", "proc rows/s", "batch ms");
  out += line;
  for (simdjson::dom::element q : queries) {
    std::string watermark = Str(q, "watermark");
    double input = 0, in_rate = 0, proc_rate = 0, batch_ms = 0;
    simdjson::dom::array recent;
    simdjson::dom::element last;
    bool has_last = false;
    if (!q["recentProgress"].get_array().get(recent) && recent.size() > 0 &&
        !recent.at(recent.size() - 1).get(last)) {
      has_last = true;
      input = Num(last, "numInputRows");
      in_rate = Num(last, "inputRowsPerSecond");
      proc_rate = Num(last, "processedRowsPerSecond");
      simdjson::dom::element d;
      if (!last["durationMs"].get(d)) batch_ms = Num(d, "triggerExecution");
    }
    std::snprintf(line, sizeof(line), "%-28s %-12s %8lld %-24s %10.0f %12.1f %12.1f %10.0f\n",
                  Str(q, "name").c_str(), Str(q, "status").c_str(),
                  static_cast<long long>(Num(q, "lastBatchId")),
                  watermark.empty() ? "-" : watermark.c_str(), input, in_rate, proc_rate, batch_ms);
    out += line;
    // A group member (docs/scale-out.md): the partitions it owned in its last batch, with lag.
    simdjson::dom::array sources;
    simdjson::dom::element source;
    if (has_last && !last["sources"].get_array().get(sources) && sources.size() > 0 &&
        !sources.at(0).get(source)) {
      std::string description = Str(source, "description");
      auto group = description.find(" group ");
      simdjson::dom::array parts;
      if (group != std::string::npos && !source["metrics"]["partitions"].get_array().get(parts)) {
        std::string owned;
        for (simdjson::dom::element part : parts) {
          if (!owned.empty()) owned += ", ";
          owned += Str(part, "partition") + " (lag " +
                   std::to_string(static_cast<long long>(Num(part, "lag"))) + ")";
        }
        out += "  " + description.substr(group + 1) +
               " owns: " + (owned.empty() ? std::string("nothing") : owned) + "\n";
      }
    }
    std::string message = Str(q, "message");
    if (!message.empty()) out += "  error: " + message + "\n";
  }
  return out;
}

}  // namespace strata::server
