#include "plan/byte_size.h"

#include <cctype>
#include <cmath>
#include <map>

#include <fmt/format.h>

namespace weir::plan {

Result<std::uint64_t> ParseByteSize(const std::string& text) {
  static const std::map<std::string, double> kUnits = {
      {"", 1.0},           {"B", 1.0},
      {"K", 1024.0},       {"KI", 1024.0},       {"KIB", 1024.0},       {"KB", 1e3},
      {"M", 1048576.0},    {"MI", 1048576.0},    {"MIB", 1048576.0},    {"MB", 1e6},
      {"G", 1073741824.0}, {"GI", 1073741824.0}, {"GIB", 1073741824.0}, {"GB", 1e9},
      {"T", 1099511627776.0}, {"TI", 1099511627776.0}, {"TIB", 1099511627776.0}, {"TB", 1e12},
  };
  const auto invalid = [&text] {
    return Error::InvalidRequest(fmt::format(
        "invalid memory size \"{}\": write a number with an optional unit, e.g. 8G, 8GiB, 8192MiB or 8589934592",
        text));
  };

  std::size_t end = 0;
  while (end < text.size() && (std::isdigit(static_cast<unsigned char>(text[end])) || text[end] == '.')) ++end;
  if (end == 0) return invalid();
  double number = 0;
  try {
    number = std::stod(text.substr(0, end));
  } catch (const std::exception&) {
    return invalid();
  }
  std::string unit;
  for (std::size_t i = end; i < text.size(); ++i) {
    if (text[i] == ' ') continue;
    unit += static_cast<char>(std::toupper(static_cast<unsigned char>(text[i])));
  }
  const auto it = kUnits.find(unit);
  if (it == kUnits.end() || !std::isfinite(number)) return invalid();
  return static_cast<std::uint64_t>(std::llround(number * it->second));
}

}  // namespace weir::plan
