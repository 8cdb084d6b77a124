/* cmd_lsp.c — `streamrun lsp`: the language server, on standard input and output. */
#include "cmd/cli.h"
#include "lsp/lsp.h"

#include <stdio.h>
#include <string.h>
#include <unistd.h>

int sr_cmd_lsp(int argc, char **argv)
{
    /* --stdio: what editors' clients pass to say the transport; it is the only one */
    if (argc > 2 || (argc == 2 && strcmp(argv[1], "--stdio") != 0)) {
        fprintf(stderr, "usage: streamrun lsp [--stdio]\n");
        return SR_EXIT_USAGE;
    }
    /* the protocol gets a stream of its own; whatever else writes to standard output (nothing
     * should, while a file is loaded) goes to standard error instead of corrupting a frame */
    fflush(stdout);
    int fd = dup(STDOUT_FILENO);
    FILE *out = fd >= 0 ? fdopen(fd, "w") : NULL;
    if (!out || dup2(STDERR_FILENO, STDOUT_FILENO) < 0) {
        perror("streamrun lsp: standard output");
        if (out) fclose(out);
        return SR_EXIT_USAGE;
    }
    int rc = sr_lsp_serve(stdin, out);
    fclose(out);
    return rc;
}
