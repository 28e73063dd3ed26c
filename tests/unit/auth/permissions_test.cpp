#include "auth/permissions.h"

#include <gtest/gtest.h>

namespace weir {
namespace {

constexpr Role kRoles[] = {Role::kViewer, Role::kUser, Role::kAdmin, Role::kSuperadmin};

TEST(PermissionsTest, MinimumRoleOfEveryPermission) {
  EXPECT_EQ(MinimumRole(Permission::kPublic), Role::kViewer);
  EXPECT_EQ(MinimumRole(Permission::kModelApi), Role::kViewer);
  EXPECT_EQ(MinimumRole(Permission::kOwnKeys), Role::kViewer);
  EXPECT_EQ(MinimumRole(Permission::kConversations), Role::kUser);
  EXPECT_EQ(MinimumRole(Permission::kModelParams), Role::kAdmin);
  EXPECT_EQ(MinimumRole(Permission::kManageUsers), Role::kAdmin);
  EXPECT_EQ(MinimumRole(Permission::kAuditSearch), Role::kAdmin);
  EXPECT_EQ(MinimumRole(Permission::kRegisterModels), Role::kSuperadmin);
  EXPECT_EQ(MinimumRole(Permission::kGrantAdmin), Role::kSuperadmin);
}

TEST(PermissionsTest, HigherRolesInheritLowerPermissions) {
  const Permission permissions[] = {Permission::kPublic,        Permission::kModelApi,     Permission::kOwnKeys,
                                    Permission::kConversations, Permission::kModelParams,  Permission::kManageUsers,
                                    Permission::kAuditSearch,   Permission::kRegisterModels, Permission::kGrantAdmin};
  for (Permission permission : permissions) {
    bool allowed_below = false;
    for (Role role : kRoles) {
      bool allowed = Allows(role, permission);
      EXPECT_EQ(allowed, AtLeast(role, MinimumRole(permission))) << PermissionName(permission);
      if (allowed_below) {
        EXPECT_TRUE(allowed) << PermissionName(permission) << " lost at " << RoleName(role);
      }
      allowed_below = allowed;
    }
    EXPECT_TRUE(Allows(Role::kSuperadmin, permission)) << PermissionName(permission);
  }
  EXPECT_FALSE(Allows(Role::kViewer, Permission::kConversations));
  EXPECT_FALSE(Allows(Role::kUser, Permission::kAuditSearch));
  EXPECT_FALSE(Allows(Role::kAdmin, Permission::kGrantAdmin));
}

TEST(PermissionsTest, PermissionNames) {
  EXPECT_EQ(PermissionName(Permission::kPublic), "public");
  EXPECT_EQ(PermissionName(Permission::kModelApi), "model_api");
  EXPECT_EQ(PermissionName(Permission::kOwnKeys), "own_keys");
  EXPECT_EQ(PermissionName(Permission::kConversations), "conversations");
  EXPECT_EQ(PermissionName(Permission::kModelParams), "model_params");
  EXPECT_EQ(PermissionName(Permission::kManageUsers), "manage_users");
  EXPECT_EQ(PermissionName(Permission::kAuditSearch), "audit_search");
  EXPECT_EQ(PermissionName(Permission::kRegisterModels), "register_models");
  EXPECT_EQ(PermissionName(Permission::kGrantAdmin), "grant_admin");
}

TEST(PermissionsTest, CanManageRoleMatrix) {
  // Rows: actor; columns: target viewer, user, admin, superadmin.
  const bool expected[4][4] = {
      {false, false, false, false},  // viewer
      {false, false, false, false},  // user
      {true, true, false, false},    // admin
      {true, true, true, true},      // superadmin
  };
  for (int actor = 0; actor < 4; ++actor) {
    for (int target = 0; target < 4; ++target) {
      EXPECT_EQ(CanManageRole(kRoles[actor], kRoles[target]), expected[actor][target])
          << RoleName(kRoles[actor]) << " -> " << RoleName(kRoles[target]);
    }
  }
}

}  // namespace
}  // namespace weir
