/* fuzz_topology.c — libFuzzer target: the topology loader must never crash on any input. */
#include "load/topology.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char path[] = "/tmp/sr-fuzz-XXXXXX.yaml";
    int fd = mkstemps(path, 5);
    if (fd < 0) return 0;
    if (write(fd, data, size) != (ssize_t)size) {
        close(fd);
        unlink(path);
        return 0;
    }
    close(fd);
    sr_diag dg;
    sr_diag_init(&dg);
    sr_topology *t = NULL;
    sr_topology_load(&t, path, &dg);
    FILE *null = fopen("/dev/null", "w");
    if (null) {
        sr_diag_print(&dg, null, false, false);
        sr_diag_print(&dg, null, true, false);
        fclose(null);
    }
    sr_topology_free(t);
    sr_diag_free(&dg);
    unlink(path);
    return 0;
}
