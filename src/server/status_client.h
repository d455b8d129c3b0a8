#pragma once

#include <string>

#include "core/status.h"

namespace strata::server {

// Fetches GET <url>/api/queries from a running strata and renders each query's state and last
// progress as text lines (for `strata status`). `auth_token` is sent as a bearer token when
// not empty. Unavailable when nothing answers at `url`; InvalidArgument for a URL that is not
// http://host:port, or when the server answers 401; Corruption for a body that is
// not the expected JSON.
Result<std::string> FetchStatusText(const std::string& url, const std::string& auth_token);

}  // namespace strata::server
