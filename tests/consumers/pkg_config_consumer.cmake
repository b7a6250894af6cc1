# Consumer (d): compile consumer.cpp with the flags of `pkg-config --cflags --libs litebox`, finding
# litebox.pc only in the installed PREFIX (PKG_CONFIG_PATH), then run it.
set(ENV{PKG_CONFIG_PATH} "${PREFIX}/share/pkgconfig")
execute_process(COMMAND "${PKG_CONFIG}" --modversion litebox
                RESULT_VARIABLE result OUTPUT_VARIABLE version ERROR_VARIABLE error OUTPUT_STRIP_TRAILING_WHITESPACE)
if(NOT result EQUAL 0 OR NOT version STREQUAL EXPECTED_VERSION)
  message(FATAL_ERROR "pkg-config --modversion litebox: '${version}' (expected ${EXPECTED_VERSION}) ${error}")
endif()
execute_process(COMMAND "${PKG_CONFIG}" --cflags --libs litebox
                RESULT_VARIABLE result OUTPUT_VARIABLE flags ERROR_VARIABLE error OUTPUT_STRIP_TRAILING_WHITESPACE)
if(NOT result EQUAL 0)
  message(FATAL_ERROR "pkg-config --cflags --libs litebox failed: ${error}")
endif()
message(STATUS "pkg-config --cflags --libs litebox: ${flags}")
separate_arguments(flags UNIX_COMMAND "${flags}")

# The include directory must be the installed one (litebox.pc is relocatable).
set(include_ok FALSE)
get_filename_component(expected_include "${PREFIX}/include" REALPATH)
foreach(flag IN LISTS flags)
  if(flag MATCHES "^-I(.*)$")
    get_filename_component(dir "${CMAKE_MATCH_1}" REALPATH)
    if(dir STREQUAL expected_include)
      set(include_ok TRUE)
    endif()
  endif()
endforeach()
if(NOT include_ok)
  message(FATAL_ERROR "pkg-config flags do not name ${expected_include}: ${flags}")
endif()

execute_process(COMMAND "${CXX}" -Wall -Wextra -Wpedantic -Werror ${flags} "${SOURCE}" -o "${OUTPUT}" -pthread
                RESULT_VARIABLE result OUTPUT_VARIABLE out ERROR_VARIABLE err)
if(NOT result EQUAL 0)
  message(FATAL_ERROR "compiling ${SOURCE} with pkg-config's flags failed:\n${out}${err}")
endif()
execute_process(COMMAND "${OUTPUT}" RESULT_VARIABLE result OUTPUT_VARIABLE out ERROR_VARIABLE err)
if(NOT result EQUAL 0 OR NOT "${out}${err}" MATCHES "litebox consumer: ok")
  message(FATAL_ERROR "${OUTPUT} failed (${result}):\n${out}${err}")
endif()
message(STATUS "${out}${err}")
