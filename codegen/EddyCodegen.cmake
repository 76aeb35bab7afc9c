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
#   eddy_add_service(... SCHEMA_SNAPSHOT shop.desc)
#
# also checks, on every build that changes a schema, that the PROTOS do not break the events
# published in the committed descriptor snapshot (eddy-schema-check: no field number reused
# with another type, no field removed without `reserved`, no event moved to another topic or
# key); a breaking change fails the build with the fix. `cmake --build <dir> --target
# <NAME>-update-schema-snapshot` rewrites the snapshot from the current PROTOS. The check
# alone is eddy_check_schema(NAME <check> SNAPSHOT <file> PROTOS ... [PROTO_ROOT]
# [IMPORT_DIRS]), which defines the target <check>-schema-check and the update target.
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

# eddy_check_schema(NAME <check> SNAPSHOT <file> PROTOS <files...> [PROTO_ROOT <dir>]
#                   [IMPORT_DIRS <dirs...>])
function(eddy_check_schema)
  cmake_parse_arguments(arg "" "NAME;SNAPSHOT;PROTO_ROOT" "PROTOS;IMPORT_DIRS" ${ARGN})
  if(NOT arg_NAME OR NOT arg_SNAPSHOT OR NOT arg_PROTOS)
    message(FATAL_ERROR "eddy_check_schema: NAME, SNAPSHOT and PROTOS are required")
  endif()
  if(NOT arg_PROTO_ROOT)
    set(arg_PROTO_ROOT ${CMAKE_CURRENT_SOURCE_DIR})
  endif()
  get_filename_component(root ${arg_PROTO_ROOT} ABSOLUTE)
  get_filename_component(snapshot ${arg_SNAPSHOT} ABSOLUTE)
  set(import_args -I ${root})
  foreach(dir IN LISTS arg_IMPORT_DIRS)
    get_filename_component(dir ${dir} ABSOLUTE)
    list(APPEND import_args -I ${dir})
  endforeach()
  list(APPEND import_args -I ${EDDY_OPTIONS_PROTO_DIR})
  set(abs_protos)
  foreach(proto IN LISTS arg_PROTOS)
    get_filename_component(abs ${proto} ABSOLUTE BASE_DIR ${root})
    list(APPEND abs_protos ${abs})
  endforeach()
  # Descriptor file names are the PROTOS as given, relative to the import root, so the
  # snapshot holds no machine-specific paths.
  set(protoc_args --include_imports ${import_args} ${arg_PROTOS})

  add_custom_target(${arg_NAME}-update-schema-snapshot
    COMMAND protobuf::protoc --descriptor_set_out=${snapshot} ${protoc_args}
    DEPENDS ${abs_protos}
    WORKING_DIRECTORY ${root}
    COMMENT "Writing the schema snapshot ${snapshot}"
    VERBATIM)
  # Without the snapshot the check fails (until the update target has written it) and does
  # not depend on it; configure again once it exists.
  set(snapshot_dep ${snapshot})
  if(NOT EXISTS ${snapshot})
    message(WARNING "eddy_check_schema: no snapshot ${snapshot}; build the target "
                    "${arg_NAME}-update-schema-snapshot to create it")
    set(snapshot_dep)
  endif()
  set(out_dir ${CMAKE_CURRENT_BINARY_DIR}/eddy_gen/${arg_NAME})
  add_custom_command(
    OUTPUT ${out_dir}/schema-check.stamp
    COMMAND ${CMAKE_COMMAND} -E make_directory ${out_dir}
    COMMAND protobuf::protoc --descriptor_set_out=${out_dir}/schema.desc ${protoc_args}
    COMMAND eddy-schema-check ${snapshot} ${out_dir}/schema.desc
    COMMAND ${CMAKE_COMMAND} -E touch ${out_dir}/schema-check.stamp
    DEPENDS ${abs_protos} ${snapshot_dep} ${EDDY_OPTIONS_PROTO_DIR}/eddy/options.proto
            eddy-schema-check protobuf::protoc
    WORKING_DIRECTORY ${root}
    COMMENT "Checking the schemas of ${arg_NAME} against ${arg_SNAPSHOT}"
    VERBATIM)
  add_custom_target(${arg_NAME}-schema-check DEPENDS ${out_dir}/schema-check.stamp)
endfunction()

# eddy_add_service(NAME <target> PROTOS <files...> SOURCES <files...> [PROTO_ROOT <dir>]
#                  [IMPORT_DIRS <dirs...>] [SCHEMA_SNAPSHOT <file>])
function(eddy_add_service)
  cmake_parse_arguments(arg "" "NAME;PROTO_ROOT;SCHEMA_SNAPSHOT" "PROTOS;SOURCES;IMPORT_DIRS"
                        ${ARGN})
  if(NOT arg_NAME OR NOT arg_PROTOS OR NOT arg_SOURCES)
    message(FATAL_ERROR "eddy_add_service: NAME, PROTOS and SOURCES are required")
  endif()
  add_executable(${arg_NAME} ${arg_SOURCES})
  eddy_target_protos(TARGET ${arg_NAME} PROTOS ${arg_PROTOS} PROTO_ROOT ${arg_PROTO_ROOT}
                     IMPORT_DIRS ${arg_IMPORT_DIRS})
  if(arg_SCHEMA_SNAPSHOT)
    eddy_check_schema(NAME ${arg_NAME} SNAPSHOT ${arg_SCHEMA_SNAPSHOT} PROTOS ${arg_PROTOS}
                      PROTO_ROOT ${arg_PROTO_ROOT} IMPORT_DIRS ${arg_IMPORT_DIRS})
    if(TARGET ${arg_NAME}-schema-check)
      add_dependencies(${arg_NAME} ${arg_NAME}-schema-check)
    endif()
  endif()
endfunction()
