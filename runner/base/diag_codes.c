/* diag_codes.c — ids and titles of the stable diagnostic codes. */
#include "base/diag_codes.h"

#include <assert.h>
#include <strings.h>

static const struct {
    const char *id, *title;
} codes[SR_CODE_COUNT] = {
    [SR_CODE_NONE] = {0, 0},
#define SR_CODE(name, id_, title_) [name] = {id_, title_},
#include "base/diag_codes.def"
#undef SR_CODE
};

const char *sr_code_id(sr_code c)
{
    assert(c >= 0 && c < SR_CODE_COUNT);
    return codes[c].id;
}

const char *sr_code_title(sr_code c)
{
    assert(c >= 0 && c < SR_CODE_COUNT);
    return codes[c].title;
}

sr_code sr_code_find(const char *s)
{
    if (!s) return SR_CODE_NONE;
    for (int c = 1; c < SR_CODE_COUNT; c++)
        if (strcasecmp(codes[c].id, s) == 0) return (sr_code)c;
    return SR_CODE_NONE;
}
