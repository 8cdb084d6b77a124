# check_schema.cmake — fails when `streamrun schema` differs from schemas/topology.schema.json.
# Usage: cmake -DSTREAMRUN=path/to/streamrun -DSCHEMA=schemas/topology.schema.json
#              -DOUT=scratch/file.json -P check_schema.cmake
foreach(var STREAMRUN SCHEMA OUT)
  if(NOT DEFINED ${var})
    message(FATAL_ERROR "check_schema.cmake: pass -D${var}=...")
  endif()
endforeach()

execute_process(COMMAND ${STREAMRUN} schema OUTPUT_FILE ${OUT} RESULT_VARIABLE rc)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "`${STREAMRUN} schema` failed (exit ${rc})")
endif()

string(CONCAT regen "regenerate it from the source tree: "
       "build/streamrun schema > schemas/topology.schema.json")
if(NOT EXISTS ${SCHEMA})
  message(FATAL_ERROR "${SCHEMA} is missing; ${regen}")
endif()
execute_process(COMMAND ${CMAKE_COMMAND} -E compare_files ${OUT} ${SCHEMA} RESULT_VARIABLE differ)
if(differ)
  find_program(DIFF diff)
  if(DIFF)
    execute_process(COMMAND ${DIFF} -u ${SCHEMA} ${OUT} OUTPUT_VARIABLE delta)
    string(LENGTH "${delta}" len)
    if(len GREATER 4000)
      string(SUBSTRING "${delta}" 0 4000 delta)
      string(APPEND delta "\n[...]\n")
    endif()
    message("${delta}")
  endif()
  message(FATAL_ERROR "${SCHEMA} is out of date: it differs from what `streamrun schema` prints "
                      "(the operator or parameter tables changed); ${regen}")
endif()
message(STATUS "${SCHEMA} is up to date")
