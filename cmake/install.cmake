# Install rules: headers, the exported target (litebox::litebox), a package config for
# find_package(litebox), and litebox.pc for pkg-config users.
include(GNUInstallDirs)
include(CMakePackageConfigHelpers)

install(TARGETS litebox EXPORT litebox-targets FILE_SET HEADERS DESTINATION "${CMAKE_INSTALL_INCLUDEDIR}")
install(EXPORT litebox-targets NAMESPACE litebox:: DESTINATION "${CMAKE_INSTALL_DATADIR}/litebox/cmake")

configure_package_config_file(
    "${CMAKE_CURRENT_LIST_DIR}/litebox-config.cmake.in"
    "${CMAKE_CURRENT_BINARY_DIR}/litebox-config.cmake"
    INSTALL_DESTINATION "${CMAKE_INSTALL_DATADIR}/litebox/cmake")
write_basic_package_version_file(
    "${CMAKE_CURRENT_BINARY_DIR}/litebox-config-version.cmake"
    COMPATIBILITY SameMinorVersion ARCH_INDEPENDENT)
install(FILES "${CMAKE_CURRENT_BINARY_DIR}/litebox-config.cmake" "${CMAKE_CURRENT_BINARY_DIR}/litebox-config-version.cmake"
        DESTINATION "${CMAKE_INSTALL_DATADIR}/litebox/cmake")

configure_file("${CMAKE_CURRENT_LIST_DIR}/litebox.pc.in" "${CMAKE_CURRENT_BINARY_DIR}/litebox.pc" @ONLY)
install(FILES "${CMAKE_CURRENT_BINARY_DIR}/litebox.pc" DESTINATION "${CMAKE_INSTALL_DATADIR}/pkgconfig")
