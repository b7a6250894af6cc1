# Install rules: headers, the exported target (litebox::litebox), a package config for
# find_package(litebox), litebox.pc for pkg-config users, and the licence.
# Proven by tests/consumers (a find_package consumer and a pkg-config consumer of a temp prefix).
include(GNUInstallDirs)
include(CMakePackageConfigHelpers)

set(LITEBOX_INSTALL_CMAKEDIR "${CMAKE_INSTALL_DATADIR}/litebox/cmake"
    CACHE STRING "Where litebox-config.cmake is installed (relative to the prefix)")
set(LITEBOX_INSTALL_PKGCONFIGDIR "${CMAKE_INSTALL_DATADIR}/pkgconfig"
    CACHE STRING "Where litebox.pc is installed (relative to the prefix)")

install(TARGETS litebox EXPORT litebox-targets FILE_SET HEADERS DESTINATION "${CMAKE_INSTALL_INCLUDEDIR}")
install(EXPORT litebox-targets NAMESPACE litebox:: DESTINATION "${LITEBOX_INSTALL_CMAKEDIR}")

configure_package_config_file(
    "${CMAKE_CURRENT_LIST_DIR}/litebox-config.cmake.in"
    "${PROJECT_BINARY_DIR}/litebox-config.cmake"
    INSTALL_DESTINATION "${LITEBOX_INSTALL_CMAKEDIR}")
write_basic_package_version_file(
    "${PROJECT_BINARY_DIR}/litebox-config-version.cmake"
    COMPATIBILITY SameMinorVersion ARCH_INDEPENDENT)
install(FILES "${PROJECT_BINARY_DIR}/litebox-config.cmake" "${PROJECT_BINARY_DIR}/litebox-config-version.cmake"
        DESTINATION "${LITEBOX_INSTALL_CMAKEDIR}")

# litebox.pc is relocatable: its prefix is computed from the .pc file's own location, so
# `cmake --install . --prefix <anywhere>` (or DESTDIR) yields a working file.
if(IS_ABSOLUTE "${LITEBOX_INSTALL_PKGCONFIGDIR}")
  set(LITEBOX_PC_PREFIX "${CMAKE_INSTALL_PREFIX}")
else()
  file(RELATIVE_PATH LITEBOX_PC_UP "/prefix/${LITEBOX_INSTALL_PKGCONFIGDIR}" "/prefix")
  string(REGEX REPLACE "/$" "" LITEBOX_PC_UP "${LITEBOX_PC_UP}")
  set(LITEBOX_PC_PREFIX "\${pcfiledir}/${LITEBOX_PC_UP}")
endif()
if(IS_ABSOLUTE "${CMAKE_INSTALL_INCLUDEDIR}")
  set(LITEBOX_PC_INCLUDEDIR "${CMAKE_INSTALL_INCLUDEDIR}")
else()
  set(LITEBOX_PC_INCLUDEDIR "\${prefix}/${CMAKE_INSTALL_INCLUDEDIR}")
endif()
configure_file("${CMAKE_CURRENT_LIST_DIR}/litebox.pc.in" "${PROJECT_BINARY_DIR}/litebox.pc" @ONLY)
install(FILES "${PROJECT_BINARY_DIR}/litebox.pc" DESTINATION "${LITEBOX_INSTALL_PKGCONFIGDIR}")

install(FILES "${PROJECT_SOURCE_DIR}/LICENSE" DESTINATION "${CMAKE_INSTALL_DATADIR}/doc/litebox")
