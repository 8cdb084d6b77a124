/* test_model.c — model packages through the C API: the float32 comparison at a tree threshold,
 * inputs a model cannot take, reading inputs from a record and writing the prediction into it. */
#include "model/model.h"
#include "test.h"

#include <math.h>
#include <stdlib.h>

static sr_model *load(const char *dir)
{
    sr_diag dg;
    sr_diag_init(&dg);
    sr_model *m = NULL;
    if (sr_model_load(&m, dir, &dg) < 0) sr_diag_print(&dg, stderr, false, false);
    sr_diag_free(&dg);
    return m;
}

static void test_threshold(void)
{
    /* split: speed <= 0.1 (compared as float32) -> [3, 1], else [0, 2] */
    sr_model *m = load("tests/model/packages/split");
    CHECK(m && m->nclasses == 2 && m->nfeatures == 2);
    if (!m) return;
    void *scratch = malloc(sr_model_scratch_size(m));
    double out[2];
    char err[256];
    double below = (double)nextafterf(0.1f, 0.0f); /* the float32 just under 0.1 */
    double x1[2] = {below, 1};
    CHECK(sr_model_score(m, x1, out, scratch, err, sizeof(err)) == 0);
    CHECK(out[0] == 0.75 && out[1] == 0.25);
    /* 0.1 itself rounds up to float32 0.100000001490116...: above the threshold */
    double x2[2] = {0.1, 1};
    CHECK(sr_model_score(m, x2, out, scratch, err, sizeof(err)) == 1);
    CHECK(out[0] == 0.0 && out[1] == 1.0);
    /* halfway between the two float32s: a tie, rounded to the even one, `below` (left); the
     * next double up rounds to 0.1f (right), though as a double it is under the threshold */
    double mid = (below + (double)0.1f) / 2;
    double x3[2] = {mid, 1}, x4[2] = {nextafter(mid, 1), 1};
    CHECK(mid < 0.1 && nextafter(mid, 1) < 0.1);
    CHECK(sr_model_score(m, x3, out, scratch, err, sizeof(err)) == 0);
    CHECK(sr_model_score(m, x4, out, scratch, err, sizeof(err)) == 1);
    /* inputs a tree cannot take */
    double nan_x[2] = {NAN, 1}, inf_x[2] = {INFINITY, 1}, big_x[2] = {1e39, 1};
    CHECK(sr_model_score(m, nan_x, out, scratch, err, sizeof(err)) == -1);
    CHECK_STR(err, "'speed' is not a finite number");
    CHECK(sr_model_score(m, inf_x, out, scratch, err, sizeof(err)) == -1);
    CHECK(sr_model_score(m, big_x, out, scratch, err, sizeof(err)) == -1);
    CHECK_STR(err, "'speed' is 1e+39, too large for float32 (the trees compare float32)");
    free(scratch);
    sr_model_destroy(m);
}

