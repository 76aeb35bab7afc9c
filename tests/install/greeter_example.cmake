# Installs this build of Eddy into a fresh prefix, then configures, builds and tests the
# greeter example (examples/greeter) against it with find_package(eddy), as a project outside
# Eddy's tree would. Run by ctest as
#   cmake -DEDDY_SOURCE_DIR=<repo> -DEDDY_BUILD_DIR=<build> -DWORK_DIR=<dir>
#         -DEDDY_CXX_COMPILER=<the compiler Eddy was built with> -P greeter_example.cmake
cmake_minimum_required(VERSION 3.25)
foreach(var EDDY_SOURCE_DIR EDDY_BUILD_DIR WORK_DIR EDDY_CXX_COMPILER)
  if(NOT ${var})
    message(FATAL_ERROR "greeter_example.cmake: -D${var}=... is required")
  endif()
endforeach()

# Runs the command in ARGN and stops with its output if it fails.
function(run step)
  message(STATUS "greeter example: ${step}")
  execute_process(COMMAND ${ARGN} RESULT_VARIABLE result OUTPUT_VARIABLE out
                  ERROR_VARIABLE out)
  if(NOT result EQUAL 0)
    message(FATAL_ERROR "greeter example: ${step} failed (${result}):\n${out}")
  endif()
  set(output "${out}" PARENT_SCOPE)
endfunction()

set(prefix ${WORK_DIR}/prefix)
set(build ${WORK_DIR}/build)
file(REMOVE_RECURSE ${WORK_DIR})
run("cmake --install into ${prefix}" ${CMAKE_COMMAND} --install ${EDDY_BUILD_DIR} --prefix ${prefix})

# The installed surface: public headers only, no internals, no test support of Eddy's own.
file(GLOB_RECURSE installed RELATIVE ${prefix} ${prefix}/*)
foreach(required include/eddy/eddy.hpp include/eddy/fwd.hpp include/eddy/service.hpp
                 include/eddy/codegen/testkit.hpp include/eddy/options.proto
                 include/eddy/options.pb.h bin/protoc-gen-eddy bin/eddy-schema-check
                 lib/cmake/eddy/eddyConfig.cmake lib/cmake/eddy/EddyCodegen.cmake)
  if(NOT required IN_LIST installed)
    message(FATAL_ERROR "greeter example: the install lacks ${required}")
  endif()
endforeach()
foreach(path IN LISTS installed)
  if(path MATCHES "internal|kafka_fixture|child_process|/src/")
    message(FATAL_ERROR "greeter example: the install holds the internal file ${path}")
  endif()
endforeach()

run("configure with find_package(eddy)" ${CMAKE_COMMAND} -S ${EDDY_SOURCE_DIR}/examples/greeter
    -B ${build} -DCMAKE_PREFIX_PATH=${prefix} -DCMAKE_BUILD_TYPE=RelWithDebInfo
    -DCMAKE_CXX_COMPILER=${EDDY_CXX_COMPILER})
run("build" ${CMAKE_COMMAND} --build ${build} -j2)
run("test" ${CMAKE_CTEST_COMMAND} --test-dir ${build} --output-on-failure)
run("greeter --help" ${build}/greeter --help)
if(NOT output MATCHES "usage: .*greeter")
  message(FATAL_ERROR "greeter example: greeter --help printed no usage:\n${output}")
endif()
message(STATUS "greeter example: built and tested against the installed Eddy")
