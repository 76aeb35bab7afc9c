# CMake functions that run protoc-gen-eddy, for Eddy's own tree (included by
# codegen/CMakeLists.txt) and for projects that find an installed Eddy with
# find_package(eddy) (installed beside eddyConfig.cmake).
#
#   eddy_add_schemas(NAME shop_schemas PROTOS shop/orders.proto shop/payments.proto)
#
# compiles a schema set once: protoc's and protoc-gen-eddy's output of the PROTOS becomes
# the static library `shop_schemas`, which services and tests link (its generated headers
# come with it). PROTOS are paths relative to PROTO_ROOT (default: the calling directory),
# the import root: the same paths name them in `import` statements and in generated
# includes (`#include "shop/orders.eddy.h"`, and `"shop/orders.eddy.testkit.h"` for the
# test kit, which only tests include). IMPORT_DIRS adds further import roots; SCHEMAS names
# schema libraries whose protos these import (their roots and generated code come along).
#
#   eddy_add_service(NAME orders PROTOS shop/orders.proto SOURCES main.cpp handlers.cpp)
#   eddy_add_service(NAME orders SCHEMAS shop_schemas SOURCES main.cpp handlers.cpp)
#
# builds the executable `orders` from the hand-written sources and either its own PROTOS
# (compiled into the library orders_schemas) or schema libraries made by eddy_add_schemas.
#
#   eddy_target_protos(TARGET <target> PROTOS <files> [PROTO_ROOT <dir>] [IMPORT_DIRS <dirs>])
#
# gives an existing target (a library, a test) the generated code of PROTOS, as the library
# <target>_schemas; prefer one eddy_add_schemas library linked by every target that needs it.
#
#   eddy_add_service(... SCHEMA_SNAPSHOT shop.desc)      (or eddy_add_schemas(...))
#
# also checks, on every build that changes a schema, that the PROTOS do not break the events
# published in the committed descriptor snapshot (eddy-schema-check: no field number reused
# with another type, no field removed without `reserved`, no event moved to another topic or
# key); a breaking change fails the build with the fix. The first build writes a missing
# snapshot (commit it); `cmake --build <dir> --target <NAME>-update-schema-snapshot`
# rewrites it from the current PROTOS after an intended change. The check alone is
# eddy_check_schema(NAME <check> SNAPSHOT <file> PROTOS ... [PROTO_ROOT] [IMPORT_DIRS]),
# which defines the target <check>-schema-check and the update target.
#
# Each .proto gets its own hand-written add_custom_command (CMake 3.25's protobuf_generate
# does not re-run when the plugin changes): it DEPENDS on the plugin, protoc and
# options.proto, and on the files the .proto imports through a depfile protoc writes, so a
# change regenerates exactly the outputs it affects. Outputs go to
# <binary dir>/eddy_gen/<library>/: pb/<file>.pb.{h,cc} and
# eddy/<file>.eddy.{h,cc,testkit.h}.
#
# What the functions need, set by codegen/CMakeLists.txt or by eddyConfig.cmake:
# EDDY_OPTIONS_PROTO_DIR (the import root of eddy/options.proto), the executables
# eddy::protoc-gen-eddy and eddy::schema-check, and the library eddy::codegen. Inside
# Eddy's tree, generated code is compiled with Eddy's warning flags (eddy_warnings).

# The -I arguments for PROTO_ROOT `root` and IMPORT_DIRS, into `out_var`.
function(_eddy_import_args out_var root)
  if(NOT EDDY_OPTIONS_PROTO_DIR)
    message(FATAL_ERROR "EddyCodegen: EDDY_OPTIONS_PROTO_DIR is not set; "
                        "find_package(eddy) sets it")
  endif()
  set(args -I ${root})
  foreach(dir IN LISTS ARGN)
    get_filename_component(dir ${dir} ABSOLUTE)
    list(APPEND args -I ${dir})
  endforeach()
  list(APPEND args -I ${EDDY_OPTIONS_PROTO_DIR})
  set(${out_var} ${args} PARENT_SCOPE)
endfunction()

