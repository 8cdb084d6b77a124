/* cmd_lsp.c — `streamrun lsp`: the language server, on standard input and output. */
#include "cmd/cli.h"
#include "lsp/lsp.h"

#include <stdio.h>
#include <string.h>

int sr_cmd_lsp(int argc, char **argv)
{
    /* --stdio: what editors' clients pass to say the transport; it is the only one */
    if (argc > 2 || (argc == 2 && strcmp(argv[1], "--stdio") != 0)) {
        fprintf(stderr, "usage: streamrun lsp [--stdio]\n");
        return SR_EXIT_USAGE;
    }
    return sr_lsp_serve(stdin, stdout);
}
