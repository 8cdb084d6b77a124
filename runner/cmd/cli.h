/* cli.h — the subcommands of the streamrun command line. */
#ifndef SR_CLI_H
#define SR_CLI_H

#include "base/diag.h"

#include <stdio.h>

#define SR_VERSION "0.1.0"

/* Stable exit codes. */
enum { SR_EXIT_OK = 0, SR_EXIT_INVALID = 1, SR_EXIT_USAGE = 2 };

/* Each takes argv[0] = the command name, and returns an exit code. */
int sr_cmd_validate(int argc, char **argv);
int sr_cmd_run(int argc, char **argv);
int sr_cmd_test(int argc, char **argv);
int sr_cmd_graph(int argc, char **argv);
int sr_cmd_schema(int argc, char **argv);
int sr_cmd_docs(int argc, char **argv);
int sr_cmd_broker(int argc, char **argv);
int sr_cmd_up(int argc, char **argv);
int sr_cmd_tap(int argc, char **argv);
int sr_cmd_score(int argc, char **argv);
int sr_cmd_compat(int argc, char **argv);
int sr_cmd_lsp(int argc, char **argv);
int sr_cmd_shape(int argc, char **argv);
int sr_cmd_explain(int argc, char **argv);

/* The reference `streamrun docs` prints, in parts (Markdown), for the language server's hover:
 * an operator's section (heading, summary, example, forms, parameter table), and a function's
 * row of the function table. */
struct sr_operator_type;
struct sr_func_doc;
void sr_docs_operator(FILE *out, const struct sr_operator_type *t);
void sr_docs_function(FILE *out, const struct sr_func_doc *f);

/* Checks the structure of t's test cases (in the file, and in the file beside
 * it named NAME.tests.yaml) without running them. Returns 0 or -1. */
struct sr_topology;
int sr_tests_check(const struct sr_topology *t, sr_diag *dg);
/* The keys of a test case, of a tests file's top level (NAME.tests.yaml), and the values of
 * compare:; NULL-terminated. */
extern const char *const sr_test_case_keys[];
extern const char *const sr_test_file_keys[];
extern const char *const sr_test_compare_modes[];
/* As sr_tests_check, with the text of the file beside t (NAME.tests.yaml, len bytes, not
 * necessarily NUL-terminated) given instead of read from disk: an editor's buffer. tests NULL:
 * read from disk, as sr_tests_check. The text is copied (dg owns the copy). */
int sr_tests_check_text(const struct sr_topology *t, const char *tests, size_t len, sr_diag *dg);

/* The value of option name at argv[*i], written `--name value` (then *i moves past the value) or
 * `--name=value`; NULL when argv[*i] is not that option or its value is missing. The value is
 * borrowed from argv. */
const char *sr_cli_value(int argc, char **argv, int *i, const char *name);

/* Whether path may be read as a topology file: a directory is refused with a usage message for
 * cmd ("X is a directory; expected a topology file", and the glob that names its files); `-`
 * (standard input) and paths that do not exist pass (their loading reports them). */
bool sr_cli_file_arg(const char *cmd, const char *path);

/* When path is a tests file — named NAME.tests.yaml and not a topology itself (it has neither
 * deployments: nor topics:) — the path of its topology NAME.yaml (malloc'd, the caller frees it);
 * otherwise NULL. The topology's own loading finds the tests beside it (sr_tests_check). */
char *sr_cli_tests_topology(const char *path);
/* As sr_cli_tests_topology, with the file's text given (len bytes; an editor's buffer) instead of
 * read from path; text NULL: read from path. */
char *sr_cli_tests_topology_text(const char *path, const char *text, size_t len);

/* The topology each argument files[i] stands for, into targets[i] (malloc'd, the caller frees
 * them): the file itself, or for a tests file (sr_cli_tests_topology) its topology — NULL when
 * that topology is among the arguments too (given itself, or by an earlier tests file), so that
 * it is checked or tested once. A topology given twice is kept twice. */
/* Adds the error of a tests file (its text f, at m: its root) whose topology topo does not
 * exist, as `validate` and the language server report it. */
void sr_cli_tests_without_topology(sr_diag *dg, const sr_srcfile *f, sr_mark m, const char *topo);

void sr_cli_targets(int n, const char *const *files, char **targets);

/* Whether paths a and b name the same file (the same string, or the same device and inode). */
bool sr_cli_same_file(const char *a, const char *b);

/* Loads path, prints its diagnostics to stderr (text) and returns the
 * topology, or NULL when it has errors. With refuse_unsafe, kafka: properties
 * that could run code are errors too (sr_topology_refuse_unsafe): for
 * commands that hand the properties to librdkafka. */
struct sr_topology *sr_cli_load(const char *path, bool refuse_unsafe);

/* `--state-memory SIZE` of run, test and up: sets the limit of the process's state budget (all
 * the stores of all tasks; sr_state_budget_limit) to SIZE (sr_parse_size: 512MiB, 64KiB...).
 * Returns false after printing a usage error for cmd. @locality main thread, before any task. */
bool sr_cli_state_memory(const char *cmd, const char *size);
/* Prints the state the process holds, as run's and up's summaries end: "state: K keys in B bytes,
 * at most P bytes (budget L bytes)" (P: the most it held at once), or "(no budget)". */
void sr_print_state(FILE *fp);

#endif