static void test_record(void)
{
    sr_model *m = load("tests/model/packages/alert");
    CHECK(m != NULL);
    if (!m) return;
    sr_arena a;
    sr_arena_init(&a, 4096);
    char err[256];
    double x[5], out[2];
    void *scratch = malloc(sr_model_scratch_size(m));
    sr_value rec;
    const char *text = "{\"f1\":1,\"f2\":2,\"f3\":3,\"f4\":4,\"f5\":5,\"id\":\"a\"}";
    CHECK(sr_json_parse(&a, text, strlen(text), &rec, err, sizeof(err), NULL) == 0);
    CHECK(sr_model_read_inputs(m, &rec, NULL, NULL, x, err, sizeof(err)) == 0);
    CHECK(x[0] == 1 && x[4] == 5);
    int label = sr_model_score(m, x, out, scratch, err, sizeof(err));
    CHECK(label == 0);
    /* d = 0.25 - 1 + 0.375 + 4 - 3.75 - 1 = -1.125 */
    CHECK(out[1] == 1.0 / (1.0 + exp(1.125)) && out[0] == 1.0 - out[1]);
    sr_model_write_outputs(m, &a, &rec, label, out, 0.2);
    sr_buf b = {0};
    sr_json_write(&b, &rec);
    CHECK_STR(sr_buf_cstr(&b),
              "{\"f1\":1,\"f2\":2,\"f3\":3,\"f4\":4,\"f5\":5,\"id\":\"a\",\"label\":"
              "\"normal\",\"label_index\":0,\"probabilities\":{\"normal\":"
              "0.7549149868676283,\"alert\":0.24508501313237172},\"decision\":"
              "true}");
    sr_buf_free(&b);

    /* an INTEGER input takes integers only; names can come from elsewhere */
    const char *bad[][2] = {
        {"{\"f1\":1.5,\"f2\":2,\"f3\":3,\"f4\":4,\"f5\":5}",
         "f1: the model's input is an INTEGER, not a non-integer number"},
        {"{\"f1\":\"1\",\"f2\":2,\"f3\":3,\"f4\":4,\"f5\":5}",
         "f1: the model's input is an INTEGER, not string"},
        {"{\"f1\":1,\"f2\":2,\"f3\":3,\"f4\":4,\"f5\":null}",
         "f5: field is null (the model's input INTEGER)"},
        {"{\"f1\":1,\"f2\":2,\"f3\":3,\"f4\":4}",
         "f5: field is missing (the model's input INTEGER)"},
        {"[1,2,3,4,5]", "the record must be a JSON object, not array"},
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        CHECK(sr_json_parse(&a, bad[i][0], strlen(bad[i][0]), &rec, err, sizeof(err), NULL) == 0);
        CHECK(sr_model_read_inputs(m, &rec, NULL, NULL, x, err, sizeof(err)) == -1);
        CHECK_STR(err, bad[i][1]);
    }
    /* with hints: records of one shape, then of another, then without a field, read the same
     * as without them */
    {
        uint32_t hints[5] = {0, 0, 0, 99, 7};
        const char *shapes[] = {"{\"f1\":1,\"f2\":2,\"f3\":3,\"f4\":4,\"f5\":5}",
                                "{\"f1\":1,\"f2\":2,\"f3\":3,\"f4\":4,\"f5\":5}",
                                "{\"x\":0,\"f5\":5,\"f4\":4,\"f3\":3,\"f2\":2,\"f1\":1}",
                                "{\"f1\":1,\"f2\":2,\"f3\":3,\"f4\":4}"};
        for (int k = 0; k < 4; k++) {
            CHECK(sr_json_parse(&a, shapes[k], strlen(shapes[k]), &rec, err, sizeof(err), NULL) ==
                  0);
            int rc = sr_model_read_inputs(m, &rec, NULL, hints, x, err, sizeof(err));
            if (k < 3) {
                CHECK(rc == 0);
                for (int f = 0; f < 5; f++) CHECK(x[f] == f + 1);
                if (k == 2) CHECK(hints[0] == 5 && hints[4] == 1); /* where this shape has them */
            } else {
                CHECK(rc == -1);
                CHECK_STR(err, "f5: field is missing (the model's input INTEGER)");
            }
        }
        CHECK(hints[0] == 0 && hints[4] == 1); /* f5 not found: its place stays */
    }
    const char *names[] = {"a", "b", "c", "d", "e"};
    text = "{\"e\":5,\"d\":4,\"c\":3,\"b\":2,\"a\":1e0}";
    CHECK(sr_json_parse(&a, text, strlen(text), &rec, err, sizeof(err), NULL) == 0);
    CHECK(sr_model_read_inputs(m, &rec, names, NULL, x, err, sizeof(err)) ==
          -1); /* 1e0: not integer */
    text = "{\"e\":5,\"d\":4,\"c\":3,\"b\":2,\"a\":1}";
    CHECK(sr_json_parse(&a, text, strlen(text), &rec, err, sizeof(err), NULL) == 0);
    CHECK(sr_model_read_inputs(m, &rec, names, NULL, x, err, sizeof(err)) == 0);
    CHECK(x[0] == 1 && x[1] == 2 && x[4] == 5);
    free(scratch);
    sr_arena_free(&a);
    sr_model_destroy(m);
}

static void test_load_errors(void)
{
    sr_diag dg;
    sr_diag_init(&dg);
    sr_model *m = (sr_model *)&dg; /* must be reset to NULL */
    CHECK(sr_model_load(&m, "tests/model/errors/004-tree-child-out-of-range", &dg) == -1);
    CHECK(m == NULL);
    CHECK(dg.nerrors == 5);
    CHECK(sr_model_load(&m, "tests/model/no-such-package", &dg) == -1);
    CHECK(dg.nerrors == 6);
    sr_diag_free(&dg);
}

int main(void)
{
    test_threshold();
    test_record();
    test_load_errors();
    return TEST_END();
}
