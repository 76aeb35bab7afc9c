#pragma once

/// @file
/// Everything a service author uses, in one include: services and their handlers
/// (<eddy/service.hpp>, <eddy/context.hpp>), records, configuration, errors and error
/// policies, state, and logging. Generated code (<file>.eddy.h) includes what it needs
/// itself; test kits (<file>.eddy.testkit.h) and the mock cluster
/// (<eddy/testing/mock_cluster.hpp>, library eddy::testing) are for tests only.

#include <eddy/config.hpp>
#include <eddy/context.hpp>
#include <eddy/error.hpp>
#include <eddy/error_policy.hpp>
#include <eddy/fwd.hpp>
#include <eddy/log.hpp>
#include <eddy/record.hpp>
#include <eddy/service.hpp>
#include <eddy/state_store.hpp>
#include <eddy/state_view.hpp>
