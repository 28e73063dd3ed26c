// JSON and table forms of a Plan. `weir plan --json` writes the JSON and
// `weir deploy --plan` reads it back, so both directions live here.
#pragma once

#include <string>

#include "common/result.h"
#include "plan/planner.h"

namespace weir::plan {

// Serializes the plan as an indented JSON document ending in a newline.
std::string PlanToJson(const Plan& plan);

// Parses a document written by PlanToJson; `origin` names it in errors.
Result<Plan> ParsePlanJson(const std::string& text, const std::string& origin);

// Formats the plan as the table of `weir plan`, with the arithmetic.
std::string PlanToTable(const Plan& plan);

}  // namespace weir::plan
