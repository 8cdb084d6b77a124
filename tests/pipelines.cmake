# Example pipelines: each one validates, its test cases pass, and it runs over its own sample data.
file(GLOB PIPELINE_FILES CONFIGURE_DEPENDS ${CMAKE_SOURCE_DIR}/pipelines/*.yaml)
list(FILTER PIPELINE_FILES EXCLUDE REGEX "\\.tests\\.yaml$")
foreach(p ${PIPELINE_FILES})
  get_filename_component(name ${p} NAME_WE)
  add_test(NAME pipeline/${name}/validate COMMAND streamrun validate ${p})
  add_test(NAME pipeline/${name}/test COMMAND streamrun test ${p})
endforeach()
# The tutorial's own data, compared with the tutorial's logic (skipped when ../shared is absent).
add_test(NAME pipeline/phone-normalization/tutorial-data
         COMMAND bash ${CMAKE_CURRENT_SOURCE_DIR}/pipelines/phone_tutorial.sh $<TARGET_FILE:streamrun>
         WORKING_DIRECTORY ${CMAKE_SOURCE_DIR})
set_tests_properties(pipeline/phone-normalization/tutorial-data PROPERTIES SKIP_RETURN_CODE 77)

# Fuzz targets: a short bounded run of each in the test suite (clang builds with STREAMRUN_FUZZ).
if(STREAMRUN_FUZZ)
  # the topology fuzzer also starts from the example pipelines and the error cases
  file(GLOB FUZZ_TOPOLOGY_SEEDS ${CMAKE_SOURCE_DIR}/pipelines/*.yaml ${CMAKE_SOURCE_DIR}/tests/errors/*.yaml)
  add_test(NAME fuzz/topology
           COMMAND bash ${CMAKE_CURRENT_SOURCE_DIR}/fuzz/run_fuzz.sh $<TARGET_FILE:fuzz_topology>
                   ${CMAKE_CURRENT_SOURCE_DIR}/fuzz/corpus/topology 30 ${FUZZ_TOPOLOGY_SEEDS})
  add_test(NAME fuzz/expr
           COMMAND bash ${CMAKE_CURRENT_SOURCE_DIR}/fuzz/run_fuzz.sh $<TARGET_FILE:fuzz_expr>
                   ${CMAKE_CURRENT_SOURCE_DIR}/fuzz/corpus/expr 30)
endif()

# The tree is formatted (clang-format, .clang-format at the root).
find_program(CLANG_FORMAT clang-format)
if(CLANG_FORMAT)
  add_test(NAME format
           COMMAND bash -c "${CLANG_FORMAT} --dry-run --Werror runner/*/*.c runner/*/*.h operators/*.c tests/unit/*.c tests/unit/*.h tests/state/*.c tests/fuzz/*.c tests/kafka/*.c tests/kafka/*.h"
           WORKING_DIRECTORY ${CMAKE_SOURCE_DIR})
endif()

# The README's operator and function reference is the output of `streamrun docs`.
add_test(NAME readme-reference
         COMMAND ${SR_PYTHON} ${CMAKE_CURRENT_SOURCE_DIR}/tools/readme_reference.py $<TARGET_FILE:streamrun>
         WORKING_DIRECTORY ${CMAKE_SOURCE_DIR})

# `streamrun graph` of every example pipeline, against golden files.
add_test(NAME graph COMMAND bash ${CMAKE_CURRENT_SOURCE_DIR}/graph/run_graph.sh $<TARGET_FILE:streamrun>
         WORKING_DIRECTORY ${CMAKE_SOURCE_DIR})

# Command-line behaviour: run over files, envelopes, dead letters, exit codes.
add_test(NAME cli COMMAND bash ${CMAKE_CURRENT_SOURCE_DIR}/cli/run_cli.sh $<TARGET_FILE:streamrun>
         WORKING_DIRECTORY ${CMAKE_SOURCE_DIR})

# `streamrun shape`: the shape inferred from samples (JSON lines, CSV), and validate using it.
add_test(NAME cli-shape COMMAND bash ${CMAKE_CURRENT_SOURCE_DIR}/cli/shape.sh $<TARGET_FILE:streamrun>
         WORKING_DIRECTORY ${CMAKE_SOURCE_DIR})

# The model step's KPI lines in the summaries of `run` (against an independent Python
# computation) and `up` (on the embedded broker: the same lines as run's).
add_test(NAME cli-model-kpis
         COMMAND bash ${CMAKE_CURRENT_SOURCE_DIR}/cli/model_kpis.sh $<TARGET_FILE:streamrun>)

# No silent limits on the command line and in the in-process runner: any number of files,
# --in, --only, --topic, output topics, headers and deployments in a test case.
add_test(NAME cli-limits COMMAND bash ${CMAKE_CURRENT_SOURCE_DIR}/cli/limits.sh $<TARGET_FILE:streamrun>)

# validate stays fast with 50,000 topics and deployments (it was quadratic, and recursed once per
# deployment of a chain): each validate must take under 30 s of CPU (about 1 s here, even with
# sanitizers); the time limit is for a loaded machine.
add_test(NAME validate-many-topics
         COMMAND bash ${CMAKE_CURRENT_SOURCE_DIR}/cli/many_topics.sh $<TARGET_FILE:streamrun>)
set_tests_properties(validate-many-topics PROPERTIES TIMEOUT 600)

# compose/ cannot run here (no Docker engine): check it against the Compose Specification.
add_test(NAME compose COMMAND ${SR_PYTHON} ${CMAKE_CURRENT_SOURCE_DIR}/compose/check_compose.py
         WORKING_DIRECTORY ${CMAKE_SOURCE_DIR})
set_tests_properties(compose PROPERTIES SKIP_RETURN_CODE 77)

# Golden pipeline cases, as data: each tests/cases/NAME.yaml is a small topology whose `tests:`
# pin down one operator or feature with exact records; `streamrun test` runs them, one test per
# file (write: steps write no file under `streamrun test`: their lines are compared with `files:`).
file(GLOB CASE_FILES CONFIGURE_DEPENDS ${CMAKE_SOURCE_DIR}/tests/cases/*.yaml)
list(FILTER CASE_FILES EXCLUDE REGEX "\\.tests\\.yaml$")
foreach(file ${CASE_FILES})
  get_filename_component(name ${file} NAME_WE)
  add_test(NAME case/${name} COMMAND streamrun test ${file}
           WORKING_DIRECTORY ${CMAKE_CURRENT_BINARY_DIR})
endforeach()
# A record that no route case matches is dropped and counted (in `streamrun run`'s summary).
add_test(NAME case/route-counted
         COMMAND bash ${CMAKE_CURRENT_SOURCE_DIR}/cases/route_counted.sh $<TARGET_FILE:streamrun>)
# An interval join's record that expires unmatched is counted (unmatched: count), not dead-lettered.
add_test(NAME case/join-counted
         COMMAND bash ${CMAKE_CURRENT_SOURCE_DIR}/cases/join_counted.sh $<TARGET_FILE:streamrun>)
# `run --envelope` reads a null value as a tombstone and writes a join's retraction as one.
add_test(NAME case/join-run-tombstones
         COMMAND bash ${CMAKE_CURRENT_SOURCE_DIR}/cases/join_run_tombstones.sh $<TARGET_FILE:streamrun>)
# A NAME.tests.yaml's compare: and tolerance: apply to its cases, and its top-level keys are checked.
add_test(NAME case/test-file-keys
         COMMAND bash ${CMAKE_CURRENT_SOURCE_DIR}/cases/test_file_keys.sh $<TARGET_FILE:streamrun>)
# The reasons of source rows that cannot be read, as the README quotes them.
add_test(NAME case/source-reasons
         COMMAND bash ${CMAKE_CURRENT_SOURCE_DIR}/cases/source_reasons.sh $<TARGET_FILE:streamrun>)
# Every dead-letter reason the README quotes is one a test expects (so the program prints it).
add_test(NAME readme-reasons
         COMMAND ${SR_PYTHON} ${CMAKE_SOURCE_DIR}/tests/tools/readme_reasons.py ${CMAKE_SOURCE_DIR})
# The comparison catches mistakes: each tests/cases/failing/NAME.yaml must make `streamrun test`
# exit 1 and print the lines given in its `# expect-output:` comments. (tests/cases/bugs/ holds
# cases of known bugs; they are not run.)
file(GLOB FAILING_CASE_FILES CONFIGURE_DEPENDS ${CMAKE_SOURCE_DIR}/tests/cases/failing/*.yaml)
foreach(file ${FAILING_CASE_FILES})
  get_filename_component(name ${file} NAME_WE)
  add_test(NAME case/failing/${name}
           COMMAND bash ${CMAKE_CURRENT_SOURCE_DIR}/cases/failing/check_failing.sh
                   $<TARGET_FILE:streamrun> ${file})
endforeach()
