// The permission table: the one place that decides which role may do what.
//
// Every route names one Permission; the router checks it before the handler
// runs. docs/rbac.md documents the same table for operators.
#pragma once

#include <string_view>

#include "auth/role.h"

namespace weir {

enum class Permission {
  kPublic,           // No credentials needed (health, readiness, metrics).
  kModelApi,         // Chat, completions, embeddings, model list.
  kOwnKeys,          // Create, list and revoke one's own API keys; read one's own profile.
  kConversations,    // Server-kept conversations.
  kModelParams,      // Change model parameters and upstream weights.
  kManageUsers,      // Create and change users, teams and keys of roles below admin.
  kAuditSearch,      // Search audit records and usage reports.
  kRegisterModels,   // Register models and upstreams.
  kGrantAdmin,       // Create admins, change anyone's role up to superadmin.
};

// Returns the lowest role that has `permission`.
Role MinimumRole(Permission permission);

inline bool Allows(Role role, Permission permission) { return AtLeast(role, MinimumRole(permission)); }

std::string_view PermissionName(Permission permission);

// Returns true when `actor` may create, change or issue keys for an account
// holding `target`: admins manage roles below admin, superadmins manage all.
bool CanManageRole(Role actor, Role target);

}  // namespace weir
