// Roles, ordered by privilege: each role has every permission of the roles
// below it.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace weir {

enum class Role { kViewer = 0, kUser = 1, kAdmin = 2, kSuperadmin = 3 };

std::string_view RoleName(Role role);
// Parses "viewer", "user", "admin" or "superadmin"; nullopt for anything else.
std::optional<Role> ParseRole(std::string_view name);

inline bool AtLeast(Role role, Role minimum) {
  return static_cast<int>(role) >= static_cast<int>(minimum);
}

}  // namespace weir
