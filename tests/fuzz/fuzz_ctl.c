/* Fuzz target: the control protocol codec (daemon/ctl_proto.c). */
#include <assert.h>
#include <stdint.h>
#include <string.h>

#include "daemon/ctl_proto.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct ctl_req req;
    char err[160];
    if (ctl_parse((const char *)data, size, &req, err, sizeof err) == 0) {
        assert(req.argc >= 0 && req.argc <= CTL_MAX_ARGS);
        for (int i = 0; i < req.argc; i++)
            assert(strlen(req.argv[i]) < CTL_MAX_ARG);
        assert(ctl_cmd_name(req.cmd) != NULL);
    } else {
        assert(memchr(err, '\0', sizeof err) != NULL);
    }
    return 0;
}
