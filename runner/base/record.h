/* record.h — a record in flight, and where it came from. */
#ifndef SR_RECORD_H
#define SR_RECORD_H

#include "base/value.h"

typedef struct sr_header {
    const char *name;
    uint32_t nlen;
    const char *val; /* NULL for a header without value */
    uint32_t vlen;
} sr_header;

/* The input record as it arrived, kept untouched for metadata functions and
 * for the dead-letter topic (original bytes, original key). Borrowed from the
 * consumer or the file reader for the duration of one batch. */
typedef struct sr_origin {
    const char *topic; /* NULL for a file source */
    int32_t partition;
    int64_t offset;
    const char *raw; /* value bytes as received */
    size_t rawlen;
    bool tombstone;  /* the value is null (a Kafka tombstone): raw is "" */
    const char *key; /* NULL: no key */
    size_t keylen;
    int64_t ts; /* ms since epoch */
    const sr_header *hdr;
    uint32_t nhdr;
    const char *file; /* file source: path and line of the record */
    long line;
} sr_origin;

/* A record flowing through an operator chain. value, key and headers are
 * arena or origin memory; operators replace fields freely. */
typedef struct sr_record {
    sr_value value;
    sr_value key; /* SR_NULL or SR_STR */
    int64_t ts;   /* event time, ms since epoch */
    const sr_header *hdr;
    uint32_t nhdr;
    /* a deletion: value is null, and an output writes it as a Kafka tombstone (no value, not the
     * JSON text null). Set on an input tombstone handed to a step that takes them
     * (SR_OP_TOMBSTONES), and by a step that emits a deletion (a join's retraction). */
    bool tombstone;
} sr_record;

#endif
