/* model_slot.c — model packages that can be replaced while they score (model_slot.h). */
#include "model/model_slot.h"
#include "base/arena.h"
#include "model/model_text.h"

#include <assert.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

/* One loaded model and how many hold it (the slot counts as one while it is current). */
typedef struct entry {
    sr_model *m;
    int refs;    /* @locks the slot's mutex */
    bool opened; /* the model the slot was opened with: its names outlive it (sr_model_free_scoring)
                  */
} entry;

/* What a package's files looked like: a change to any of these is a change of the package. */
typedef struct filestamp {
    dev_t dev;
    ino_t ino;
    off_t size;
    struct timespec mtime;
    bool exists;
} filestamp;

enum { NSTAMPS = 2 }; /* config.json and the model file */

struct sr_model_slot {
    char *dir;
    sr_model *opened; /* the model opened with: kept (stripped) until close, see model_slot.h */
    pthread_mutex_t lock;
    entry *cur;                 /* @locks lock */
    _Atomic uint64_t gen;       /* written under lock, read without it */
    filestamp loaded[NSTAMPS];  /* the files the current model (or the last attempt) came from */
    filestamp seen[NSTAMPS];    /* as the previous sr_model_slots_reload saw them */
    bool pending;               /* changed since loaded: reload once seen twice the same */
    struct sr_model_slot *next; /* the slot list, @locks slots_lock */
};

static pthread_mutex_t slots_lock = PTHREAD_MUTEX_INITIALIZER;
static sr_model_slot *slots;

static void stamp_file(filestamp *fs, const char *path)
{
    struct stat st;
    memset(fs, 0, sizeof(*fs));
    if (stat(path, &st) != 0) return;
    fs->exists = true;
    fs->dev = st.st_dev;
    fs->ino = st.st_ino;
    fs->size = st.st_size;
    fs->mtime = st.st_mtim;
}

static bool stamp_equal(const filestamp *a, const filestamp *b)
{
    return a->exists == b->exists && a->dev == b->dev && a->ino == b->ino && a->size == b->size &&
           a->mtime.tv_sec == b->mtime.tv_sec && a->mtime.tv_nsec == b->mtime.tv_nsec;
}

/* The stamps of dir's config.json and of the model file it names (model.json when config.json
 * cannot be read or names none: a change that makes it readable shows as config.json's). */
static void stamp_package(filestamp out[NSTAMPS], const char *dir, const sr_model *m)
{
    char *path = NULL;
    if (asprintf(&path, "%s/config.json", dir) < 0) abort();
    stamp_file(&out[0], path);
    free(path);
    const char *file = m && m->file ? m->file : "model.json";
    if (asprintf(&path, "%s/%s", dir, file) < 0) abort();
    stamp_file(&out[1], path);
    free(path);
}

static entry *entry_new(sr_model *m)
{
    entry *e = sr_xcalloc(1, sizeof(*e));
    e->m = m;
    e->refs = 1; /* the slot's */
    return e;
}

/* @locks s->lock held */
static void entry_unref(entry *e)
{
    assert(e->refs > 0);
    if (--e->refs > 0) return;
    if (e->opened)
        sr_model_free_scoring(e->m); /* its names stay: the slot's `opened` frees them */
    else
        sr_model_destroy(e->m);
    free(e);
}

/* Sets out to the stamps of what a load of dir read: before (taken before it read, with the
 * model file `file`) when the model it loaded names that file, so that a change made while it
 * read shows at the next look; else (another model file) as they are now. */
static void stamp_loaded(filestamp out[NSTAMPS], const filestamp before[NSTAMPS], const char *dir,
                         const char *file, const sr_model *m)
{
    if (m && strcmp(m->file, file) != 0)
        stamp_package(out, dir, m);
    else
        memcpy(out, before, sizeof(filestamp) * NSTAMPS);
}

sr_model_slot *sr_model_slot_open(const char *dir, sr_diag *dg)
{
    sr_model *m = NULL;
    filestamp before[NSTAMPS];
    stamp_package(before, dir, NULL);
    if (sr_model_load(&m, dir, dg) < 0) return NULL;
    sr_model_slot *s = sr_xcalloc(1, sizeof(*s));
    s->dir = sr_xstrdup(dir);
    pthread_mutex_init(&s->lock, NULL);
    s->cur = entry_new(m);
    s->cur->opened = true;
    s->opened = m;
    atomic_init(&s->gen, 1);
    stamp_loaded(s->loaded, before, dir, "model.json", m);
    memcpy(s->seen, s->loaded, sizeof(s->seen));
    pthread_mutex_lock(&slots_lock);
    s->next = slots;
    slots = s;
    pthread_mutex_unlock(&slots_lock);
    return s;
}

void sr_model_slot_close(sr_model_slot *s)
{
    if (!s) return;
    pthread_mutex_lock(&slots_lock);
    for (sr_model_slot **pp = &slots; *pp; pp = &(*pp)->next)
        if (*pp == s) {
            *pp = s->next;
            break;
        }
    pthread_mutex_unlock(&slots_lock);
    pthread_mutex_lock(&s->lock);
    assert(s->cur->refs == 1); /* every hold was put back */
    entry_unref(s->cur);
    pthread_mutex_unlock(&s->lock);
    pthread_mutex_destroy(&s->lock);
    sr_model_destroy(s->opened);
    free(s->dir);
    free(s);
}

const sr_model *sr_model_slot_peek(sr_model_slot *s)
{
    pthread_mutex_lock(&s->lock);
    const sr_model *m = s->cur->m;
    pthread_mutex_unlock(&s->lock);
    return m;
}

