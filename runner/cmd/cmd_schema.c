/* cmd_schema.c — `streamrun schema` and `streamrun docs`: the topology file's JSON Schema and the
 * Markdown reference, generated from the operator registry and the function table. */
#include "cmd/cli.h"
#include "load/expr.h"
#include "load/operator.h"
#include "load/table.h"
#include "load/topic_config.h"

#include <jansson.h>
#include <stdarg.h>
#include <ctype.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- the parameter tables, as the loader reads them ------------------------------------ */

/* A parameter the loader reports as missing: required and without a default. */
static bool param_required(const sr_param *p)
{
    return (p->flags & SR_PF_REQUIRED) && !p->def;
}

static const sr_param *op_primary(const sr_operator_type *t)
{
    for (const sr_param *p = t->params; t->primary && p->name; p++)
        if (strcmp(p->name, t->primary) == 0) return p;
    return NULL;
}

static bool is_map_type(const sr_param *p)
{
    return p->type == SR_P_EXPRMAP || p->type == SR_P_STRMAP || p->type == SR_P_AGGS;
}

/* Whether `- op` or `- op:` (every parameter at its default) loads. */
static bool op_takes_null(const sr_operator_type *t)
{
    for (const sr_param *p = t->params; p->name; p++)
        if (param_required(p) || (p->flags & SR_PF_ONE_OF)) return false;
    return true;
}

/* Whether the short form loads: the parameters other than the primary need no value. */
static bool op_short_ok(const sr_operator_type *t, const sr_param *prim)
{
    for (const sr_param *p = t->params; p->name; p++)
        if (p != prim && param_required(p)) return false;
    return true;
}

/* Calls f(choice, len, ud) for each choice of "a|b|c". */
static void each_choice(const char *choices, void (*f)(const char *, size_t, void *), void *ud)
{
    for (const char *c = choices; c && *c;) {
        const char *bar = strchr(c, '|');
        size_t len = bar ? (size_t)(bar - c) : strlen(c);
        f(c, len, ud);
        c = bar ? bar + 1 : NULL;
    }
}

/* ---- JSON Schema ------------------------------------------------------------------------- */

static void set(json_t *o, const char *key, json_t *v)
{
    json_object_set_new(o, key, v);
}

static json_t *str(const char *s)
{
    return json_string(s);
}

/* {"type": first} or {"type": [first, ...]}, from a NULL-terminated list of type names. */
static json_t *types(const char *first, ...)
{
    json_t *arr = json_array();
    va_list ap;
    va_start(ap, first);
    for (const char *t = va_arg(ap, const char *); t; t = va_arg(ap, const char *))
        json_array_append_new(arr, str(t));
    va_end(ap);
    json_t *o = json_object();
    if (json_array_size(arr) == 0) {
        set(o, "type", str(first));
        json_decref(arr);
    } else {
        json_array_insert_new(arr, 0, str(first));
        set(o, "type", arr);
    }
    return o;
}

static json_t *described(const char *doc, json_t *schema)
{
    json_t *o = json_object();
    set(o, "description", str(doc));
    json_object_update(o, schema);
    json_decref(schema);
    return o;
}

/* Any scalar but null: the loader takes the text of plain and quoted scalars alike. */
static json_t *scalar(void)
{
    return types("string", "number", "boolean", NULL);
}

/* A name (field, topic): a non-empty scalar. */
static json_t *name_schema(void)
{
    json_t *o = scalar();
    set(o, "minLength", json_integer(1));
    return o;
}

/* A string with a ${VAR} or ${VAR:-default} reference: the loader substitutes the environment
 * before it reads a scalar, so `partitions: ${PARTITIONS:-4}` is an integer. */
#define VAR_PATTERN "\\$\\{[A-Za-z_][A-Za-z0-9_]*(:-[^}]*)?\\}"

/* plain, or a string with a ${VAR} reference (that becomes a value of plain once substituted).
 * Written as if/then/else rather than anyOf: a value that holds no `${` is checked against plain
 * alone, so a wrong value is reported as plain says it (not one of the choices, not an integer),
 * not as a string that fails the variable's pattern. Takes plain. */
static json_t *or_variable(json_t *plain)
{
    json_t *var = types("string", NULL);
    set(var, "pattern", str(VAR_PATTERN));
    json_t *o = json_object();
    set(o, "if", json_pack("{s:s,s:s}", "type", "string", "pattern", "\\$\\{"));
    set(o, "then", described("a ${VAR} or ${VAR:-default} reference to the environment", var));
    set(o, "else", plain);
    return o;
}

/* The schema plain of a value that may be written with a ${VAR} reference (or_variable). */
static json_t *plain_of(json_t *o)
{
    json_t *e = json_object_get(o, "else");
    return e ? e : o;
}

/* A number or boolean (type), or a string that becomes one once variables are substituted. */
static json_t *typed(const char *type)
{
    return or_variable(types(type, NULL));
}

/* An expression: the text of a scalar, so plain numbers and booleans are expressions too. */
static json_t *expr_schema(void)
{
    return scalar();
}

