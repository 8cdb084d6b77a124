/* model_json.h — a model package's JSON text into a jansson tree, fast. */
#ifndef SR_MODEL_JSON_H
#define SR_MODEL_JSON_H

#include <jansson.h>
#include <stddef.h>

/* The document in text[0..len) as json_loadb(text, len, JSON_REJECT_DUPLICATES, err) reads it:
 * the same tree (the same values, integers and reals as jansson tells them apart, members in
 * order), or NULL with jansson's error in *err. A package's model file is mostly numbers
 * (hundreds of KB of coefficients), which jansson reads at ~40 MB/s; this reads them with
 * streamrun's own parser (runner/base/json.c) and builds the tree from its values, and hands
 * every text that parser refuses, or that jansson would read differently (a repeated key, an
 * integer beyond 64 bits, a number beyond a double's range, a NUL in a string), to json_loadb
 * itself, so what is refused and the messages are jansson's. A text above 8 MiB goes to jansson
 * alone (see FAST_MAX_BYTES: peak memory). The caller owns the tree (json_decref).
 * Thread-safe: no state. */
json_t *sr_model_json_load(const char *text, size_t len, json_error_t *err);

#endif
