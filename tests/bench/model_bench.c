/* model_bench.c — ns per score: logistic regression over 5 features, a random forest of 100 full
 * trees of depth 8 and gradient boosting of 100 such stages, written as packages into a scratch
 * directory, loaded and scored over random inputs; CPU time per score. Not a test:
 *   build/model_bench [records] */
#include "model/model.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/* CPU time of this thread: on a shared machine, wall time counts other processes' turns too */
static double now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

static void write_file(const char *dir, const char *name, const char *text)
{
    char path[4096];
    snprintf(path, sizeof(path), "%s/%s", dir, name);
    FILE *f = fopen(path, "w");
    if (!f || fputs(text, f) < 0 || fclose(f) != 0) {
        perror(path);
        exit(2);
    }
}

/* A full tree of depth `depth` over nf features, leaves of `width` values, appended to f. */
static void write_tree(FILE *f, int depth, int nf, int width)
{
    int internal = (1 << depth) - 1, total = (1 << (depth + 1)) - 1;
    fputs("[", f);
    for (int i = 0; i < total; i++) {
        if (i < internal)
            fprintf(f, "%s{\"feature\":%d,\"threshold\":%.6f,\"left\":%d,\"right\":%d}",
                    i ? "," : "", rand() % nf, (double)rand() / RAND_MAX, 2 * i + 1, 2 * i + 2);
        else {
            fprintf(f, "%s{\"value\":[", i ? "," : "");
            for (int k = 0; k < width; k++)
                fprintf(f, "%s%d", k ? "," : "", rand() % 10 + (width == 1 ? -5 : 0));
            fputs("]}", f);
        }
    }
    fputs("]", f);
}

static void write_trees(const char *dir, const char *kind, int ntrees, int depth, int nf)
{
    char path[4096];
    snprintf(path, sizeof(path), "%s/model.json", dir);
    FILE *f = fopen(path, "w");
    if (!f) {
        perror(path);
        exit(2);
    }
    bool boost = strcmp(kind, "gradient_boosting") == 0;
    fprintf(f,
            "{\"format\":\"streamrun-model\",\"version\":1,\"kind\":\"%s\",\"task\":"
            "\"classification\",\"n_features\":%d,\"n_classes\":2,%s\"%s\":[",
            kind, nf, boost ? "\"learning_rate\":0.1,\"init\":[0.2]," : "",
            boost ? "stages" : "trees");
    for (int t = 0; t < ntrees; t++) {
        fputs(t ? (boost ? ",[" : ",") : (boost ? "[" : ""), f);
        write_tree(f, depth, nf, boost ? 1 : 2);
        if (boost) fputs("]", f);
    }
    fputs("]}\n", f);
    fclose(f);
}

static void bench(const char *what, const char *dir, long records)
{
    sr_diag dg;
    sr_diag_init(&dg);
    sr_model *m;
    if (sr_model_load(&m, dir, &dg) < 0) {
        sr_diag_print(&dg, stderr, false, false);
        exit(1);
    }
    sr_diag_free(&dg);
    enum { NX = 1024 };
    double *xs = malloc(sizeof(double) * NX * (size_t)m->nfeatures);
    for (size_t i = 0; i < (size_t)NX * (size_t)m->nfeatures; i++)
        xs[i] = (double)rand() / RAND_MAX;
    double out[16];
    void *scratch = malloc(sr_model_scratch_size(m));
    char err[256];
    long sum = 0;
    double t0 = now_ns();
    for (long r = 0; r < records; r++)
        sum += sr_model_score(m, xs + (size_t)(r % NX) * (size_t)m->nfeatures, out, scratch, err,
                              sizeof(err));
    double ns = (now_ns() - t0) / (double)records;
    printf("%-48s %10.1f ns/score  (%ld records, checksum %ld)\n", what, ns, records, sum);
    free(scratch);
    free(xs);
    sr_model_destroy(m);
}

int main(int argc, char **argv)
{
    long records = argc > 1 ? atol(argv[1]) : 1000000;
    char dir[] = "/tmp/model_bench.XXXXXX";
    if (!mkdtemp(dir)) {
        perror("mkdtemp");
        return 2;
    }
    srand(1);
    write_file(dir, "config.json",
               "{\"input_schema\":{\"f1\":\"INTEGER\",\"f2\":\"INTEGER\",\"f3\":\"INTEGER\","
               "\"f4\":\"INTEGER\",\"f5\":\"INTEGER\"},\"output_labels\":[\"normal\",\"alert\"]}");
    write_file(dir, "model.json",
               "{\"format\":\"streamrun-model\",\"version\":1,\"kind\":\"logistic_regression\","
               "\"n_features\":5,\"multi_class\":\"ovr\",\"coef\":[[0.3,-0.2,0.1,0.05,-0.4]],"
               "\"intercept\":[0.7]}");
    bench("logistic regression, 5 features", dir, records * 10);
    write_trees(dir, "random_forest", 100, 8, 5);
    bench("random forest, 100 trees of depth 8, 5 features", dir, records / 10);
    write_trees(dir, "gradient_boosting", 100, 8, 5);
    bench("gradient boosting, 100 stages of depth 8", dir, records / 10);
    char path[4096];
    snprintf(path, sizeof(path), "%s/model.json", dir);
    unlink(path);
    snprintf(path, sizeof(path), "%s/config.json", dir);
    unlink(path);
    rmdir(dir);
    return 0;
}