/* One name, or a non-empty list of names. */
static json_t *names_schema(void)
{
    json_t *o = types("string", "number", "boolean", "array", NULL);
    set(o, "minLength", json_integer(1));
    set(o, "items", name_schema());
    set(o, "minItems", json_integer(1));
    return o;
}

static json_t *strmap_schema(void)
{
    json_t *o = types("object", NULL);
    set(o, "minProperties", json_integer(1));
    set(o, "additionalProperties", scalar());
    return o;
}

static void add_choice(const char *c, size_t len, void *ud)
{
    json_array_append_new(ud, json_stringn(c, len));
}

/* One of "a|b|c", or a string with a variable. */
static json_t *enum_schema(const char *choices)
{
    json_t *e = json_array();
    each_choice(choices, add_choice, e);
    return or_variable(json_pack("{s:o}", "enum", e));
}

static json_t *params_object(const sr_param *params);
static json_t *duration_schema(void);

/* The schema of one parameter's value (without description or default). */
static json_t *param_value(const sr_param *p)
{
    json_t *o;
    switch (p->type) {
    case SR_P_STR: return scalar();
    case SR_P_FIELD:
    case SR_P_TOPIC: return name_schema();
    case SR_P_INT: return typed("integer");
    case SR_P_NUM: return typed("number");
    case SR_P_BOOL: return typed("boolean");
    case SR_P_ENUM: return enum_schema(p->choices);
    case SR_P_DURATION: return duration_schema();
    case SR_P_EXPR: return expr_schema();
    case SR_P_FIELDS: return names_schema();
    case SR_P_EXPRMAP:
        o = types("object", NULL);
        set(o, "minProperties", json_integer(1));
        set(o, "additionalProperties", types("string", "number", "boolean", "null", NULL));
        return o;
    case SR_P_STRMAP: return strmap_schema();
    case SR_P_AGGS:
        o = types("object", NULL);
        set(o, "minProperties", json_integer(1));
        set(o, "additionalProperties", types("string", NULL));
        return json_pack("{s:[oo]}", "anyOf", types("string", NULL), o);
    case SR_P_LIST:
        o = types("array", NULL);
        set(o, "minItems", json_integer(1));
        set(o, "items", params_object(p->sub));
        return o;
    }
    return json_object();
}

/* A default, as the JSON value of its YAML text. */
static json_t *default_value(const sr_param *p)
{
    switch (p->type) {
    case SR_P_INT: return json_integer(strtoll(p->def, NULL, 10));
    case SR_P_NUM: return json_real(strtod(p->def, NULL));
    case SR_P_BOOL: return json_boolean(strcmp(p->def, "true") == 0);
    default: return str(p->def);
    }
}

/* An optional parameter may be null: the loader then uses its default. */
static void allow_null(json_t *o)
{
    json_t *t = json_object_get(o, "type");
    json_t *any = json_object_get(o, "anyOf");
    json_t *choices = json_object_get(o, "enum");
    if (json_object_get(o, "else"))
        allow_null(json_object_get(o, "else")); /* or_variable: null is not a variable */
    else if (json_is_array(choices))
        json_array_append_new(choices, json_null());
    else if (json_is_string(t))
        set(o, "type", json_pack("[Os]", t, "null"));
    else if (json_is_array(t))
        json_array_append_new(t, str("null"));
    else if (json_is_array(any))
        json_array_append_new(any, types("null", NULL));
}

static json_t *param_schema(const sr_param *p)
{
    json_t *o = described(p->doc, param_value(p));
    if (!param_required(p)) allow_null(o);
    if (p->def) set(o, "default", default_value(p));
    return o;
}

/* The long form: a mapping of parameters. */
static json_t *params_object(const sr_param *params)
{
    json_t *props = json_object(), *req = json_array();
    for (const sr_param *p = params; p->name; p++) {
        set(props, p->name, param_schema(p));
        if (param_required(p)) json_array_append_new(req, str(p->name));
    }
    json_t *o = types("object", NULL);
    set(o, "properties", props);
    if (json_array_size(req))
        set(o, "required", req);
    else
        json_decref(req);
    json_t *alts = json_array(); /* SR_PF_ONE_OF: exactly one of them */
    for (const sr_param *p = params; p->name; p++)
        if (p->flags & SR_PF_ONE_OF)
            json_array_append_new(alts, json_pack("{s:[s]}", "required", p->name));
    if (json_array_size(alts))
        set(o, "oneOf", alts);
    else
        json_decref(alts);
    set(o, "additionalProperties", json_false());
    return o;
}