const sr_model *sr_model_slot_get(sr_model_slot *s, sr_model_hold *h)
{
    uint64_t gen = atomic_load_explicit(&s->gen, memory_order_acquire);
    if (h->m && h->gen == gen) return h->m;
    pthread_mutex_lock(&s->lock);
    entry *e = s->cur;
    e->refs++;
    if (h->entry) entry_unref(h->entry);
    h->entry = e;
    h->m = e->m;
    h->gen = atomic_load_explicit(&s->gen, memory_order_relaxed); /* e's: both move under lock */
    pthread_mutex_unlock(&s->lock);
    return h->m;
}

void sr_model_slot_put(sr_model_slot *s, sr_model_hold *h)
{
    if (!h->entry) return;
    pthread_mutex_lock(&s->lock);
    entry_unref(h->entry);
    pthread_mutex_unlock(&s->lock);
    memset(h, 0, sizeof(*h));
}

const char *sr_model_slot_dir(const sr_model_slot *s)
{
    return s->dir;
}

uint64_t sr_model_slot_generation(const sr_model_slot *s)
{
    return atomic_load_explicit(&s->gen, memory_order_acquire);
}

/* Why the model n cannot replace o, in why; false when it can. */
static bool incompatible(const sr_model *o, const sr_model *n, char *why, size_t len)
{
    if (o->nfeatures != n->nfeatures) {
        snprintf(why, len, "it has %d inputs where the running model has %d", n->nfeatures,
                 o->nfeatures);
        return true;
    }
    for (int i = 0; i < o->nfeatures; i++)
        if (strcmp(o->fields[i].name, n->fields[i].name) != 0 ||
            o->fields[i].type != n->fields[i].type) {
            snprintf(why, len, "its input %d is %s %s where the running model's is %s %s", i + 1,
                     n->fields[i].name, sr_field_type_name(n->fields[i].type), o->fields[i].name,
                     sr_field_type_name(o->fields[i].type));
            return true;
        }
    if (o->nclasses != n->nclasses) {
        snprintf(why, len, "it has %d classes where the running model has %d", n->nclasses,
                 o->nclasses);
        return true;
    }
    for (int k = 0; k < o->nclasses; k++)
        if (strcmp(o->labels[k], n->labels[k]) != 0) {
            snprintf(why, len, "its class %d is '%s' where the running model's is '%s'", k,
                     n->labels[k], o->labels[k]);
            return true;
        }
    return false;
}

/* Loads s's package again and publishes it when it is compatible. Returns 1 when published. */
static int reload_slot(sr_model_slot *s, FILE *log)
{
    sr_diag dg;
    sr_diag_init(&dg);
    sr_model *m = NULL;
    const sr_model *cur = sr_model_slot_peek(s);
    filestamp before[NSTAMPS];
    stamp_package(before, s->dir, cur);
    int rc = sr_model_load(&m, s->dir, &dg);
    /* what this attempt read: a change after it started reading is a new one */
    stamp_loaded(s->loaded, before, s->dir, cur->file, m);
    memcpy(s->seen, s->loaded, sizeof(s->seen));
    s->pending = false;
    if (rc < 0) {
        fprintf(log, "model package '%s' changed but cannot be loaded; the running model stays:\n",
                s->dir);
        sr_diag_print(&dg, log, false, false);
        sr_diag_free(&dg);
        return 0;
    }
    char why[256];
    if (incompatible(sr_model_slot_peek(s), m, why, sizeof(why))) {
        fprintf(log,
                "model package '%s' changed but cannot replace the running model: %s (a "
                "replacement keeps the inputs and the outputs; restart to change them)\n",
                s->dir, why);
        sr_model_destroy(m);
        sr_diag_free(&dg);
        return 0;
    }
    sr_diag_print(&dg, log, false, false); /* warnings, if any */
    sr_diag_free(&dg);
    pthread_mutex_lock(&s->lock);
    entry *old = s->cur;
    s->cur = entry_new(m);
    uint64_t gen = atomic_load_explicit(&s->gen, memory_order_relaxed) + 1;
    atomic_store_explicit(&s->gen, gen, memory_order_release);
    entry_unref(old);
    pthread_mutex_unlock(&s->lock);
    fprintf(log, "model package '%s' reloaded: generation %llu (%s, %d input%s)\n", s->dir,
            (unsigned long long)gen, sr_model_kind_name(m->kind), m->nfeatures,
            m->nfeatures == 1 ? "" : "s");
    return 1;
}

int sr_model_slots_reload(bool force, FILE *log)
{
    int n = 0;
    pthread_mutex_lock(&slots_lock);
    for (sr_model_slot *s = slots; s; s = s->next) {
        if (force) {
            n += reload_slot(s, log);
            continue;
        }
        filestamp now[NSTAMPS];
        stamp_package(now, s->dir, sr_model_slot_peek(s));
        bool changed = false, settled = true;
        for (int i = 0; i < NSTAMPS; i++) {
            changed |= !stamp_equal(&now[i], &s->loaded[i]);
            settled &= stamp_equal(&now[i], &s->seen[i]);
        }
        memcpy(s->seen, now, sizeof(s->seen));
        if (!changed) continue;
        if (!s->pending || !settled) {
            s->pending = true; /* seen changing: read it once it holds still */
            continue;
        }
        n += reload_slot(s, log);
    }
    pthread_mutex_unlock(&slots_lock);
    return n;
}
