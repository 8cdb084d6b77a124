# Kafka integration and fault tests, numbered like librdkafka's (label "kafka"): the scripts
# drive `streamrun up` on loopback, producing and reading with SR_PYTHON (Debian's python3) and
# python3-confluent-kafka. Each script runs twice: on the embedded broker (`streamrun broker`,
# label "kafka-embedded") and on Apache Kafka (tests/kafka/apache/kafka.sh, label
# "kafka-apache"); lib.sh's start_broker picks by SR_KAFKA_BROKER. The C programs run sr_up_run
# in process and inject faults into the embedded broker (librdkafka's mock cluster), so they run
# on it alone. Run them with `ctest -L kafka` (or one of the two labels). They run one at a
# time, alone: group rebalances are timed, and on 2 cores other tests running beside them can
# starve a member past its session.
# A script meaningful on one broker only says so in a line "# brokers: embedded" (or
# "# brokers: apache"), with the reason in its header; the README lists them.
file(GLOB KAFKA_SCRIPTS CONFIGURE_DEPENDS ${CMAKE_CURRENT_LIST_DIR}/0*.sh)
foreach(script ${KAFKA_SCRIPTS})
  get_filename_component(name ${script} NAME_WE)
  file(STRINGS ${script} only REGEX "^# brokers: (embedded|apache)$")
  if(only)
    string(REPLACE "# brokers: " "" kinds "${only}")
  else()
    set(kinds embedded apache)
  endif()
  foreach(kind ${kinds})
    add_test(NAME kafka-${kind}/${name}
             COMMAND bash ${script} $<TARGET_FILE:streamrun> ${SR_PYTHON}
             WORKING_DIRECTORY ${CMAKE_SOURCE_DIR})
    set_tests_properties(kafka-${kind}/${name} PROPERTIES LABELS "kafka;kafka-${kind}"
                         ENVIRONMENT SR_KAFKA_BROKER=${kind} TIMEOUT 180 RUN_SERIAL TRUE)
  endforeach()
  if(TEST kafka-apache/${name})
    # Apache Kafka adds its start (10-15 s), and creating thousands of partitions (0031) takes
    # it minutes on 2 busy cores
    set_tests_properties(kafka-apache/${name} PROPERTIES FIXTURES_REQUIRED kafka-apache
                         SKIP_RETURN_CODE 77 TIMEOUT 300)
  endif()
endforeach()
# the broker failover starts 3 nodes and runs two 60 s passes, each restarting a node: about
# 2.5 minutes on 2 busy cores
set_tests_properties(kafka-apache/0019-broker-failover PROPERTIES TIMEOUT 600)
file(GLOB KAFKA_PROGRAMS CONFIGURE_DEPENDS ${CMAKE_CURRENT_LIST_DIR}/0*.c)
foreach(src ${KAFKA_PROGRAMS})
  get_filename_component(name ${src} NAME_WE)
  add_executable(kafka-${name} ${src})
  target_link_libraries(kafka-${name} PRIVATE srcore)
  add_test(NAME kafka-embedded/${name}
           COMMAND kafka-${name} ${CMAKE_CURRENT_LIST_DIR}/faults.yaml
           WORKING_DIRECTORY ${CMAKE_SOURCE_DIR})
  set_tests_properties(kafka-embedded/${name} PROPERTIES LABELS "kafka;kafka-embedded"
                       TIMEOUT 120 RUN_SERIAL TRUE)
endforeach()
# Apache Kafka (tests/kafka/apache/kafka.sh, label "kafka-apache"): the fixture fetches the broker
# with Maven into the cache outside the tree (a no-op once the cache is complete); without Java or
# Maven the tests that need it are skipped (exit 77) with what to install — but not in CI
# (CI=true), where .ci/run installs them.
set(KAFKA_SH ${CMAKE_CURRENT_LIST_DIR}/apache/kafka.sh)
add_test(NAME kafka-apache/fetch COMMAND bash ${KAFKA_SH} fetch)
set_tests_properties(kafka-apache/fetch PROPERTIES LABELS "kafka;kafka-apache" TIMEOUT 900
                     FIXTURES_SETUP kafka-apache SKIP_RETURN_CODE 77)
add_test(NAME kafka-apache/cluster
         COMMAND bash ${CMAKE_CURRENT_LIST_DIR}/apache/cluster-test.sh ${SR_PYTHON}
         WORKING_DIRECTORY ${CMAKE_SOURCE_DIR})
set_tests_properties(kafka-apache/cluster PROPERTIES LABELS "kafka;kafka-apache" TIMEOUT 300
                     FIXTURES_REQUIRED kafka-apache SKIP_RETURN_CODE 77 RUN_SERIAL TRUE)
add_test(NAME kafka-apache/fetch-memory
         COMMAND bash ${CMAKE_CURRENT_LIST_DIR}/apache/fetch-memory-test.sh $<TARGET_FILE:streamrun>
                 ${SR_PYTHON}
         WORKING_DIRECTORY ${CMAKE_SOURCE_DIR})
set_tests_properties(kafka-apache/fetch-memory PROPERTIES LABELS "kafka;kafka-apache" TIMEOUT 900
                     FIXTURES_REQUIRED kafka-apache SKIP_RETURN_CODE 77 RUN_SERIAL TRUE)
# The Kafka benchmark (tests/bench/kafka/run.sh), small, so that it keeps working: every peer's
# output verified on each broker (exactly-once on Apache Kafka); its rates mean nothing here.
add_test(NAME kafka-embedded/bench
         COMMAND env STREAMRUN=$<TARGET_FILE:streamrun> PYTHON=${SR_PYTHON}
                 PEERS=passthrough\ like\ python\ streamrun bash tests/bench/kafka/run.sh 3000
         WORKING_DIRECTORY ${CMAKE_SOURCE_DIR})
set_tests_properties(kafka-embedded/bench PROPERTIES LABELS "kafka;kafka-embedded" TIMEOUT 300
                     RUN_SERIAL TRUE)
add_test(NAME kafka-apache/bench
         COMMAND env STREAMRUN=$<TARGET_FILE:streamrun> PYTHON=${SR_PYTHON}
                 KAFKA_PYTHON=${SR_PYTHON} WARMUP=0
                 PEERS=passthrough\ streamrun\ eos bash tests/bench/kafka/run.sh --broker apache 3000
         WORKING_DIRECTORY ${CMAKE_SOURCE_DIR})
set_tests_properties(kafka-apache/bench PROPERTIES LABELS "kafka;kafka-apache" TIMEOUT 600
                     FIXTURES_REQUIRED kafka-apache SKIP_RETURN_CODE 77 RUN_SERIAL TRUE)