/* What may follow `- name:` for operator t, as load_step reads it. */
static json_t *op_value(const sr_operator_type *t)
{
    const sr_param *prim = op_primary(t);
    bool map = prim && is_map_type(prim);
    json_t *forms = json_array();
    if (prim && op_short_ok(t, prim)) {
        char doc[512];
        snprintf(doc, sizeof(doc), "%s (short for {%s: %s})", prim->doc, prim->name,
                 map ? "{...}" : "...");
        json_array_append_new(forms, described(doc, param_value(prim)));
    }
    /* set, rename: a mapping is the long form only when it holds the primary as a mapping */
    json_t *lf = params_object(t->params);
    json_t *req = json_object_get(lf, "required");
    if (map && !param_required(prim)) {
        if (!req) set(lf, "required", req = json_array());
        json_array_append_new(req, str(prim->name));
    }
    json_array_append_new(forms, lf);
    if (op_takes_null(t))
        json_array_append_new(forms,
                              described("every parameter at its default", types("null", NULL)));
    json_t *o = json_object();
    set(o, "description", str(t->summary));
    set(o, "anyOf", forms);
    return o;
}

static json_t *step_schema(void)
{
    json_t *one = json_array(), *bare = json_array();
    for (int i = 0; sr_operators[i]; i++) {
        const sr_operator_type *t = sr_operators[i];
        json_t *b = types("object", NULL);
        json_t *props = json_object();
        set(props, t->name, op_value(t));
        set(b, "properties", props);
        set(b, "required", json_pack("[s]", t->name));
        set(b, "additionalProperties", json_false());
        json_array_append_new(one, b);
        if (op_takes_null(t)) json_array_append_new(bare, str(t->name));
    }
    if (json_array_size(bare)) {
        json_t *b = json_object();
        set(b, "description", str("an operator alone, every parameter at its default"));
        set(b, "enum", bare);
        json_array_append_new(one, b);
    } else {
        json_decref(bare);
    }
    json_t *o = json_object();
    set(o, "description", str("a pipeline step: `- operator: settings`, with one operator"));
    set(o, "oneOf", one);
    return o;
}

/* A topic name, or a list of them (each at most once). */
static json_t *topics_ref(const char *doc)
{
    json_t *o = described(doc, types("string", "number", "boolean", "array", NULL));
    set(o, "minLength", json_integer(1));
    set(o, "items", name_schema());
    set(o, "minItems", json_integer(1));
    set(o, "uniqueItems", json_true());
    return o;
}

static json_t *metadata_schema(void)
{
    json_t *props = json_object();
    set(props, "name",
        described("the topology's name (default: the file name without extension)", scalar()));
    set(props, "version", described("the topology's version", types("string", "number", NULL)));
    set(props, "description", described("what the topology does", types("string", NULL)));
    json_t *o = described("about the topology", types("object", "null", NULL));
    set(o, "properties", props);
    set(o, "additionalProperties", json_false());
    return o;
}

/* A declared topic's name: what Kafka allows, as the loader checks it. */
static json_t *topic_name_schema(void)
{
    json_t *o = name_schema();
    set(o, "pattern", str("^(?!\\.\\.?$)[A-Za-z0-9._-]{1,249}$"));
    return described("a Kafka topic name: 1 to 249 letters, digits, '.', '_' or '-', not '.' "
                     "or '..'",
                     or_variable(o));
}

/* The value a Kafka topic config takes, from topic_config.c's table. */
static json_t *topic_config_value(const sr_topic_config *c)
{
    json_t *o = NULL;
    switch (c->type) {
    case SR_TC_INT:
    case SR_TC_LONG:
    case SR_TC_DOUBLE: {
        o = typed(c->type == SR_TC_DOUBLE ? "number" : "integer");
        if (c->min != LLONG_MIN) set(plain_of(o), "minimum", json_integer(c->min));
        if (c->max != LLONG_MAX) set(plain_of(o), "maximum", json_integer(c->max));
        if (c->also) o = json_pack("{s:[o{s:i}]}", "anyOf", o, "const", (json_int_t)c->also);
        break;
    }
    case SR_TC_BOOL:
        o = types("boolean", "string", NULL);
        set(o, "pattern", str("^([Tt][Rr][Uu][Ee]|[Ff][Aa][Ll][Ss][Ee])$"));
        o = or_variable(o);
        break;
    case SR_TC_ENUM: o = enum_schema(c->values); break;
    case SR_TC_LIST: {
        /* one or more of the values, separated by commas */
        char alt[256], pat[700];
        snprintf(alt, sizeof(alt), "(%s)", c->values);
        snprintf(pat, sizeof(pat), "^ *%s *( *, *%s *)*$", alt, alt);
        o = types("string", NULL);
        set(o, "pattern", str(pat));
        o = or_variable(o);
        break;
    }
    case SR_TC_REPLICAS:
        o = types("string", NULL);
        set(o, "pattern", str("^(\\*|[0-9]+:[0-9]+( *, *[0-9]+:[0-9]+)*)$"));
        o = or_variable(o);
        break;
    }
    return described(c->doc, o);
}

/* config: of a topic: the topic-level configs Kafka knows, no others. */
static json_t *topic_config_schema(void)
{
    json_t *props = json_object();
    int n;
    const sr_topic_config *cs = sr_topic_configs(&n);
    for (int i = 0; i < n; i++) set(props, cs[i].name, topic_config_value(&cs[i]));
    json_t *o = types("object", NULL);
    set(o, "minProperties", json_integer(1));
    set(o, "properties", props);
    set(o, "additionalProperties", json_false());
    return o;
}

