# Fixture for the installed-package consumers: `cmake --install BUILD_DIR --prefix PREFIX` into a
# fresh PREFIX, then checks that every public header, the package config and litebox.pc are there.
file(REMOVE_RECURSE "${PREFIX}")
execute_process(COMMAND "${CMAKE_COMMAND}" --install "${BUILD_DIR}" --prefix "${PREFIX}" RESULT_VARIABLE result)
if(NOT result EQUAL 0)
  message(FATAL_ERROR "cmake --install ${BUILD_DIR} --prefix ${PREFIX} failed: ${result}")
endif()

file(GLOB_RECURSE source_headers RELATIVE "${SOURCE_DIR}/include" "${SOURCE_DIR}/include/litebox/*.hpp")
file(GLOB_RECURSE installed_headers RELATIVE "${PREFIX}/include" "${PREFIX}/include/*")
list(SORT source_headers)
list(SORT installed_headers)
if(NOT source_headers STREQUAL installed_headers)
  message(FATAL_ERROR "installed headers differ from include/litebox\n  source:    ${source_headers}\n  installed: ${installed_headers}")
endif()
list(LENGTH installed_headers header_count)

foreach(file IN ITEMS share/litebox/cmake/litebox-config.cmake share/litebox/cmake/litebox-config-version.cmake
                      share/litebox/cmake/litebox-targets.cmake share/pkgconfig/litebox.pc share/doc/litebox/LICENSE)
  if(NOT EXISTS "${PREFIX}/${file}")
    message(FATAL_ERROR "${PREFIX}/${file} was not installed")
  endif()
endforeach()
message(STATUS "installed ${header_count} headers, the package config and litebox.pc into ${PREFIX}")
