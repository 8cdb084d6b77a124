/* cli_args.c — what the commands share in reading their arguments: options as `--name value` or
 * `--name=value`, file arguments (a directory refused, `-` for standard input), and the tests
 * files `NAME.tests.yaml` that stand for the tests of `NAME.yaml`. */
#include "cmd/cli.h"
#include "base/arena.h"
#include "load/ynode.h"

#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

const char *sr_cli_value(int argc, char **argv, int *i, const char *name)
{
    const char *a = argv[*i];
    size_t n = strlen(name);
    if (strncmp(a, name, n) != 0) return NULL;
    if (a[n] == '=') return a + n + 1;
    if (a[n] || *i + 1 >= argc) return NULL;
    return argv[++*i];
}

bool sr_cli_file_arg(const char *cmd, const char *path)
{
    struct stat st;
    if (strcmp(path, "-") == 0 || stat(path, &st) != 0 || !S_ISDIR(st.st_mode)) return true;
    size_t n = strlen(path);
    fprintf(stderr,
            "streamrun %s: %s is a directory; expected a topology file (for all the topologies "
            "in it: %s%s*.yaml)\n",
            cmd, path, path, n && path[n - 1] == '/' ? "" : "/");
    return false;
}

static const char tests_suffix[] = ".tests.yaml";

/* Whether the document at path is not a topology: it has neither deployments: nor topics: (a
 * file that cannot be read or parsed is taken for what its name says: its errors are reported by
 * the tests' checks, which also say when tests: is missing). */
static bool only_tests(const char *path, const char *text, size_t len)
{
    sr_diag dg;
    sr_diag_init(&dg);
    sr_ydoc doc = {0};
    if (text)
        sr_ydoc_parse(&doc, path, text, len, &dg);
    else
        sr_ydoc_load(&doc, path, &dg);
    bool tests = true;
    if (doc.root && doc.root->kind == SR_Y_MAP)
        tests = !sr_ymap_get(doc.root, "deployments") && !sr_ymap_get(doc.root, "topics");
    sr_ydoc_free(&doc);
    sr_diag_free(&dg);
    return tests;
}

char *sr_cli_tests_topology(const char *path)
{
    return sr_cli_tests_topology_text(path, NULL, 0);
}

char *sr_cli_tests_topology_text(const char *path, const char *text, size_t len)
{
    size_t n = strlen(path), s = sizeof(tests_suffix) - 1;
    if (n <= s || strcmp(path + n - s, tests_suffix) != 0) return NULL;
    if (n > s && path[n - s - 1] == '/') return NULL; /* ".tests.yaml" alone: no NAME */
    if (!only_tests(path, text, len)) return NULL;
    char *topo = sr_xmalloc(n - s + sizeof(".yaml"));
    memcpy(topo, path, n - s);
    strcpy(topo + n - s, ".yaml");
    return topo;
}

void sr_cli_targets(int n, const char *const *files, char **targets)
{
    bool *tests = sr_xcalloc((size_t)n + 1, sizeof(*tests));
    for (int i = 0; i < n; i++) {
        targets[i] = sr_cli_tests_topology(files[i]);
        tests[i] = targets[i] != NULL;
        if (!tests[i]) targets[i] = sr_xstrdup(files[i]);
    }
    for (int i = 0; i < n; i++) {
        bool covered = false;
        for (int j = 0; j < n && tests[i] && !covered; j++)
            covered = j != i && targets[j] && (!tests[j] || j < i) &&
                      sr_cli_same_file(targets[j], targets[i]);
        if (covered) {
            free(targets[i]);
            targets[i] = NULL;
        }
    }
    free(tests);
}

bool sr_cli_same_file(const char *a, const char *b)
{
    struct stat sa, sb;
    if (strcmp(a, b) == 0) return true;
    if (stat(a, &sa) != 0 || stat(b, &sb) != 0) return false;
    return sa.st_dev == sb.st_dev && sa.st_ino == sb.st_ino;
}

void sr_cli_tests_without_topology(sr_diag *dg, const sr_srcfile *f, sr_mark m, const char *topo)
{
    sr_errc(dg, SR_E_TESTS_NO_TOPOLOGY, f, m,
            "no topology '%s' for these tests (a file NAME.tests.yaml holds the tests of the "
            "topology NAME.yaml beside it)",
            topo);
    const char *slash = strrchr(topo, '/');
    sr_diag_help(dg, "write the topology as %s, or name this file after its topology",
                 slash ? slash + 1 : topo);
}
