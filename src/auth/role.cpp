#include "auth/role.h"

namespace weir {

std::string_view RoleName(Role role) {
  switch (role) {
    case Role::kViewer: return "viewer";
    case Role::kUser: return "user";
    case Role::kAdmin: return "admin";
    case Role::kSuperadmin: return "superadmin";
  }
  return "viewer";
}

std::optional<Role> ParseRole(std::string_view name) {
  if (name == "viewer") return Role::kViewer;
  if (name == "user") return Role::kUser;
  if (name == "admin") return Role::kAdmin;
  if (name == "superadmin") return Role::kSuperadmin;
  return std::nullopt;
}

}  // namespace weir
