# What `cmake --install` puts where, so that a project outside Eddy's tree writes
# find_package(eddy REQUIRED) and builds services and their tests:
#
#   lib/                     libeddy_framework.a, libeddy_actors.a, libeddy_options_proto.a,
#                            libeddy_testing.a (the mock cluster, for tests)
#   include/eddy/            the public headers (framework/include/eddy/), eddy/options.proto
#                            and its generated options.pb.h
#   bin/                     protoc-gen-eddy, eddy-schema-check
#   lib/cmake/eddy/          eddyConfig.cmake, its version file, the exported targets
#                            (eddy::framework, eddy::actors, eddy::codegen, eddy::testing,
#                            eddy::protoc-gen-eddy, ...), EddyCodegen.cmake and FindCAF.cmake
#
# Internal headers (framework/internal/, actors/src/) and the test support under tests/ are
# not installed.
include(GNUInstallDirs)
include(CMakePackageConfigHelpers)

set(EDDY_INSTALL_CMAKEDIR ${CMAKE_INSTALL_LIBDIR}/cmake/eddy)

install(TARGETS eddy_framework eddy_actors eddy_options_proto eddy_codegen_runtime
                eddy_testing protoc-gen-eddy eddy-schema-check
        EXPORT eddyTargets
        ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR}
        LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR}
        RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})
install(DIRECTORY ${PROJECT_SOURCE_DIR}/framework/include/eddy
        DESTINATION ${CMAKE_INSTALL_INCLUDEDIR} FILES_MATCHING PATTERN "*.hpp")
install(FILES ${EDDY_OPTIONS_PROTO_DIR}/eddy/options.proto
              ${PROJECT_BINARY_DIR}/codegen/proto/eddy/options.pb.h
        DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}/eddy)
install(EXPORT eddyTargets NAMESPACE eddy:: DESTINATION ${EDDY_INSTALL_CMAKEDIR})

configure_package_config_file(${PROJECT_SOURCE_DIR}/cmake/eddyConfig.cmake.in
  ${PROJECT_BINARY_DIR}/eddyConfig.cmake
  INSTALL_DESTINATION ${EDDY_INSTALL_CMAKEDIR}
  PATH_VARS CMAKE_INSTALL_INCLUDEDIR)
write_basic_package_version_file(${PROJECT_BINARY_DIR}/eddyConfigVersion.cmake
  VERSION ${PROJECT_VERSION} COMPATIBILITY SameMinorVersion)
install(FILES ${PROJECT_BINARY_DIR}/eddyConfig.cmake
              ${PROJECT_BINARY_DIR}/eddyConfigVersion.cmake
              ${PROJECT_SOURCE_DIR}/codegen/EddyCodegen.cmake
              ${PROJECT_SOURCE_DIR}/cmake/FindCAF.cmake
        DESTINATION ${EDDY_INSTALL_CMAKEDIR})
