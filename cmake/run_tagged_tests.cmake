# Runs the Catch2 binary TEST_BINARY on the tag expression TAGS (e.g. "[sync],[ipc]"). Passes only
# if it exits 0 and at least one test case ran ("All tests passed"); a tag that matches nothing is
# fine as long as another one does (the [ipc] tests may not exist yet in every checkout).
execute_process(COMMAND "${TEST_BINARY}" "${TAGS}" RESULT_VARIABLE result OUTPUT_VARIABLE out ERROR_VARIABLE err)
message("${out}${err}")
if(NOT result EQUAL 0)
  message(FATAL_ERROR "${TEST_BINARY} ${TAGS} failed: ${result}")
endif()
if(NOT out MATCHES "All tests passed \\([0-9]+ assertions? in [0-9]+ test cases?\\)")
  message(FATAL_ERROR "${TEST_BINARY} ${TAGS}: no test case ran")
endif()
