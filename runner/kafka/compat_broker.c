/* compat_broker.c — `streamrun compat EDITED --broker`: the running side read from a cluster. */
#include "load/compat.h"

#include <stdio.h>

int sr_compat_broker(const sr_topology *edited, const char *broker, sr_diag *dg, char *err,
                     size_t errsize);

int sr_compat_broker(const sr_topology *edited, const char *broker, sr_diag *dg, char *err,
                     size_t errsize)
{
    (void)edited, (void)dg;
    snprintf(err, errsize, "--broker %s: not available yet", broker);
    return -1;
}