# eddy_add_schemas(NAME <library> PROTOS <files...> [PROTO_ROOT <dir>]
#                  [IMPORT_DIRS <dirs...>] [SCHEMAS <libraries...>] [SCHEMA_SNAPSHOT <file>])
function(eddy_add_schemas)
  cmake_parse_arguments(arg "" "NAME;PROTO_ROOT;SCHEMA_SNAPSHOT" "PROTOS;IMPORT_DIRS;SCHEMAS"
                        ${ARGN})
  if(NOT arg_NAME OR NOT arg_PROTOS)
    message(FATAL_ERROR "eddy_add_schemas: NAME and PROTOS are required")
  endif()
  if(arg_UNPARSED_ARGUMENTS)
    message(FATAL_ERROR "eddy_add_schemas: unknown arguments ${arg_UNPARSED_ARGUMENTS}")
  endif()
  if(NOT arg_PROTO_ROOT)
    set(arg_PROTO_ROOT ${CMAKE_CURRENT_SOURCE_DIR})
  endif()
  get_filename_component(root ${arg_PROTO_ROOT} ABSOLUTE)
  set(out_dir ${CMAKE_CURRENT_BINARY_DIR}/eddy_gen/${arg_NAME})
  set(import_dirs ${arg_IMPORT_DIRS})
  foreach(lib IN LISTS arg_SCHEMAS)
    get_target_property(roots ${lib} EDDY_PROTO_ROOTS)
    if(NOT roots)
      message(FATAL_ERROR "eddy_add_schemas: ${lib} is not a library of eddy_add_schemas")
    endif()
    list(APPEND import_dirs ${roots})
  endforeach()
  _eddy_import_args(import_args ${root} ${import_dirs})

  set(pb_sources)
  set(eddy_sources)
  foreach(proto IN LISTS arg_PROTOS)
    get_filename_component(abs ${proto} ABSOLUTE BASE_DIR ${root})
    file(RELATIVE_PATH rel ${root} ${abs})
    if(rel MATCHES "^\\.\\./")
      message(FATAL_ERROR "eddy_add_schemas: ${proto} is not under PROTO_ROOT ${root}")
    endif()
    if(NOT EXISTS ${abs})
      message(FATAL_ERROR "eddy_add_schemas: ${abs} does not exist")
    endif()
    string(REGEX REPLACE "\\.proto$" "" stem ${rel})
    get_filename_component(stem_dir ${stem} DIRECTORY)
    set(outputs ${out_dir}/pb/${stem}.pb.h ${out_dir}/pb/${stem}.pb.cc
                ${out_dir}/eddy/${stem}.eddy.h ${out_dir}/eddy/${stem}.eddy.cc
                ${out_dir}/eddy/${stem}.eddy.testkit.h)
    add_custom_command(
      OUTPUT ${outputs}
      COMMAND ${CMAKE_COMMAND} -E make_directory ${out_dir}/pb ${out_dir}/eddy
              ${out_dir}/deps/${stem_dir}
      COMMAND protobuf::protoc
              --plugin=protoc-gen-eddy=$<TARGET_FILE:eddy::protoc-gen-eddy>
              --cpp_out=${out_dir}/pb --eddy_out=${out_dir}/eddy
              --dependency_out=${out_dir}/deps/${stem}.d
              ${import_args} ${abs}
      DEPENDS ${abs} ${EDDY_OPTIONS_PROTO_DIR}/eddy/options.proto eddy::protoc-gen-eddy
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
  set(pb_target ${arg_NAME}_pb)
  add_library(${pb_target} OBJECT ${pb_sources})
  target_include_directories(${pb_target} SYSTEM PUBLIC ${out_dir}/pb)
  target_link_libraries(${pb_target} PUBLIC eddy::codegen ${arg_SCHEMAS})
  add_library(${arg_NAME} STATIC ${eddy_sources} $<TARGET_OBJECTS:${pb_target}>)
  target_include_directories(${arg_NAME} SYSTEM PUBLIC ${out_dir}/pb)
  target_include_directories(${arg_NAME} PUBLIC ${out_dir}/eddy)
  target_link_libraries(${arg_NAME} PUBLIC eddy::codegen ${arg_SCHEMAS})
  # The import roots a library of schemas importing these needs (SCHEMAS ${arg_NAME}).
  set(roots ${root})
  foreach(dir IN LISTS import_dirs)
    get_filename_component(dir ${dir} ABSOLUTE)
    list(APPEND roots ${dir})
  endforeach()
  set_target_properties(${arg_NAME} PROPERTIES EDDY_PROTO_ROOTS "${roots}")
  if(TARGET eddy_warnings)
    target_link_libraries(${arg_NAME} PRIVATE eddy_warnings)
  endif()
  if(arg_SCHEMA_SNAPSHOT)
    eddy_check_schema(NAME ${arg_NAME} SNAPSHOT ${arg_SCHEMA_SNAPSHOT} PROTOS ${arg_PROTOS}
                      PROTO_ROOT ${root} IMPORT_DIRS ${arg_IMPORT_DIRS})
    add_dependencies(${arg_NAME} ${arg_NAME}-schema-check)
  endif()
endfunction()

# eddy_target_protos(TARGET <target> PROTOS <files...> [PROTO_ROOT <dir>]
#                    [IMPORT_DIRS <dirs...>])
function(eddy_target_protos)
  cmake_parse_arguments(arg "" "TARGET;PROTO_ROOT" "PROTOS;IMPORT_DIRS" ${ARGN})
  if(NOT arg_TARGET OR NOT arg_PROTOS)
    message(FATAL_ERROR "eddy_target_protos: TARGET and PROTOS are required")
  endif()
  if(NOT TARGET ${arg_TARGET})
    message(FATAL_ERROR "eddy_target_protos: ${arg_TARGET} is not a target")
  endif()
  set(root_args)
  if(arg_PROTO_ROOT)
    set(root_args PROTO_ROOT ${arg_PROTO_ROOT})
  endif()
  eddy_add_schemas(NAME ${arg_TARGET}_schemas PROTOS ${arg_PROTOS} ${root_args}
                   IMPORT_DIRS ${arg_IMPORT_DIRS})
  # A target left out of the default build leaves its generated code out too.
  get_target_property(excluded ${arg_TARGET} EXCLUDE_FROM_ALL)
  if(excluded)
    set_target_properties(${arg_TARGET}_schemas ${arg_TARGET}_schemas_pb PROPERTIES
                          EXCLUDE_FROM_ALL ON)
  endif()
  target_link_libraries(${arg_TARGET} PUBLIC ${arg_TARGET}_schemas)
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
  _eddy_import_args(import_args ${root} ${arg_IMPORT_DIRS})
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
  # A missing snapshot is written by the first build's check (--write-missing); the check
  # depends on the snapshot file only once it exists at configure time.
  set(snapshot_dep ${snapshot})
  if(NOT EXISTS ${snapshot})
    set(snapshot_dep)
  endif()
  set(out_dir ${CMAKE_CURRENT_BINARY_DIR}/eddy_gen/${arg_NAME})
  add_custom_command(
    OUTPUT ${out_dir}/schema-check.stamp
    COMMAND ${CMAKE_COMMAND} -E make_directory ${out_dir}
    COMMAND protobuf::protoc --descriptor_set_out=${out_dir}/schema.desc ${protoc_args}
    COMMAND eddy::schema-check --write-missing ${snapshot} ${out_dir}/schema.desc
    COMMAND ${CMAKE_COMMAND} -E touch ${out_dir}/schema-check.stamp
    DEPENDS ${abs_protos} ${snapshot_dep} ${EDDY_OPTIONS_PROTO_DIR}/eddy/options.proto
            eddy::schema-check protobuf::protoc
    WORKING_DIRECTORY ${root}
    COMMENT "Checking the schemas of ${arg_NAME} against ${arg_SNAPSHOT}"
    VERBATIM)
  add_custom_target(${arg_NAME}-schema-check DEPENDS ${out_dir}/schema-check.stamp)
endfunction()

# eddy_add_service(NAME <target> (PROTOS <files...> | SCHEMAS <libraries...>)
#                  SOURCES <files...> [PROTO_ROOT <dir>] [IMPORT_DIRS <dirs...>]
#                  [SCHEMA_SNAPSHOT <file>])
function(eddy_add_service)
  cmake_parse_arguments(arg "" "NAME;PROTO_ROOT;SCHEMA_SNAPSHOT"
                        "PROTOS;SCHEMAS;SOURCES;IMPORT_DIRS" ${ARGN})
  if(NOT arg_NAME OR NOT arg_SOURCES OR (NOT arg_PROTOS AND NOT arg_SCHEMAS))
    message(FATAL_ERROR "eddy_add_service: NAME, SOURCES and PROTOS or SCHEMAS are required")
  endif()
  if(arg_UNPARSED_ARGUMENTS)
    message(FATAL_ERROR "eddy_add_service: unknown arguments ${arg_UNPARSED_ARGUMENTS}")
  endif()
  if(arg_SCHEMA_SNAPSHOT AND NOT arg_PROTOS)
    message(FATAL_ERROR "eddy_add_service: SCHEMA_SNAPSHOT checks PROTOS; give the "
                        "snapshot of a schema library to eddy_add_schemas")
  endif()
  add_executable(${arg_NAME} ${arg_SOURCES})
  if(TARGET eddy_warnings)
    target_link_libraries(${arg_NAME} PRIVATE eddy_warnings)
  endif()
  target_link_libraries(${arg_NAME} PRIVATE ${arg_SCHEMAS})
  if(arg_PROTOS)
    set(root_args)
    if(arg_PROTO_ROOT)
      set(root_args PROTO_ROOT ${arg_PROTO_ROOT})
    endif()
    eddy_add_schemas(NAME ${arg_NAME}_schemas PROTOS ${arg_PROTOS} ${root_args}
                     IMPORT_DIRS ${arg_IMPORT_DIRS})
    target_link_libraries(${arg_NAME} PRIVATE ${arg_NAME}_schemas)
    if(arg_SCHEMA_SNAPSHOT)
      eddy_check_schema(NAME ${arg_NAME} SNAPSHOT ${arg_SCHEMA_SNAPSHOT} PROTOS ${arg_PROTOS}
                        ${root_args} IMPORT_DIRS ${arg_IMPORT_DIRS})
      add_dependencies(${arg_NAME}_schemas ${arg_NAME}-schema-check)
    endif()
  endif()
endfunction()
