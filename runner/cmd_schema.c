/* cmd_schema.c — `streamrun schema` and `streamrun docs`, generated from the operator tables. */
#include "cli.h"

#include <stdio.h>

int sr_cmd_schema(int argc, char **argv)
{
    return SR_EXIT_USAGE;
}

int sr_cmd_docs(int argc, char **argv)
{
    return SR_EXIT_USAGE;
}
