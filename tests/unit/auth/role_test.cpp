#include "auth/role.h"

#include <gtest/gtest.h>

namespace weir {
namespace {

constexpr Role kRoles[] = {Role::kViewer, Role::kUser, Role::kAdmin, Role::kSuperadmin};

TEST(RoleTest, NamesRoundTrip) {
  for (Role role : kRoles) EXPECT_EQ(ParseRole(RoleName(role)), role);
  EXPECT_FALSE(ParseRole("root").has_value());
  EXPECT_FALSE(ParseRole("Admin").has_value());
  EXPECT_FALSE(ParseRole("").has_value());
}

TEST(RoleTest, AtLeastFollowsPrivilegeOrder) {
  EXPECT_TRUE(AtLeast(Role::kAdmin, Role::kUser));
  EXPECT_TRUE(AtLeast(Role::kUser, Role::kUser));
  EXPECT_FALSE(AtLeast(Role::kUser, Role::kAdmin));
  EXPECT_FALSE(AtLeast(Role::kViewer, Role::kUser));
  EXPECT_TRUE(AtLeast(Role::kSuperadmin, Role::kAdmin));
}

}  // namespace
}  // namespace weir
