#pragma once

/// @file
/// Forward declarations of Eddy's public types, for headers that only pass them by
/// reference or pointer. Include the type's own header (or <eddy/eddy.hpp>) to use it.

#include <cstdint>

namespace eddy {

// <eddy/error.hpp>
enum class errc : std::uint8_t;
struct error;
template <class T>
class expected;

// <eddy/record.hpp>
struct record;

// <eddy/config.hpp>
enum class processing_guarantee;
class config;

// <eddy/error_policy.hpp>
enum class error_response : std::uint8_t;
enum class error_moment : std::uint8_t;
class decode_error;
struct processing_error;
struct production_error;

// <eddy/state_view.hpp> and <eddy/state_store.hpp>
class state_view;
class state_store;

// <eddy/context.hpp>
class context;

// <eddy/service.hpp>
enum class service_state;
struct service_stats;
struct journal_options;
class service;

} // namespace eddy
