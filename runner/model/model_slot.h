/* model_slot.h — a model package that can be replaced while records are scored with it.
 *
 * A slot holds the current model of one package directory. A scoring thread holds the model it
 * scores with (an sr_model_hold) and asks, once per record, for the slot's current one: one
 * atomic load when nothing changed, so a model is never swapped in the middle of a record and
 * every record is scored exactly once, by the old model or by the new one. The model a holder
 * switched away from is freed when its last holder lets it go.
 *
 * `up`'s main thread reloads packages (on SIGHUP, or when a package's files changed) with
 * sr_model_slots_reload: the new package is loaded and checked whole, and published only when it
 * is compatible with the one it replaces — the same inputs (names and types, in order) and the
 * same outputs (the same class names in the same order, or a regressor's value) — so that every
 * check `validate` made of the steps that use it still holds. Otherwise the current model stays
 * and the reason is printed. */
#ifndef SR_MODEL_SLOT_H
#define SR_MODEL_SLOT_H

#include "model/model.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

typedef struct sr_model_slot sr_model_slot;

/* What a scoring thread holds: the model it scores with and the slot generation it came from.
 * Zero-initialise before the first sr_model_slot_get. */
typedef struct sr_model_hold {
    const sr_model *m;
    uint64_t gen;
    void *entry; /* the slot's: the held model's reference */
} sr_model_hold;

/* Loads the package in directory dir (sr_model_load: every problem added to dg) into a new slot
 * (generation 1), registered in the process's list of slots that sr_model_slots_reload goes
 * through. Returns NULL when the package cannot be loaded.
 * @locality any thread; @locks the slot list's mutex */
sr_model_slot *sr_model_slot_open(const char *dir, sr_diag *dg);

/* Unregisters and frees s and its current model. Every hold must have been put back.
 * @locality any thread, once no thread scores with s; @locks the slot list's mutex */
void sr_model_slot_close(sr_model_slot *s);

/* The current model, for checks made while nothing scores (a step's check at load time). Not
 * held: do not keep it once scoring may have started. Before any reload it is the model the slot
 * was opened with, whose names — of its inputs (fields[i].name), of its classes (labels) and
 * its file — stay allocated until sr_model_slot_close, through every reload (a replacement has
 * the same names): a step may keep pointers to those. The rest of that model is freed once it
 * was replaced and its last holder let it go.
 * @locality any thread, before tasks start; @locks the slot's mutex */
const sr_model *sr_model_slot_peek(sr_model_slot *s);

/* The slot's current model, held in h until the next call or sr_model_slot_put. Returns h->m
 * unchanged when no newer model was published since h took it (one atomic load); otherwise
 * takes the newer model and lets the old one go (freeing it if h was its last holder). A caller
 * must not keep values that borrow from a model it switched away from (sr_model_write_outputs
 * borrows class names): call it between records, once the last record's outputs are written.
 * @locality the thread that owns h; @locks the slot's mutex, only when the model changed */
const sr_model *sr_model_slot_get(sr_model_slot *s, sr_model_hold *h);

/* Lets h's model go (freeing it if it was replaced and h was its last holder); h is zeroed.
 * @locality the thread that owns h; @locks the slot's mutex */
void sr_model_slot_put(sr_model_slot *s, sr_model_hold *h);

/* The package directory, as given to sr_model_slot_open. */
const char *sr_model_slot_dir(const sr_model_slot *s);

/* The generation of the slot's current model: 1 when opened, +1 at each reload that published
 * a model. @locality any thread; @locks none (an atomic load) */
uint64_t sr_model_slot_generation(const sr_model_slot *s);

/* Goes through every open slot. With force (SIGHUP), reloads each; else reloads those whose
 * files (config.json and the model file) changed since they were loaded and have not changed
 * since the previous call (so a file being written is not read half-way: call it every second
 * or so). A package that cannot be loaded, or is not compatible with the current model, is
 * reported to log with every reason (file, line and column, as validate does) and the current
 * model stays; it is tried again when its files change again, or at the next force. A reload
 * that published a model is logged as
 *   model package 'DIR' reloaded: generation N (KIND, M inputs)
 * Returns the number of slots that published a new model.
 * @locality one thread at a time (up's main thread); @locks the slot list's mutex, then each
 * slot's */
int sr_model_slots_reload(bool force, FILE *log);

#endif
