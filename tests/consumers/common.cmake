# Shared by the consumer projects (each is configured, built and tested by
# `ctest --build-and-test` from tests/consumers/CMakeLists.txt).
# litebox_consumer(<name> <source>): an executable linked to litebox::litebox with strict warnings,
# and two tests: it exits 0, and its log line reached the platform.
find_package(Threads REQUIRED)
enable_testing()

function(litebox_consumer name source expected_output)
  add_executable(${name} "${source}")
  target_link_libraries(${name} PRIVATE litebox::litebox Threads::Threads)
  target_compile_options(${name} PRIVATE -Wall -Wextra -Wpedantic -Werror)
  add_test(NAME "${name} exits 0" COMMAND ${name})
  add_test(NAME "${name} logs through the platform" COMMAND ${name})
  set_tests_properties("${name} logs through the platform" PROPERTIES PASS_REGULAR_EXPRESSION "${expected_output}")
endfunction()

# For add_subdirectory / FetchContent consumers: LiteBox as a subproject must add nothing but its
# library target (no tests, examples, warning targets or install rules).
function(litebox_check_subproject_is_quiet litebox_source_dir)
  foreach(option IN ITEMS LITEBOX_BUILD_TESTS LITEBOX_BUILD_EXAMPLES LITEBOX_BUILD_BENCH LITEBOX_INSTALL)
    if(${option})
      message(FATAL_ERROR "${option} is ON although LiteBox is not the top-level project")
    endif()
  endforeach()
  foreach(target IN ITEMS litebox_tests litebox_warnings litebox_check_headers litebox-minimal-platform)
    if(TARGET ${target})
      message(FATAL_ERROR "LiteBox as a subproject leaked the target ${target}")
    endif()
  endforeach()
  get_property(tests DIRECTORY "${litebox_source_dir}" PROPERTY TESTS)
  get_property(subdirectories DIRECTORY "${litebox_source_dir}" PROPERTY SUBDIRECTORIES)
  if(tests OR subdirectories)
    message(FATAL_ERROR "LiteBox as a subproject added tests (${tests}) or subdirectories (${subdirectories})")
  endif()
  if(NOT TARGET litebox::litebox)
    message(FATAL_ERROR "litebox::litebox is missing")
  endif()
  # Installing this project must install only its own executable, nothing of LiteBox.
  install(TARGETS consumer RUNTIME DESTINATION bin)
  add_test(NAME "no LiteBox install rules leak"
           COMMAND "${CMAKE_COMMAND}" "-DBUILD_DIR=${CMAKE_BINARY_DIR}" "-DPREFIX=${CMAKE_BINARY_DIR}/leak-check-prefix"
                   "-DEXPECTED=bin/consumer" -P "${CMAKE_CURRENT_FUNCTION_LIST_DIR}/check_install_leak.cmake")
endfunction()
