#pragma once

#include <cstddef>
#include <string>

namespace strata::server {

// One file of the dashboard's build (web/dist), embedded into the binary at build time.
struct WebAsset {
  const char* path;  // "/index.html", "/assets/index-3f2a.js"
  const unsigned char* data;
  size_t size;
};

// The embedded files, generated from web/dist by embed_web_assets.cmake; empty when the
// dashboard was not built before the C++ build.
extern const WebAsset kEmbeddedWebAssets[];
extern const size_t kEmbeddedWebAssetCount;

// "text/html; charset=utf-8" etc. by the file name's extension; application/octet-stream
// otherwise.
const char* ContentTypeFor(const std::string& path);

}  // namespace strata::server
