/* test_model_slot.c — replacing a model package while threads score with it
 * (runner/model/model_slot.h): every score comes whole from the old model or from the new one,
 * each thread moves to the new model at its next record, an incompatible or broken package is
 * refused and the running model stays, a change is read only once the files hold still, and
 * the replaced model is freed once its last holder lets go (LeakSanitizer checks that). */
#include "model/model_slot.h"
#include "test.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static char dir[64];

static void write_file(const char *name, const char *text)
{
    char path[128], tmp[140];
    snprintf(path, sizeof(path), "%s/%s", dir, name);
    snprintf(tmp, sizeof(tmp), "%s.tmp", path);
    FILE *f = fopen(tmp, "w");
    if (!f) abort();
    fputs(text, f);
    fclose(f);
    if (rename(tmp, path) != 0) abort(); /* as a user should replace it: whole */
}

/* A one-input logistic model whose probability of class 1 is logistic(intercept) for x = 0. */
static void write_model(double intercept)
{
    char text[256];
    snprintf(text, sizeof(text),
             "{\"format\": \"streamrun-model\", \"version\": 1, \"kind\": \"logistic_regression\","
             " \"n_features\": 1, \"multi_class\": \"ovr\", \"coef\": [[1.0]], \"intercept\": "
             "[%g]}",
             intercept);
    write_file("model.json", text);
}

static void write_config(const char *labels)
{
    char text[256];
    snprintf(text, sizeof(text), "{\"input_schema\": {\"x\": \"DOUBLE\"}, \"output_labels\": %s}",
             labels);
    write_file("config.json", text);
}

/* A random forest over x of ntrees full trees of the given depth: a model.json of megabytes,
 * whose load takes a while. */
static void write_forest(int ntrees, int depth)
{
    char path[128], tmp[140];
    snprintf(path, sizeof(path), "%s/model.json", dir);
    snprintf(tmp, sizeof(tmp), "%s.tmp", path);
    FILE *f = fopen(tmp, "w");
    if (!f) abort();
    fprintf(f, "{\"format\": \"streamrun-model\", \"version\": 1, \"kind\": \"random_forest\", "
               "\"task\": \"classification\", \"n_features\": 1, \"n_classes\": 2, \"trees\": [");
    int internal = (1 << depth) - 1, total = (1 << (depth + 1)) - 1;
    for (int t = 0; t < ntrees; t++) {
        fputs(t ? ",[" : "[", f);
        for (int i = 0; i < total; i++)
            if (i < internal)
                fprintf(f, "%s{\"feature\": 0, \"threshold\": %d.5, \"left\": %d, \"right\": %d}",
                        i ? "," : "", i, 2 * i + 1, 2 * i + 2);
            else
                fprintf(f, "%s{\"value\": [%d, 1]}", i ? "," : "", i % 7);
        fputs("]", f);
    }
    fputs("]}\n", f);
    fclose(f);
    if (rename(tmp, path) != 0) abort();
}

/* Replaces the package's model by a logistic regression 20 ms from now (while a load reads the
 * forest). */
static void *replace_soon(void *arg)
{
    (void)arg;
    struct timespec ts = {0, 20 * 1000 * 1000};
    nanosleep(&ts, NULL);
    write_model(-2);
    return NULL;
}

static sr_model_slot *slot;
static atomic_bool stop;

/* Scores x = 0 until told to stop: every probability must be one of the two models' (2 and -2
 * as intercepts); counts the records each model scored and when the thread first saw the new
 * one. */
typedef struct scorer {
    long old_n, new_n, torn;
    long new_after_old; /* an old score after a new one: a thread went back */
} scorer;

static void *score_loop(void *arg)
{
    scorer *sc = arg;
    sr_model_hold h = {0};
    const sr_model *m = sr_model_slot_get(slot, &h);
    void *scratch = malloc(sr_model_scratch_size(m) + 64);
    double x = 0, out[2];
    char err[128];
    while (!atomic_load(&stop) || sc->new_n == 0) {
        m = sr_model_slot_get(slot, &h);
        if (sr_model_score(m, &x, out, scratch, err, sizeof(err)) < 0) abort();
        if (out[1] > 0.88 && out[1] < 0.881) { /* logistic(2) = 0.8808 */
            if (sc->new_n) sc->new_after_old++;
            sc->old_n++;
        } else if (out[1] > 0.119 && out[1] < 0.12) { /* logistic(-2) = 0.1192 */
            sc->new_n++;
        } else {
            sc->torn++;
        }
    }
    sr_model_slot_put(slot, &h);
    CHECK(h.m == NULL);
    free(scratch);
    return NULL;
}

static void settle(void)
{
    /* a file system's mtime may be coarse: a rewrite within the same tick must still show, so
     * the test waits past it */
    struct timespec ts = {0, 20 * 1000 * 1000};
    nanosleep(&ts, NULL);
}

