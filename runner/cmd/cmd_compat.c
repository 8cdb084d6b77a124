/* cmd_compat.c — `streamrun compat`: whether an edited topology can take over the state of the
 * running one, before it is deployed (README "Changing a running pipeline"). */
#include "cmd/cli.h"
#include "kafka/kafka_admin.h"
#include "load/compat.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define USAGE "usage: streamrun compat RUNNING.yaml EDITED.yaml [--format text|json]\n"

int sr_cmd_compat(int argc, char **argv)
{
    bool json = false;
    const char *files[2] = {NULL, NULL}, *broker = NULL;
    int nfiles = 0;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *f;
        if ((f = sr_cli_value(argc, argv, &i, "--format"))) {
            if (strcmp(f, "json") != 0 && strcmp(f, "text") != 0) {
                fprintf(stderr, "streamrun compat: --format must be text or json\n");
                return SR_EXIT_USAGE;
            }
            json = strcmp(f, "json") == 0;
        } else if ((f = sr_cli_value(argc, argv, &i, "--broker"))) {
            broker = f;
        } else if (a[0] == '-' && a[1]) {
            fprintf(stderr, "streamrun compat: unknown option '%s'\n" USAGE, a);
            return SR_EXIT_USAGE;
        } else if (!sr_cli_file_arg("compat", a)) {
            return SR_EXIT_USAGE;
        } else if (nfiles < 2) {
            files[nfiles++] = a;
        } else {
            fprintf(stderr, "streamrun compat: too many files\n" USAGE);
            return SR_EXIT_USAGE;
        }
    }
    if (broker ? nfiles != 1 : nfiles != 2) {
        fputs(USAGE, stderr);
        return SR_EXIT_USAGE;
    }
    sr_diag dg;
    sr_diag_init(&dg);
    sr_topology *t[2] = {NULL, NULL};
    int rc = SR_EXIT_OK;
    for (int i = 0; i < nfiles; i++) {
        if (access(files[i], R_OK) != 0) {
            fprintf(stderr, "streamrun compat: cannot read '%s'\n", files[i]);
            rc = SR_EXIT_USAGE;
        } else if (sr_topology_load(&t[i], files[i], &dg) != 0) {
            rc = SR_EXIT_USAGE; /* a file that does not load cannot be compared */
        }
    }
    if (rc == SR_EXIT_OK) {
        int errors;
        if (broker) {
            char err[512] = "";
            errors = sr_compat_broker(t[0], broker, &dg, err, sizeof(err));
            if (errors < 0) {
                fprintf(stderr, "streamrun compat: %s\n", err);
                rc = SR_EXIT_USAGE;
            }
        } else {
            errors = sr_compat_compare(t[0], t[1], &dg);
        }
        if (errors > 0) rc = SR_EXIT_INVALID;
    }
    sr_diag_print(&dg, json ? stdout : stderr, json, !json && isatty(2));
    if (!json && rc != SR_EXIT_USAGE) {
        if (dg.nerrors)
            fprintf(stderr, "%d incompatible change%s: deploying %s would lose or misread state\n",
                    dg.nerrors, dg.nerrors == 1 ? "" : "s", files[broker ? 0 : 1]);
        else
            fprintf(stderr, "compatible: %s can take over the running state\n",
                    files[broker ? 0 : 1]);
    } else if (rc == SR_EXIT_USAGE && dg.nerrors) {
        fprintf(stderr, "streamrun compat: the files must be valid to be compared\n");
    }
    for (int i = 0; i < 2; i++) sr_topology_free(t[i]);
    sr_diag_free(&dg);
    return rc;
}
