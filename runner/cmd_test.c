/* cmd_test.c — `streamrun test`: runs a file's test cases in-process. */
#include "cli.h"

#include <stdio.h>

int sr_cmd_test(int argc, char **argv)
{
    fprintf(stderr, "streamrun test: not built yet\n");
    return SR_EXIT_USAGE;
}