/* A topic's shape (load/shape.h): field names (NAME? optional) to a type name, a mapping of
 * fields (an object) or a list of one element type; "*": any opens it. Recursive: definitions
 * shape and shapeType. */
static json_t *shape_schema(void)
{
    json_t *o = described("the fields of the topic's records and their types (NAME?: optional); "
                          "\"*\": any allows other fields",
                          types("object", NULL));
    set(o, "minProperties", json_integer(1));
    set(o, "properties", json_pack("{s:{s:s}}", "*", "const", "any"));
    set(o, "additionalProperties", json_pack("{s:s}", "$ref", "#/definitions/shapeType"));
    return o;
}

static json_t *shape_type_schema(void)
{
    json_t *names = json_pack("{s:[s,s,s,s,s,s,s]}", "enum", "number", "string", "boolean",
                              "object", "array", "null", "any");
    json_t *nested =
        json_pack("{s:s,s:{s:{s:s}},s:{s:s}}", "type", "object", "properties", "*", "const", "any",
                  "additionalProperties", "$ref", "#/definitions/shapeType");
    json_t *arr = json_pack("{s:s,s:i,s:i,s:{s:s}}", "type", "array", "minItems", 1, "maxItems", 1,
                            "items", "$ref", "#/definitions/shapeType");
    json_t *o = json_object();
    set(o, "description",
        str("a type (number, string, boolean, object, array, null, any), a mapping of an "
            "object's fields, or a list of one element type"));
    set(o, "anyOf", json_pack("[o,o,o]", names, nested, arr));
    return o;
}

static json_t *topic_schema(void)
{
    json_t *props = json_object();
    set(props, "name", topic_name_schema());
    json_t *parts = described("number of partitions", typed("integer"));
    set(plain_of(parts), "minimum", json_integer(1));
    set(plain_of(parts), "maximum", json_integer(100000));
    set(parts, "default", json_integer(1));
    set(props, "partitions", parts);
    json_t *rf =
        described("replication factor when the topic is created; checked against an existing topic",
                  typed("integer"));
    set(plain_of(rf), "minimum", json_integer(1));
    set(plain_of(rf), "maximum", json_integer(32767));
    set(props, "replicationFactor", rf);
    set(props, "config",
        described("Kafka topic configs (retention.ms, cleanup.policy, min.insync.replicas...), "
                  "set when the topic is created and checked against an existing one",
                  topic_config_schema()));
    set(props, "description", described("what the topic carries", types("string", NULL)));
    set(props, "shape", json_pack("{s:s}", "$ref", "#/definitions/shape"));
    json_t *full = types("object", NULL);
    set(full, "properties", props);
    set(full, "required", json_pack("[s]", "name"));
    set(full, "additionalProperties", json_false());
    json_t *o = json_object();
    set(o, "description", str("a topic: its name, or a mapping with the name and settings"));
    set(o, "anyOf", json_pack("[oo]", topic_name_schema(), full));
    return o;
}

static json_t *source_schema(void)
{
    json_t *props = json_object();
    set(props, "file",
        described("file to replay, relative to the topology file's directory", scalar()));
    set(props, "format",
        described("record format (default: from the file extension, .csv or jsonl)",
                  enum_schema("jsonl|csv")));
    set(props, "key", described("field whose value becomes the record key", scalar()));
    set(props, "timestamp",
        described("field holding the event time in ms since the epoch", scalar()));
    json_t *rate = described("records per second (0: as fast as possible)", typed("number"));
    set(plain_of(rate), "minimum", json_integer(0));
    set(props, "rate", rate);
    json_t *cols = described("CSV: the names of the cells, in order, instead of the header row's",
                             types("array", NULL));
    set(cols, "items", scalar());
    set(cols, "minItems", json_integer(1));
    set(props, "columns", cols);
    set(props, "header",
        described("CSV: whether the first row is a header (default true; with columns: it is "
                  "skipped); false: every row is a record (needs columns:)",
                  typed("boolean")));
    json_t *o =
        described("a file of records to replay instead of input topics", types("object", NULL));
    set(o, "properties", props);
    set(o, "required", json_pack("[s]", "file"));
    set(o, "additionalProperties", json_false());
    return o;
}

/* A deployment's `migrations:` (load/migrations.c, README "Changing a running pipeline"). */
static json_t *migrations_schema(void)
{
    json_t *item = described("a declared change of a store's state, which `compat` accepts",
                             types("object", NULL));
    json_t *ip = json_object();
    set(ip, "store",
        described("the store's name (store:, or a default such as aggregate-3)", name_schema()));
    set(ip, "action",
        described("reset: the store starts empty (up skips changelog records of another format); "
                  "keep: its state is kept though its key changed; drop: the running state of "
                  "this store name (removed, renamed) is given up",
                  enum_schema("reset|keep|drop")));
    set(ip, "from",
        described("a rename: the store's name in the running topology, whose state (its "
                  "changelog) this store takes over; instead of action",
                  name_schema()));
    set(item, "properties", ip);
    set(item, "required", json_pack("[s]", "store"));
    /* {store, action} or {store, from}: one of the two */
    set(item, "oneOf", json_pack("[{s:[s]},{s:[s]}]", "required", "action", "required", "from"));
    set(item, "additionalProperties", json_false());
    json_t *m = described("declared changes of the deployment's state (see `streamrun compat`)",
                          types("array", "null", NULL));
    set(m, "items", item);
    return m;
}

