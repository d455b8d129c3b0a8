#pragma once

#include <string>

namespace strata {

// A random (version 4) UUID in its 36-character text form. Thread-safe.
std::string NewUuid();

}  // namespace strata
