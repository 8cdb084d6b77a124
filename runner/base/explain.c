/* explain.c — finds the long explanation of a diagnostic code. */
#include "base/explain.h"

#include <string.h>

const char *sr_explain_text(sr_code c)
{
    const char *id = sr_code_id(c);
    if (!id) return NULL;
    for (const sr_explain_entry *e = sr_explain_entries; e->id; e++)
        if (strcmp(e->id, id) == 0) return e->text;
    return NULL;
}