static json_t *deployment_schema(void)
{
    json_t *props = json_object();
    set(props, "name", described("the deployment's name, unique in the file", scalar()));
    set(props, "description", described("what the deployment does", types("string", NULL)));
    set(props, "input", topics_ref("topic(s) to read"));
    set(props, "output", topics_ref("topic(s) the pipeline's records go to"));
    set(props, "consumerGroup",
        described("Kafka consumer group (default: topology name-deployment name)", scalar()));
    set(props, "deadLetter", described("topic for records an operator fails on", name_schema()));
    json_t *pl =
        described("the operators records go through, in order", types("array", "null", NULL));
    set(pl, "items", json_pack("{s:s}", "$ref", "#/definitions/step"));
    set(props, "pipeline", pl);
    set(props, "source", json_pack("{s:s}", "$ref", "#/definitions/source"));
    set(props, "kafka", described("librdkafka properties for this deployment", strmap_schema()));
    json_t *reps = described("number of instances", typed("integer"));
    set(plain_of(reps), "minimum", json_integer(1));
    set(props, "replicas", reps);
    json_t *proc = described("at-least-once: outputs are flushed, then the input offsets "
                             "committed; exactly-once: each commit interval is one Kafka "
                             "transaction holding the outputs, dead letters and input offsets "
                             "(needs Apache Kafka, not the embedded broker)",
                             enum_schema("at-least-once|exactly-once"));
    set(proc, "default", str("at-least-once"));
    set(props, "processing", proc);
    set(props, "migrations", migrations_schema());
    json_t *o = described("a deployment: reads topics or a file, runs a pipeline, writes topics",
                          types("object", NULL));
    set(o, "properties", props);
    set(o, "required", json_pack("[s]", "name"));
    set(o, "additionalProperties", json_false());
    set(o, "oneOf", json_pack("[{s:[s]}{s:[s]}]", "required", "input", "required", "source"));
    return o;
}

/* compare: and tolerance:, in a test case or at the top of a test file (NAME.tests.yaml). */
static void compare_schemas(json_t *props)
{
    set(props, "compare",
        described("exact (the default): expected values equal what was written; subset: an "
                  "object matches when it has the members given (nested objects too; arrays "
                  "are compared whole)",
                  enum_schema("exact|subset")));
    json_t *tol = json_object();
    json_t *num = json_pack("{s:s,s:i}", "type", "number", "minimum", 0);
    set(tol, "absolute", described("numbers match within this difference", json_deep_copy(num)));
    set(tol, "relative",
        described("numbers match within this fraction of the expected number",
                  json_deep_copy(num)));
    json_t *obj = types("object", NULL);
    set(obj, "properties", tol);
    set(obj, "additionalProperties", json_false());
    set(obj, "minProperties", json_integer(1));
    set(props, "tolerance",
        described("numbers anywhere in an expected value match within it: a number (absolute), "
                  "or {absolute, relative}",
                  json_pack("{s:[o,o]}", "oneOf", num, obj)));
}

/* The duration of a parameter or test item: 10s, 500ms, a number of ms, or a ${VAR}. */
static json_t *duration_schema(void)
{
    json_t *o = types("string", "number", NULL);
    set(o, "pattern", str("^[0-9.]+(ms|s|m|min|h|d)?$"));
    set(o, "minimum", json_integer(0));
    return or_variable(o);
}

/* A record of a test case's input or expect: the envelope's parts as the test runner reads them
 * (more keys are the runner's to check), and the input's control items. */
static json_t *test_record_schema(void)
{
    json_t *props = json_object();
    set(props, "key",
        described("the record key", types("string", "number", "boolean", "null", NULL)));
    set(props, "timestamp", described("the record time, in ms since the epoch", typed("integer")));
    json_t *h = described("the record headers, name: value (expected: or {matches: REGEX})",
                          types("object", NULL));
    json_t *hv = types("string", "number", "boolean", "null", "object", NULL);
    set(hv, "properties", json_pack("{s:{s:s}}", "matches", "type", "string"));
    set(hv, "required", json_pack("[s]", "matches"));
    set(hv, "additionalProperties", json_false());
    set(h, "additionalProperties", hv);
    set(props, "headers", h);
    set(props, "advance", described("moves the test clock on by a duration", duration_schema()));
    json_t *o = described("a record (key, value, timestamp, headers) or a control item",
                          types("object", NULL));
    set(o, "properties", props);
    return o;
}