int main(void)
{
    snprintf(dir, sizeof(dir), "/tmp/sr-model-slot-%d", (int)getpid());
    if (mkdir(dir, 0700) != 0) abort();
    write_config("[\"no\", \"yes\"]");
    write_model(2);

    sr_diag dg;
    sr_diag_init(&dg);
    slot = sr_model_slot_open(dir, &dg);
    CHECK(slot != NULL && dg.nerrors == 0);
    if (!slot) return TEST_END();
    CHECK(sr_model_slot_generation(slot) == 1);
    CHECK_STR(sr_model_slot_dir(slot), dir);
    /* what a step borrows from the opened model before scoring starts (its input names) */
    const char *input = sr_model_slot_peek(slot)->fields[0].name;
    const char *class1 = sr_model_slot_peek(slot)->labels[1];

    /* nothing changed: nothing reloaded */
    CHECK(sr_model_slots_reload(false, stderr) == 0);
    CHECK(sr_model_slot_generation(slot) == 1);

    /* two threads score while the package is replaced under them */
    pthread_t th[2];
    scorer sc[2] = {{0}};
    for (int i = 0; i < 2; i++) pthread_create(&th[i], NULL, score_loop, &sc[i]);
    settle();
    write_model(-2);
    /* the change is seen first, and read only at the next look when it held still */
    CHECK(sr_model_slots_reload(false, stderr) == 0);
    CHECK(sr_model_slot_generation(slot) == 1);
    CHECK(sr_model_slots_reload(false, stderr) == 1);
    CHECK(sr_model_slot_generation(slot) == 2);
    atomic_store(&stop, true);
    for (int i = 0; i < 2; i++) {
        pthread_join(th[i], NULL);
        CHECK(sc[i].torn == 0);
        CHECK(sc[i].new_after_old == 0);
        CHECK(sc[i].old_n > 0);
        CHECK(sc[i].new_n > 0);
    }
    /* the opened model was replaced and let go by every holder: its names stay (a step reads its
     * inputs by them), the rest is freed (LeakSanitizer) */
    CHECK_STR(input, "x");
    CHECK_STR(class1, "yes");

    /* other class names: refused, the running model stays */
    settle();
    write_config("[\"low\", \"high\"]");
    CHECK(sr_model_slots_reload(true, stderr) == 0);
    CHECK(sr_model_slot_generation(slot) == 2);
    sr_model_hold h = {0};
    const sr_model *m = sr_model_slot_get(slot, &h);
    CHECK_STR(m->labels[1], "yes");

    /* a broken model file: refused, reported, the running model stays */
    settle();
    write_config("[\"no\", \"yes\"]");
    write_file("model.json", "{\"format\": \"streamrun-model\", \"version\": 1}");
    CHECK(sr_model_slots_reload(true, stderr) == 0);
    CHECK(sr_model_slot_get(slot, &h) == m);

    /* repaired: published at the next force; the holder moves at its next get */
    settle();
    write_model(5);
    CHECK(sr_model_slots_reload(true, stderr) == 1);
    CHECK(sr_model_slot_generation(slot) == 3);
    CHECK(h.m == m); /* still held until the next get */
    const sr_model *m3 = sr_model_slot_get(slot, &h);
    CHECK(m3 != m && h.gen == 3);
    double x = 0, out[2];
    char err[128];
    void *scratch = malloc(sr_model_scratch_size(m3) + 64);
    CHECK(sr_model_score(m3, &x, out, scratch, err, sizeof(err)) == 1 && out[1] > 0.99);
    free(scratch);
    sr_model_slot_put(slot, &h);

    /* replaced while it is being read: the load read the files as they were, and the change made
     * during it is taken at the next looks, not lost */
    settle();
    write_forest(400, 8);
    CHECK(sr_model_slots_reload(true, stderr) == 1);
    CHECK(sr_model_slot_generation(slot) == 4);
    settle();
    pthread_t writer;
    pthread_create(&writer, NULL, replace_soon, NULL);
    CHECK(sr_model_slots_reload(true, stderr) == 1); /* reads the forest, replaced meanwhile */
    pthread_join(writer, NULL);
    uint64_t gen = sr_model_slot_generation(slot);
    CHECK(gen == 5);
    sr_model_slots_reload(false, stderr); /* seen changed */
    sr_model_slots_reload(false, stderr); /* held still: read */
    const sr_model *m6 = sr_model_slot_get(slot, &h);
    CHECK(sr_model_slot_generation(slot) == 6);
    CHECK(m6->kind == SR_MODEL_LOGISTIC_REGRESSION);
    sr_model_slot_put(slot, &h);

    sr_model_slot_close(slot);
    sr_diag_free(&dg);
    char cmd[128];
    snprintf(cmd, sizeof(cmd), "rm -r %s", dir);
    CHECK(system(cmd) == 0);
    return TEST_END();
}
