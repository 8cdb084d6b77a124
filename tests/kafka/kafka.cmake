# Kafka integration and fault tests, numbered like librdkafka's (label "kafka"): the scripts
# drive `streamrun broker` and `streamrun up` on loopback, producing and reading with
# SR_PYTHON (Debian's python3) and python3-confluent-kafka; the C programs run sr_up_run in
# process against the embedded broker and inject faults into it. Run them alone with
# `ctest -L kafka`. They run one at a time, alone: group rebalances on the embedded broker are
# timed, and on 2 cores other tests running beside them can starve a member past its session.
file(GLOB KAFKA_SCRIPTS CONFIGURE_DEPENDS ${CMAKE_CURRENT_LIST_DIR}/0*.sh)
foreach(script ${KAFKA_SCRIPTS})
  get_filename_component(name ${script} NAME_WE)
  add_test(NAME kafka/${name}
           COMMAND bash ${script} $<TARGET_FILE:streamrun> ${SR_PYTHON}
           WORKING_DIRECTORY ${CMAKE_SOURCE_DIR})
  set_tests_properties(kafka/${name} PROPERTIES LABELS kafka TIMEOUT 120 RUN_SERIAL TRUE)
endforeach()
file(GLOB KAFKA_PROGRAMS CONFIGURE_DEPENDS ${CMAKE_CURRENT_LIST_DIR}/0*.c)
foreach(src ${KAFKA_PROGRAMS})
  get_filename_component(name ${src} NAME_WE)
  add_executable(kafka-${name} ${src})
  target_link_libraries(kafka-${name} PRIVATE srcore)
  add_test(NAME kafka/${name}
           COMMAND kafka-${name} ${CMAKE_CURRENT_LIST_DIR}/faults.yaml
           WORKING_DIRECTORY ${CMAKE_SOURCE_DIR})
  set_tests_properties(kafka/${name} PROPERTIES LABELS kafka TIMEOUT 120 RUN_SERIAL TRUE)
endforeach()
