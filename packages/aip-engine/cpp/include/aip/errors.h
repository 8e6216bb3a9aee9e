// The error types of the C++ core; the bindings turn each into a class of aip_engine._errors.
#pragma once

#include <stdexcept>

namespace aip {

struct ConfigError : std::invalid_argument {
  using std::invalid_argument::invalid_argument;
};
struct ShapeError : std::invalid_argument {
  using std::invalid_argument::invalid_argument;
};
struct ActionError : std::invalid_argument {
  using std::invalid_argument::invalid_argument;
};
// A second call while a step, reset, observe or state write of the same batch is running.
struct BusyError : std::runtime_error {
  using std::runtime_error::runtime_error;
};
// The operating system refused what a batch needs: memory for its arrays, or its threads.
struct ResourceError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

}  // namespace aip
