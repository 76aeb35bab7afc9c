// Must not compile: Eddy's internal headers are not reachable through its public libraries
// (tests/CMakeLists.txt, internal_header_unreachable_does_not_compile).
#include <eddy/internal/kafka.hpp>
