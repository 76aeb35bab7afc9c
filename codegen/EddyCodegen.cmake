# CMake functions that run protoc-gen-eddy. Included by codegen/CMakeLists.txt, so they
# are available everywhere below the top-level project after add_subdirectory(codegen).
#
#   eddy_add_service(NAME orders PROTOS shop/orders.proto SOURCES main.cpp handlers.cpp)
#
# builds the executable `orders` from the .proto files and the hand-written sources. PROTOS
# are paths relative to PROTO_ROOT (default: the calling directory), the import root: the
# same paths name them in `import` statements and in generated includes
# (`#include "shop/orders.eddy.h"`). IMPORT_DIRS adds further import roots.
#
#   eddy_target_protos(TARGET <target> PROTOS <files> [PROTO_ROOT <dir>] [IMPORT_DIRS <dirs>])
#
# adds the generated code of PROTOS to an existing target (a library, a test), so tests can
# compile a schema with their own main.
#
# Each .proto gets its own hand-written add_custom_command (CMake 3.25's protobuf_generate
# does not re-run when the plugin changes): it DEPENDS on the plugin target, protoc and
# options.proto, and on the files the .proto imports through a depfile protoc writes, so a
# change regenerates exactly the outputs it affects. Outputs go to
# <binary dir>/eddy_gen/<target>/: pb/<file>.pb.{h,cc} and eddy/<file>.eddy.{h,cc}.

# eddy_target_protos(TARGET <target> PROTOS <files...> [PROTO_ROOT <dir>]
#                    [IMPORT_DIRS <dirs...>])
function(eddy_target_protos)
  cmake_parse_arguments(arg "" "TARGET;PROTO_ROOT" "PROTOS;IMPORT_DIRS" ${ARGN})
  if(NOT arg_TARGET OR NOT arg_PROTOS)
    message(FATAL_ERROR "eddy_target_protos: TARGET and PROTOS are required")
  endif()
  if(NOT arg_PROTO_ROOT)
    set(arg_PROTO_ROOT ${CMAKE_CURRENT_SOURCE_DIR})
  endif()
  get_filename_component(root ${arg_PROTO_ROOT} ABSOLUTE)
  set(out_dir ${CMAKE_CURRENT_BINARY_DIR}/eddy_gen/${arg_TARGET})
  set(import_args -I ${root})
  foreach(dir IN LISTS arg_IMPORT_DIRS)
    get_filename_component(dir ${dir} ABSOLUTE)
    list(APPEND import_args -I ${dir})
  endforeach()
  list(APPEND import_args -I ${EDDY_OPTIONS_PROTO_DIR})

  set(pb_sources)
  set(eddy_sources)
  foreach(proto IN LISTS arg_PROTOS)
    get_filename_component(abs ${proto} ABSOLUTE BASE_DIR ${root})
    file(RELATIVE_PATH rel ${root} ${abs})
    if(rel MATCHES "^\\.\\./")
      message(FATAL_ERROR "eddy_target_protos: ${proto} is not under PROTO_ROOT ${root}")
    endif()
    string(REGEX REPLACE "\\.proto$" "" stem ${rel})
    get_filename_component(stem_dir ${stem} DIRECTORY)
    set(outputs ${out_dir}/pb/${stem}.pb.h ${out_dir}/pb/${stem}.pb.cc
                ${out_dir}/eddy/${stem}.eddy.h ${out_dir}/eddy/${stem}.eddy.cc)
    add_custom_command(
      OUTPUT ${outputs}
      COMMAND ${CMAKE_COMMAND} -E make_directory ${out_dir}/pb ${out_dir}/eddy
              ${out_dir}/deps/${stem_dir}
      COMMAND protobuf::protoc
              --plugin=protoc-gen-eddy=$<TARGET_FILE:protoc-gen-eddy>
              --cpp_out=${out_dir}/pb --eddy_out=${out_dir}/eddy
              --dependency_out=${out_dir}/deps/${stem}.d
              ${import_args} ${abs}
      DEPENDS ${abs} ${EDDY_OPTIONS_PROTO_DIR}/eddy/options.proto protoc-gen-eddy
              protobuf::protoc
      DEPFILE ${out_dir}/deps/${stem}.d
      WORKING_DIRECTORY ${root}
      COMMENT "Generating Eddy service code from ${rel}"
      VERBATIM)
    list(APPEND pb_sources ${out_dir}/pb/${stem}.pb.cc)
    list(APPEND eddy_sources ${out_dir}/eddy/${stem}.eddy.cc)
  endforeach()

  # Protobuf's own output (pb/, a system include directory) is compiled without Eddy's
  # warning flags; Eddy's (eddy/) with them, so generated code must compile warning-free.
  set(pb_target ${arg_TARGET}_eddy_pb)
  add_library(${pb_target} OBJECT ${pb_sources})
  get_target_property(excluded ${arg_TARGET} EXCLUDE_FROM_ALL)
  if(excluded)
    set_target_properties(${pb_target} PROPERTIES EXCLUDE_FROM_ALL ON)
  endif()
  target_include_directories(${pb_target} SYSTEM PUBLIC ${out_dir}/pb)
  target_link_libraries(${pb_target} PUBLIC eddy_options_proto protobuf::libprotobuf)
  # PUBLIC, so that a library built this way hands the generated headers to its users.
  target_sources(${arg_TARGET} PRIVATE ${eddy_sources})
  target_include_directories(${arg_TARGET} PUBLIC ${out_dir}/eddy)
  target_link_libraries(${arg_TARGET} PUBLIC ${pb_target} eddy::codegen PRIVATE eddy_warnings)
endfunction()

# eddy_add_service(NAME <target> PROTOS <files...> SOURCES <files...> [PROTO_ROOT <dir>]
#                  [IMPORT_DIRS <dirs...>])
function(eddy_add_service)
  cmake_parse_arguments(arg "" "NAME;PROTO_ROOT" "PROTOS;SOURCES;IMPORT_DIRS" ${ARGN})
  if(NOT arg_NAME OR NOT arg_PROTOS OR NOT arg_SOURCES)
    message(FATAL_ERROR "eddy_add_service: NAME, PROTOS and SOURCES are required")
  endif()
  add_executable(${arg_NAME} ${arg_SOURCES})
  eddy_target_protos(TARGET ${arg_NAME} PROTOS ${arg_PROTOS} PROTO_ROOT ${arg_PROTO_ROOT}
                     IMPORT_DIRS ${arg_IMPORT_DIRS})
endfunction()