/* A test case's records: topic: [records] (a mapping), or one list of items with topic:. */
static json_t *test_records_schema(const char *doc)
{
    json_t *list = types("array", "null", NULL);
    set(list, "items", test_record_schema());
    json_t *o = described(doc, types("object", "array", NULL));
    set(o, "additionalProperties", list);
    set(o, "items", test_record_schema());
    return o;
}

static json_t *tests_schema(void)
{
    json_t *props = json_object();
    set(props, "name", json_pack("{s:s}", "description", "the test case's name"));
    set(props, "description", json_pack("{s:s}", "description", "what the test case checks"));
    set(props, "deployment", json_pack("{s:s}", "description", "the deployment to run"));
    set(props, "deployments", json_pack("{s:s}", "description", "the deployments to run"));
    set(props, "clock", json_pack("{s:s}", "description", "the test clock"));
    json_t *size = types("string", "integer", NULL);
    set(size, "pattern", str("^[0-9]+(B|KiB|MiB|GiB|TiB|KB|kB|MB|GB|TB)?$"));
    set(size, "minimum", json_integer(1));
    set(props, "stateMemory",
        described("the state budget of the case's process, such as 64KiB (as --state-memory)",
                  or_variable(size)));
    set(props, "input",
        test_records_schema("records fed to input topics, in order, with advance: "
                            "(the test clock), commit: and crash: items"));
    set(props, "expect", test_records_schema("records expected on output topics"));
    set(props, "files",
        json_pack("{s:s}", "description",
                  "lines (JSON values) expected in the files write steps write; under test "
                  "they are kept in memory, no file is written"));
    compare_schemas(props);
    json_t *item = described("a test case", types("object", NULL));
    set(item, "properties", props);
    set(item, "additionalProperties", json_true());
    json_t *o = described("test cases run by `streamrun test`", types("array", "null", NULL));
    set(o, "items", item);
    return o;
}

static json_t *topology_schema(void)
{
    json_t *root = json_object();
    set(root, "$schema", str("http://json-schema.org/draft-07/schema#"));
    set(root, "title", str("streamrun topology"));
    set(root, "description",
        str("A streamrun topology file: topics, and deployments that run pipelines of operators"));
    set(root, "type", str("object"));
    json_t *props = json_object();
    set(props, "metadata", metadata_schema());
    json_t *topics = described("the topics the deployments read and write", types("array", NULL));
    set(topics, "items", json_pack("{s:s}", "$ref", "#/definitions/topic"));
    set(props, "topics", topics);
    json_t *tables = described("tables that lookup steps read by key: from a file (CSV or JSON "
                               "lines) or from a topic (the latest value per record key)",
                               types("array", NULL));
    set(tables, "items", json_pack("{s:s}", "$ref", "#/definitions/table"));
    set(props, "tables", tables);
    json_t *deps = described("the deployments", types("array", NULL));
    set(deps, "items", json_pack("{s:s}", "$ref", "#/definitions/deployment"));
    set(props, "deployments", deps);
    set(props, "kafka",
        described("librdkafka properties for every deployment (bootstrap.servers...)",
                  strmap_schema()));
    set(props, "broker", described("Kafka bootstrap servers, host:port[,host:port]", scalar()));
    set(props, "tests", tests_schema());
    compare_schemas(props); /* a test file's, for all its cases */
    set(root, "properties", props);
    /* NAME.tests.yaml beside NAME.yaml holds more test cases, and their compare: and tolerance: */
    json_t *test_file = json_pack(
        "{s:s,s:[s],s:{s:[s,s,s]}}", "description",
        "a test file (NAME.tests.yaml beside NAME.yaml): tests, with compare: and tolerance: "
        "for all of them",
        "required", "tests", "propertyNames", "enum", "tests", "compare", "tolerance");
    json_t *topology = json_pack("{s:[s],s:{s:[{s:[s]},{s:[s]}]}}", "required", "deployments",
                                 "not", "anyOf", "required", "compare", "required", "tolerance");
    set(root, "anyOf", json_pack("[o,o]", topology, test_file));
    set(root, "additionalProperties", json_false());
    json_t *defs = json_object();
    set(defs, "topic", topic_schema());
    set(defs, "shape", shape_schema());
    set(defs, "shapeType", shape_type_schema());
    set(defs, "table",
        described("a table: a file of rows keyed by one of their fields, or a topic",
                  params_object(sr_table_params)));
    set(defs, "deployment", deployment_schema());
    set(defs, "source", source_schema());
    set(defs, "step", step_schema());
    set(root, "definitions", defs);
    return root;
}

static int finish(const char *cmd)
{
    if (fflush(stdout) != 0 || ferror(stdout)) {
        fprintf(stderr, "streamrun %s: cannot write the output\n", cmd);
        return SR_EXIT_USAGE;
    }
    return SR_EXIT_OK;
}

