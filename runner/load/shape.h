/* shape.h — topic shapes: the fields a topic's records have and their types, as declared under a
 * topic's `shape:` or inferred from a sample of records (`streamrun shape`). */
#ifndef SR_SHAPE_H
#define SR_SHAPE_H

#include "base/value.h"
#include "load/topology.h"

/* Parses the `shape:` mapping n of topic `topic` into out (which must be empty): each key a
 * field name (ending in '?' when the field may be absent or null), each value a type name
 * (number, string, boolean, object, array, null, any), a mapping (an object and its fields) or
 * a list of one element type ([string]: an array of strings). The key "*" with the value any
 * opens the shape (or the object it is in): other fields may occur; otherwise it is closed.
 * Reports every problem at its place; returns 0, or -1 (out then holds what could be read). */
int sr_shape_parse(sr_check *ck, const sr_ynode *n, const char *topic, sr_schema *out);

/* What the first step of deployment d knows of its records: when every input topic declares a
 * shape, their fields (one input: its shape; several: every field of any of them, optional
 * unless all have it, of any type unless all agree; closed when all are); else nothing (out is
 * left empty and open). out must be empty. */
void sr_shape_of_inputs(const sr_deployment *d, sr_schema *out);

/* Appends s as the YAML lines of a `shape:` mapping's body, each indented by indent spaces
 * (nested objects by 2 more), in the form sr_shape_parse reads. */
void sr_shape_write(const sr_schema *s, sr_buf *b, int indent);

/* Adds what record v (an object) shows to s, the shape inferred from the records before it
 * (empty and closed before the first; nrecords of them): a field seen with two types becomes
 * any, a field missing from some records or null in some becomes optional, objects are merged
 * field by field, arrays by their elements' types. */
void sr_shape_infer(sr_schema *s, const sr_value *v, long nrecords);

#endif
