/* registry.c — the table of built-in operators; it also feeds the schema and the docs. */
#include "load/operator.h"

#include <string.h>

extern const sr_operator_type sr_op_filter, sr_op_select, sr_op_drop, sr_op_rename, sr_op_set,
    sr_op_explode, sr_op_pivot, sr_op_key, sr_op_timestamp, sr_op_route, sr_op_to, sr_op_print,
    sr_op_write, sr_op_model, sr_op_aggregate, sr_op_window, sr_op_dedupe, sr_op_lookup, sr_op_join,
    sr_op_fail;

const sr_operator_type *const sr_operators[] = {
    &sr_op_filter,  &sr_op_fail,   &sr_op_select, &sr_op_drop,      &sr_op_rename,    &sr_op_set,
    &sr_op_explode, &sr_op_pivot,  &sr_op_key,    &sr_op_timestamp, &sr_op_aggregate, &sr_op_window,
    &sr_op_dedupe,  &sr_op_lookup, &sr_op_join,   &sr_op_route,     &sr_op_to,        &sr_op_print,
    &sr_op_write,   &sr_op_model,  NULL,
};

const sr_operator_type *sr_operator_find(const char *name)
{
    for (int i = 0; sr_operators[i]; i++)
        if (strcmp(sr_operators[i]->name, name) == 0) return sr_operators[i];
    return NULL;
}

int sr_operator_count(void)
{
    int n = 0;
    while (sr_operators[n]) n++;
    return n;
}
