/* model_bench.c — ns per score: logistic regression over 5 features, a random forest of 100 full
 * trees of depth 8 and gradient boosting of 100 such stages, text classifiers (TF-IDF over a
 * vocabulary of unigrams and bigrams, and hashed counts) on 20-word texts, written as packages into
 * a scratch directory, loaded and scored over random inputs; CPU time per score. Not a test:
 *   build/model_bench [records]
 * With --write DIR N it writes instead the packages and N records that
 * tests/bench/model_step_bench.sh scores in pipelines. */
#include "model/model.h"
#include "model/model_text.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
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

/* dir/model.json, opened for writing (exits when it cannot be). */
static FILE *open_model_file(const char *dir)
{
    char path[4096];
    snprintf(path, sizeof(path), "%s/model.json", dir);
    FILE *f = fopen(path, "w");
    if (!f) {
        perror(path);
        exit(2);
    }
    return f;
}

static void write_trees(const char *dir, const char *kind, int ntrees, int depth, int nf)
{
    FILE *f = open_model_file(dir);
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

/* The package in dir; exits with its diagnostics when it does not load. */
static sr_model *load_or_exit(const char *dir)
{
    sr_diag dg;
    sr_diag_init(&dg);
    sr_model *m;
    if (sr_model_load(&m, dir, &dg) < 0) {
        sr_diag_print(&dg, stderr, false, false);
        exit(1);
    }
    sr_diag_free(&dg);
    return m;
}

static void bench(const char *what, const char *dir, long records)
{
    sr_model *m = load_or_exit(dir);
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

/* 20-word texts over a few hundred words, some capitalised, some accented, some not in the
 * vocabulary. */
enum { NTEXT = 256, NWORDS = 400 };
static char texts[NTEXT][512];

static void word(char *out, size_t n, int i)
{
    static const char *const stems[] = {"match", "rain", "caf\u00e9", "server", "Stra\u00dfe",
                                        "goal",  "snow", "pasta",     "bug",    "\u03a3\u03b1"};
    snprintf(out, n, "%s%d", stems[i % 10], i / 10);
}

static void write_text_model(const char *dir, bool hashing)
{
    FILE *f = open_model_file(dir);
    int width = hashing ? 1 << 16 : 2 * NWORDS;
    fprintf(f,
            "{\"format\":\"streamrun-model\",\"version\":1,\"kind\":\"logistic_regression\","
            "\"n_features\":%d,\"multi_class\":\"multinomial\",\"text\":{\"vectorizer\":\"%s\","
            "\"lowercase\":true,\"token_pattern\":\"(?u)\\\\b\\\\w\\\\w+\\\\b\","
            "\"ngram_range\":[1,2],\"binary\":false,\"norm\":\"l2\",",
            width, hashing ? "hashing" : "tfidf");
    if (hashing) {
        fputs("\"alternate_sign\":true},", f);
    } else {
        /* unigrams 0..NWORDS-1, then NWORDS bigrams of consecutive words */
        fputs("\"sublinear_tf\":true,\"vocabulary\":{", f);
        for (int i = 0; i < NWORDS; i++) {
            char w[64], v[64];
            word(w, sizeof(w), i);
            word(v, sizeof(v), (i + 1) % NWORDS);
            for (char *c = w; *c; c++) *c = *c == 'S' ? 's' : *c;
            for (char *c = v; *c; c++) *c = *c == 'S' ? 's' : *c;
            fprintf(f, "%s\"%s\":%d,\"%s %s\":%d", i ? "," : "", w, i, w, v, NWORDS + i);
        }
        fputs("},\"idf\":[", f);
        for (int i = 0; i < width; i++)
            fprintf(f, "%s%.4f", i ? "," : "", 1 + (double)rand() / RAND_MAX);
        fputs("]},", f);
    }
    fputs("\"coef\":[", f);
    for (int r = 0; r < 4; r++) {
        fputs(r ? ",[" : "[", f);
        for (int i = 0; i < width; i++)
            fprintf(f, "%s%.3f", i ? "," : "", (double)rand() / RAND_MAX - 0.5);
        fputs("]", f);
    }
    fputs("],\"intercept\":[0.1,-0.2,0.3,0]}\n", f);
    fclose(f);
}

static int cmp_int(const void *a, const void *b)
{
    int x = *(const int *)a, y = *(const int *)b;
    return (x > y) - (x < y);
}

/* A model over scikit-learn's default HashingVectorizer (2^20 columns, unigrams) whose
 * coefficients are non-zero in the columns of the texts' lower-case ASCII words and in 20,000
 * others (as a model trained on a corpus is): in the sparse form of coef, or dense. */
static void write_hashing_2_20(const char *dir, bool sparse)
{
    enum { WIDTH = 1 << 20, NOTHER = 20000 };
    int *cols = malloc(sizeof(int) * (NWORDS + 40 + NOTHER));
    int n = 0;
    srand(3);
    for (int i = 0; i < NWORDS + 40; i++) {
        char w[64];
        word(w, sizeof(w), i);
        bool ascii_lower = true;
        for (const char *c = w; *c; c++)
            ascii_lower &= (*c >= 'a' && *c <= 'z') || (*c >= '0' && *c <= '9');
        if (!ascii_lower) continue;
        int32_t h = sr_murmurhash3_32(w, strlen(w), 0);
        cols[n++] = (int)(h < 0 ? -(int64_t)h % WIDTH : h % WIDTH);
    }
    for (int i = 0; i < NOTHER; i++) cols[n++] = rand() % WIDTH;
    qsort(cols, (size_t)n, sizeof(int), cmp_int);
    int u = 0;
    for (int i = 0; i < n; i++)
        if (!u || cols[u - 1] != cols[i]) cols[u++] = cols[i];
    FILE *f = open_model_file(dir);
    fprintf(f,
            "{\"format\":\"streamrun-model\",\"version\":1,\"kind\":\"logistic_regression\","
            "\"n_features\":%d,\"multi_class\":\"multinomial\",\"text\":{\"vectorizer\":"
            "\"hashing\",\"lowercase\":true,\"token_pattern\":\"(?u)\\\\b\\\\w\\\\w+\\\\b\","
            "\"ngram_range\":[1,1],\"binary\":false,\"norm\":\"l2\",\"alternate_sign\":true},",
            WIDTH);
    if (sparse) {
        fputs("\"coef\":{\"sparse\":true,\"columns\":[", f);
        for (int i = 0; i < u; i++) fprintf(f, "%s%d", i ? "," : "", cols[i]);
        fputs("],\"values\":[", f);
        for (int r = 0; r < 4; r++) {
            fputs(r ? ",[" : "[", f);
            for (int i = 0; i < u; i++)
                fprintf(f, "%s%.3f", i ? "," : "", (double)rand() / RAND_MAX - 0.5);
            fputs("]", f);
        }
        fputs("]}", f);
    } else {
        fputs("\"coef\":[", f);
        for (int r = 0; r < 4; r++) {
            fputs(r ? ",[" : "[", f);
            for (int i = 0, j = 0; i < WIDTH; i++) {
                if (j < u && cols[j] == i) {
                    fprintf(f, "%s%.3f", i ? "," : "", (double)rand() / RAND_MAX - 0.5);
                    j++;
                } else {
                    fputs(i ? ",0" : "0", f);
                }
            }
            fputs("]", f);
        }
        fputs("]", f);
    }
    fputs(",\"intercept\":[0.1,-0.2,0.3,0]}\n", f);
    fclose(f);
    free(cols);
}

/* texts[]: 20-word texts over the vocabulary's words, some not in it (the same every call). */
static void make_texts(void)
{
    srand(2);
    for (int t = 0; t < NTEXT; t++) {
        size_t at = 0;
        for (int w = 0; w < 20; w++) {
            char one[64];
            word(one, sizeof(one),
                 rand() % (NWORDS + 40)); /* some words are not in the vocabulary */
            /* the stems' JSON escapes as UTF-8: the words are written for the package file */
            const char *from[] = {"\\u00e9", "\\u00df", "\\u03a3", "\\u03b1"};
            const char *to[] = {"\u00e9", "\u00df", "\u03a3", "\u03b1"};
            for (int k = 0; k < 4; k++) {
                char *p = strstr(one, from[k]);
                if (p) {
                    size_t tl = strlen(to[k]);
                    memmove(p + tl, p + 6, strlen(p + 6) + 1);
                    memcpy(p, to[k], tl);
                }
            }
            at += (size_t)snprintf(texts[t] + at, sizeof(texts[t]) - at, "%s%s", w ? " " : "", one);
        }
    }
}

static void bench_text(const char *what, const char *dir, long records)
{
    double l0 = now_ns();
    sr_model *m = load_or_exit(dir);
    double load_ms = (now_ns() - l0) / 1e6;
    make_texts();
    double out[16];
    void *scratch = malloc(sr_model_scratch_size(m));
    char err[256];
    long sum = 0;
    double t0 = now_ns();
    for (long r = 0; r < records; r++) {
        const char *t = texts[r % NTEXT];
        sum += sr_model_score_text(m, t, strlen(t), out, scratch, err, sizeof(err));
    }
    double ns = (now_ns() - t0) / (double)records;
    printf("%-48s %10.1f ns/score  (%ld records, checksum %ld; loaded in %.0f ms)\n", what, ns,
           records, sum, load_ms);
    free(scratch);
    sr_model_destroy(m);
}

/* sub/ of dir, created. */
static void subdir(char *out, size_t n, const char *dir, const char *sub)
{
    snprintf(out, n, "%s/%s", dir, sub);
    if (mkdir(out, 0755) != 0 && errno != EEXIST) {
        perror(out);
        exit(2);
    }
}

/* The packages of the pipeline benchmark (tests/bench/model_step_bench.sh) in dir — logistic/
 * (f1..f5, INTEGER), forest/ (100 trees of depth 8 over g1..g5, DOUBLE), text/ (TF-IDF over
 * `text`) — and dir/records.jsonl: n records {id, f1..f5 (0..9), g1..g5 (0..1), text (20 words)}
 * that feed all three. */
static int write_pipeline_inputs(const char *dir, long n)
{
    char sub[4096];
    srand(1);
    subdir(sub, sizeof(sub), dir, "logistic");
    write_file(sub, "config.json",
               "{\"input_schema\":{\"f1\":\"INTEGER\",\"f2\":\"INTEGER\",\"f3\":\"INTEGER\","
               "\"f4\":\"INTEGER\",\"f5\":\"INTEGER\"},\"output_labels\":[\"normal\",\"alert\"]}");
    write_file(sub, "model.json",
               "{\"format\":\"streamrun-model\",\"version\":1,\"kind\":\"logistic_regression\","
               "\"n_features\":5,\"multi_class\":\"ovr\",\"coef\":[[0.3,-0.2,0.1,0.05,-0.4]],"
               "\"intercept\":[0.7]}");
    subdir(sub, sizeof(sub), dir, "forest");
    write_file(sub, "config.json",
               "{\"input_schema\":{\"g1\":\"DOUBLE\",\"g2\":\"DOUBLE\",\"g3\":\"DOUBLE\","
               "\"g4\":\"DOUBLE\",\"g5\":\"DOUBLE\"},\"output_labels\":[\"normal\",\"alert\"]}");
    write_trees(sub, "random_forest", 100, 8, 5);
    subdir(sub, sizeof(sub), dir, "text");
    write_file(
        sub, "config.json",
        "{\"input_schema\":{\"text\":\"STRING\"},\"output_labels\":[\"a\",\"b\",\"c\",\"d\"]}");
    write_text_model(sub, false);
    make_texts();
    char path[4096];
    snprintf(path, sizeof(path), "%s/records.jsonl", dir);
    FILE *f = fopen(path, "w");
    if (!f) {
        perror(path);
        return 2;
    }
    for (long r = 0; r < n; r++) {
        fprintf(f, "{\"id\":%ld", r);
        for (int i = 1; i <= 5; i++) fprintf(f, ",\"f%d\":%d", i, rand() % 10);
        for (int i = 1; i <= 5; i++) fprintf(f, ",\"g%d\":%.6f", i, (double)rand() / RAND_MAX);
        fprintf(f, ",\"text\":\"%s\"}\n", texts[rand() % NTEXT]);
    }
    if (fclose(f) != 0) {
        perror(path);
        return 2;
    }
    return 0;
}

int main(int argc, char **argv)
{
    if (argc == 4 && strcmp(argv[1], "--write") == 0)
        return write_pipeline_inputs(argv[2], atol(argv[3]));
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
    write_file(
        dir, "config.json",
        "{\"input_schema\":{\"text\":\"STRING\"},\"output_labels\":[\"a\",\"b\",\"c\",\"d\"]}");
    write_text_model(dir, false);
    bench_text("text: tfidf 1-2-grams, 800 terms, 4 classes, 20 words", dir, records / 10);
    write_text_model(dir, true);
    bench_text("text: hashing 2^16, 1-2-grams, 4 classes, 20 words", dir, records / 10);
    write_hashing_2_20(dir, false);
    bench_text("text: hashing 2^20 dense, 4 classes, 20 words", dir, records / 10);
    write_hashing_2_20(dir, true);
    bench_text("text: hashing 2^20 sparse, 4 classes, 20 words", dir, records / 10);
    char path[4096];
    snprintf(path, sizeof(path), "%s/model.json", dir);
    unlink(path);
    snprintf(path, sizeof(path), "%s/config.json", dir);
    unlink(path);
    rmdir(dir);
    return 0;
}
