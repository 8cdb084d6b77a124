/* fuzz_expr.c — libFuzzer target: parse, type-check and evaluate any expression against a record.
 */
#include "exec/task.h"
#include "load/expr.h"

#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char err[256];
    sr_expr *e = sr_expr_compile_text((const char *)data, size, err, sizeof(err));
    if (!e) return 0;
    static const char rec[] = "{\"a\":1,\"b\":-2.5,\"s\":\"text\",\"t\":1715254403007507000,"
                              "\"arr\":[1,2,{\"x\":null}],\"o\":{\"k\":\"v\",\"n\":0},\"z\":null}";
    sr_topology topo = {0};
    sr_deployment dep = {.name = "fuzz"};
    sr_task t;
    sr_task_init(&t, &topo, &dep, 0);
    sr_record r = {0};
    char perr[64];
    size_t pos;
    if (sr_json_parse(&t.arena, rec, sizeof(rec) - 1, &r.value, perr, sizeof(perr), &pos) == 0) {
        r.key = sr_str("k", 1);
        r.ts = 1000;
        sr_value out;
        if (sr_expr_eval(e, &t, NULL, &r, &out) == 0) {
            sr_buf b = {0};
            sr_json_write(&b, &out);
            sr_buf_free(&b);
        }
        (void)sr_expr_test(e, &t, NULL, &r);
    }
    sr_task_destroy(&t);
    sr_expr_free(e);
    return 0;
}
