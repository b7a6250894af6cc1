# Installs BUILD_DIR into a fresh PREFIX and fails unless exactly the files in EXPECTED (relative
# paths) were installed: proves that LiteBox added no install rules to its parent project.
file(REMOVE_RECURSE "${PREFIX}")
execute_process(COMMAND "${CMAKE_COMMAND}" --install "${BUILD_DIR}" --prefix "${PREFIX}" RESULT_VARIABLE result)
if(NOT result EQUAL 0)
  message(FATAL_ERROR "cmake --install ${BUILD_DIR} failed: ${result}")
endif()
file(GLOB_RECURSE installed RELATIVE "${PREFIX}" "${PREFIX}/*")
list(SORT installed)
list(SORT EXPECTED)
if(NOT installed STREQUAL EXPECTED)
  message(FATAL_ERROR "installed files differ from the expected ones\n  installed: ${installed}\n  expected:  ${EXPECTED}")
endif()
message(STATUS "only ${EXPECTED} installed")