int sr_cmd_schema(int argc, char **argv)
{
    if (argc > 1) {
        fprintf(stderr, "usage: streamrun schema\n");
        return SR_EXIT_USAGE;
    }
    json_t *schema = topology_schema();
    char *text = json_dumps(schema, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
    json_decref(schema);
    if (!text) {
        fprintf(stderr, "streamrun schema: out of memory\n");
        return SR_EXIT_USAGE;
    }
    fputs(text, stdout);
    fputc('\n', stdout);
    free(text);
    return finish("schema");
}

/* ---- Markdown reference ------------------------------------------------------------------ */

/* Table cell text: pipes escaped, line breaks as spaces. */
static void cell(FILE *out, const char *s)
{
    for (; *s; s++) {
        if (*s == '|')
            fputs("\\|", out);
        else if (*s == '\n')
            fputc(' ', out);
        else
            fputc(*s, out);
    }
}

static size_t longest_backtick_run(const char *s, size_t len)
{
    size_t best = 0, run = 0;
    for (size_t i = 0; i < len; i++) {
        run = s[i] == '`' ? run + 1 : 0;
        if (run > best) best = run;
    }
    return best;
}

/* An inline code span of s[0..len) that survives backticks and table pipes. */
static void code_n(FILE *out, const char *s, size_t len, bool in_table)
{
    size_t fence = longest_backtick_run(s, len) + 1;
    bool pad = len && (s[0] == '`' || s[len - 1] == '`');
    for (size_t i = 0; i < fence; i++) fputc('`', out);
    if (pad) fputc(' ', out);
    for (size_t i = 0; i < len; i++) {
        if (in_table && s[i] == '|')
            fputs("\\|", out);
        else
            fputc(s[i] == '\n' ? ' ' : s[i], out);
    }
    if (pad) fputc(' ', out);
    for (size_t i = 0; i < fence; i++) fputc('`', out);
}

static void code(FILE *out, const char *s, bool in_table)
{
    code_n(out, s, strlen(s), in_table);
}

struct choice_out {
    FILE *out;
    int n;
};

static void put_choice(const char *c, size_t len, void *ud)
{
    struct choice_out *co = ud;
    fputs(co->n++ ? ", " : "one of ", co->out);
    code_n(co->out, c, len, true);
}

static void type_cell(FILE *out, const sr_param *p)
{
    switch (p->type) {
    case SR_P_STR: fputs("string", out); return;
    case SR_P_INT: fputs("integer", out); return;
    case SR_P_NUM: fputs("number", out); return;
    case SR_P_BOOL: fputs("boolean", out); return;
    case SR_P_ENUM: {
        struct choice_out co = {out, 0};
        each_choice(p->choices, put_choice, &co);
        return;
    }
    case SR_P_DURATION: fputs("duration (`500ms`, `10s`, `5m`, `1h`, `2d`)", out); return;
    case SR_P_EXPR: fputs("expression", out); return;
    case SR_P_FIELD: fputs("field name", out); return;
    case SR_P_FIELDS: fputs("field name or list of field names", out); return;
    case SR_P_TOPIC: fputs("topic", out); return;
    case SR_P_EXPRMAP: fputs("mapping of field name: expression", out); return;
    case SR_P_STRMAP: fputs("mapping of name: string", out); return;
    case SR_P_LIST: fputs("list of mappings (below)", out); return;
    case SR_P_AGGS: fputs("aggregate (`mean(x)`) or mapping of name: aggregate", out); return;
    }
}

static void params_table(FILE *out, const sr_param *params)
{
    fputs("| Parameter | Type | Default | Required | Description |\n", out);
    fputs("| --- | --- | --- | --- | --- |\n", out);
    for (const sr_param *p = params; p->name; p++) {
        fputs("| ", out);
        code(out, p->name, true);
        fputs(" | ", out);
        type_cell(out, p);
        fputs(" | ", out);
        if (p->def) code(out, p->def, true);
        fputs(" | ", out);
        fputs(param_required(p) ? "yes" : (p->flags & SR_PF_ONE_OF) ? "one of" : "no", out);
        fputs(" | ", out);
        cell(out, p->doc);
        fputs(" |\n", out);
    }
    for (const sr_param *p = params; p->name; p++) {
        if (p->type != SR_P_LIST) continue;
        fputs("\nEach item of ", out);
        code(out, p->name, false);
        fputs(":\n\n", out);
        params_table(out, p->sub);
    }
}

static void code_block(FILE *out, const char *lang, const char *text)
{
    size_t fence = longest_backtick_run(text, strlen(text)) + 1;
    if (fence < 3) fence = 3;
    for (size_t i = 0; i < fence; i++) fputc('`', out);
    fprintf(out, "%s\n%s\n", lang, text);
    for (size_t i = 0; i < fence; i++) fputc('`', out);
    fputc('\n', out);
}

static void op_forms(FILE *out, const sr_operator_type *t)
{
    const sr_param *prim = op_primary(t);
    if (prim && is_map_type(prim) && op_short_ok(t, prim)) {
        fprintf(out,
                "Short form: `- %s: {NAME: VALUE, ...}` is the `%s` mapping itself; or give a "
                "mapping of parameters with `%s:` in it as a mapping.\n",
                t->name, prim->name, prim->name);
    } else if (prim && op_short_ok(t, prim)) {
        fprintf(out, "Short form: `- %s: VALUE` sets `%s`", t->name, prim->name);
        if (t->flags & SR_OP_PRIMARY_LIST) fputs(" (a list)", out);
        fputs("; or give a mapping of parameters.\n", out);
    } else {
        fputs("Settings: a mapping of parameters.\n", out);
    }
    if (op_takes_null(t)) fprintf(out, "`- %s` alone uses every default.\n", t->name);
    int nalt = 0;
    for (const sr_param *p = t->params; p->name; p++)
        if (p->flags & SR_PF_ONE_OF) {
            fputs(nalt++ ? " or " : "Give exactly one of ", out);
            code(out, p->name, false);
        }
    if (nalt) fputs(".\n", out);
    if (t->flags & SR_OP_TERMINAL)
        fputs("It sends records to topics itself: nothing may follow it in a pipeline, and the "
              "deployment has no `output:`.\n",
              out);
}

/* The values a topic config takes, as the README's table says them. */
static void topic_config_values(FILE *out, const sr_topic_config *c)
{
    switch (c->type) {
    case SR_TC_INT:
    case SR_TC_LONG:
    case SR_TC_DOUBLE:
        fputs(c->type == SR_TC_DOUBLE ? "number" : "whole number", out);
        if (c->unit) fprintf(out, " of %s", c->unit);
        if (c->min != LLONG_MIN && c->max == LLONG_MAX)
            fprintf(out, ", %lld or more", c->min);
        else if (c->min != LLONG_MIN)
            fprintf(out, ", %lld to %lld", c->min, c->max);
        if (c->also) fprintf(out, ", or %lld", c->also);
        if (c->special) fprintf(out, " (%s)", c->special);
        break;
    case SR_TC_BOOL: fputs("`true` or `false`", out); break;
    case SR_TC_ENUM:
    case SR_TC_LIST:
        for (const char *v = c->values; *v;) {
            size_t len = strcspn(v, "|");
            fprintf(out, "%s`%.*s`", v == c->values ? "" : ", ", (int)len, v);
            v += len + (v[len] == '|');
        }
        if (c->type == SR_TC_LIST) fputs(", or several separated by commas", out);
        break;
    case SR_TC_REPLICAS: fputs("`*`, or `PARTITION:BROKER` pairs separated by commas", out); break;
    }
}

/* The topic configs `validate` knows, as a Markdown table. */
static void topic_configs_table(FILE *out)
{
    fputs("\n## Topic configs\n\nKafka's topic-level configs, as a topic sets them under "
          "`config:` (see [Topics](#topics)). `validate` checks names and "
          "values against this table, taken from Apache Kafka 4's documentation.\n\n",
          out);
    fputs("| Config | Values | What it sets |\n", out);
    fputs("| --- | --- | --- |\n", out);
    int n;
    const sr_topic_config *cs = sr_topic_configs(&n);
    for (int i = 0; i < n; i++) {
        fprintf(out, "| `%s` | ", cs[i].name);
        topic_config_values(out, &cs[i]);
        fputs(" | ", out);
        cell(out, cs[i].doc);
        fputs(" |\n", out);
    }
}

void sr_docs_operator(FILE *out, const sr_operator_type *t)
{
    fprintf(out, "### %s\n\n", t->name);
    fprintf(out, "%c%s.\n\n", toupper((unsigned char)t->summary[0]), t->summary + 1);
    code_block(out, "yaml", t->example);
    fputc('\n', out);
    op_forms(out, t);
    fputc('\n', out);
    params_table(out, t->params);
}

void sr_docs_function(FILE *out, const sr_func_doc *f)
{
    fputs("| ", out);
    code(out, f->signature, true);
    fputs(" | ", out);
    cell(out, f->doc);
    fputs(" | ", out);
    code(out, f->example, true);
    fputs(" |\n", out);
}

int sr_cmd_docs(int argc, char **argv)
{
    if (argc > 1) {
        fprintf(stderr, "usage: streamrun docs\n");
        return SR_EXIT_USAGE;
    }
    FILE *out = stdout;
    fputs("## Operators\n\n", out);
    fputs("Records are JSON values (almost always objects) with a key, a timestamp (ms since the "
          "epoch) "
          "and headers. A pipeline step is `- operator: settings`: the operator's short form, "
          "or a mapping of its parameters.\n",
          out);
    for (int i = 0; sr_operators[i]; i++) {
        fputc('\n', out);
        sr_docs_operator(out, sr_operators[i]);
    }
    fputs("\n## Functions\n\nUsed in expressions (see [Expressions](#expressions)).\n\n", out);
    fputs("| Function | Description | Example |\n", out);
    fputs("| --- | --- | --- |\n", out);
    for (int i = 0; i < sr_func_count(); i++) sr_docs_function(out, sr_func_doc_at(i));
    topic_configs_table(out);
    return finish("docs");
}
