/* main.c — the streamrun command line. */
#include "cmd/cli.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

static void usage(FILE *out)
{
    fputs("usage: streamrun COMMAND [ARGS]\n"
          "\n"
          "commands:\n"
          "  validate FILE... [--format text|json]  check topology files (and NAME.tests.yaml\n"
          "           [--allow-unsafe-kafka-properties]  tests files; - reads standard input);\n"
          "                                         exit 0 valid, 1 invalid\n"
          "  run FILE [--only NAME]... [--in TOPIC=PATH]... [--out DIR] [--envelope] [--quiet]\n"
          "           [--state-memory SIZE]\n"
          "                                         run deployments in-process over files\n"
          "  test [--state-memory SIZE] FILE...     run the files' test cases, no broker\n"
          "  up FILE [--broker HOST:PORT] [--only NAME]... [--exit-at-end]\n"
          "          [--commit-interval 1s] [--workers N] [--state-memory SIZE]\n"
          "          [--allow-unsafe-kafka-properties] [--accept-incomplete-state]\n"
          "          [--no-model-watch]\n"
          "                                         run deployments on Kafka (with no broker\n"
          "                                         given: on an embedded one)\n"
          "  broker [FILE] [--topic NAME:PARTITIONS]... [--address-file PATH] [--brokers N]\n"
          "                                         run the embedded Kafka-protocol broker\n"
          "  tap TOPIC --broker HOST:PORT [--from-beginning] [--count N]\n"
          "                                         print a topic's records as JSON lines\n"
          "  score PACKAGE [--in FILE]              score JSON lines (stdin by default) with a\n"
          "                                         model package, one JSON line out per line in\n"
          "  compat RUNNING EDITED | EDITED --broker HOST:PORT [--format text|json]\n"
          "                                         check that an edit keeps the running state;\n"
          "                                         exit 0 compatible, 1 not\n"
          "  graph FILE [--format dot|mermaid]      draw deployments, topics and operators\n"
          "  shape FILE [--format jsonl|csv]        infer a topic's shape: from a sample of\n"
          "                                         records, the YAML of its shape: setting\n"
          "  schema                                 print the topology file's JSON Schema\n"
          "  lsp                                    a language server for editors, on stdio\n"
          "  explain [CODE]                         explain a diagnostic code (SR0101) with an\n"
          "                                         example of the mistake and its fix; alone:\n"
          "                                         list the codes\n"
          "  docs                                   print the operator and function reference\n"
          "  version                                print the version\n"
          "\n"
          "options that take a value are written --name VALUE or --name=VALUE; a tests file\n"
          "NAME.tests.yaml given to validate or test stands for the tests of NAME.yaml\n"
          "\n"
          "exit codes: 0 success, 1 invalid file or failed test, 2 usage or I/O error,\n"
          "            3 the Kafka runtime stopped on a failure (a delivery that finally failed)\n",
          out);
}

/* The command's exit code, or SR_EXIT_USAGE after saying so when what it wrote to standard output
 * could not all be written (closed, a full disk: /dev/full) — output a CI step reads must not be
 * silently cut. */
static int flushed(const char *cmd, int rc)
{
    errno = 0;
    if (fflush(stdout) == 0 && !ferror(stdout)) return rc;
    int e = errno;
    char where[512] = "";
    ssize_t n = readlink("/proc/self/fd/1", where, sizeof(where) - 1);
    where[n > 0 ? n : 0] = '\0';
    fprintf(stderr, "streamrun %s: error writing the output to standard output%s%s%s: %s\n", cmd,
            where[0] ? " (" : "", where, where[0] ? ")" : "", e ? strerror(e) : "write failed");
    return SR_EXIT_USAGE;
}

static int dispatch(const char *cmd, int argc, char **argv);

int main(int argc, char **argv)
{
    if (argc < 2) {
        usage(stderr);
        return SR_EXIT_USAGE;
    }
    return flushed(argv[1], dispatch(argv[1], argc - 1, argv + 1));
}

static int dispatch(const char *cmd, int argc, char **argv)
{
    if (strcmp(cmd, "validate") == 0) return sr_cmd_validate(argc, argv);
    if (strcmp(cmd, "run") == 0) return sr_cmd_run(argc, argv);
    if (strcmp(cmd, "test") == 0) return sr_cmd_test(argc, argv);
    if (strcmp(cmd, "graph") == 0) return sr_cmd_graph(argc, argv);
    if (strcmp(cmd, "schema") == 0) return sr_cmd_schema(argc, argv);
    if (strcmp(cmd, "docs") == 0) return sr_cmd_docs(argc, argv);
    if (strcmp(cmd, "broker") == 0) return sr_cmd_broker(argc, argv);
    if (strcmp(cmd, "up") == 0) return sr_cmd_up(argc, argv);
    if (strcmp(cmd, "tap") == 0) return sr_cmd_tap(argc, argv);
    if (strcmp(cmd, "score") == 0) return sr_cmd_score(argc, argv);
    if (strcmp(cmd, "compat") == 0) return sr_cmd_compat(argc, argv);
    if (strcmp(cmd, "lsp") == 0) return sr_cmd_lsp(argc, argv);
    if (strcmp(cmd, "shape") == 0) return sr_cmd_shape(argc, argv);
    if (strcmp(cmd, "explain") == 0) return sr_cmd_explain(argc, argv);
    if (strcmp(cmd, "version") == 0 || strcmp(cmd, "--version") == 0) {
        printf("streamrun %s\n", SR_VERSION);
        return 0;
    }
    if (strcmp(cmd, "help") == 0 || strcmp(cmd, "--help") == 0 || strcmp(cmd, "-h") == 0) {
        usage(stdout);
        return 0;
    }
    static const char *const cmds[] = {"validate", "run",    "test",   "up",    "broker",
                                       "tap",      "graph",  "schema", "docs",  "version",
                                       "score",    "compat", "lsp",    "shape", "explain"};
    const char *sug = sr_suggest(cmd, cmds, (int)(sizeof(cmds) / sizeof(cmds[0])));
    fprintf(stderr, "streamrun: unknown command '%s'%s%s%s\n", cmd, sug ? "; did you mean '" : "",
            sug ? sug : "", sug ? "'?" : "");
    usage(stderr);
    return SR_EXIT_USAGE;
}
