#include "auth/permissions.h"

namespace weir {

Role MinimumRole(Permission permission) {
  switch (permission) {
    case Permission::kPublic:
    case Permission::kModelApi:
    case Permission::kOwnKeys:
      return Role::kViewer;
    case Permission::kConversations:
      return Role::kUser;
    case Permission::kModelParams:
    case Permission::kManageUsers:
    case Permission::kAuditSearch:
      return Role::kAdmin;
    case Permission::kRegisterModels:
    case Permission::kGrantAdmin:
      return Role::kSuperadmin;
  }
  return Role::kSuperadmin;
}

std::string_view PermissionName(Permission permission) {
  switch (permission) {
    case Permission::kPublic: return "public";
    case Permission::kModelApi: return "model_api";
    case Permission::kOwnKeys: return "own_keys";
    case Permission::kConversations: return "conversations";
    case Permission::kModelParams: return "model_params";
    case Permission::kManageUsers: return "manage_users";
    case Permission::kAuditSearch: return "audit_search";
    case Permission::kRegisterModels: return "register_models";
    case Permission::kGrantAdmin: return "grant_admin";
  }
  return "unknown";
}

bool CanManageRole(Role actor, Role target) {
  if (actor == Role::kSuperadmin) return true;
  if (actor == Role::kAdmin) return !AtLeast(target, Role::kAdmin);
  return false;
}

}  // namespace weir
