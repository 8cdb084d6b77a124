/* source.h — reading records from files: JSON lines and CSV with a header. */
#ifndef SR_SOURCE_H
#define SR_SOURCE_H

#include "load/topology.h"

typedef struct sr_reader sr_reader;

/* The longest line a source file may have, in bytes (16 MiB, sixteen times
 * Kafka's default message.max.bytes). A longer line stops the reader with an
 * error: it is taken for a file that is not text (or /dev/zero), not read
 * into memory without bound. */
#define SR_MAX_LINE (16u << 20)

/* One item read from a file. When ok, value is the record (an object for
 * CSV; any JSON value for JSON lines), allocated from the arena passed to
 * sr_reader_next, or borrowing raw. When !ok, reason says why the row could
 * not be read (malformed JSON, a CSV row with the wrong number of cells, an
 * unterminated quote...). Either way raw/rawlen are the row's bytes as they
 * were in the file (without the final newline) and line is the 1-based line
 * on which it starts. raw stays valid until the next call. */
typedef struct sr_readrec {
    bool ok;
    sr_value value;
    const char *raw;
    size_t rawlen;
    long line;
    char reason[256];
} sr_readrec;

/* Opens path ("-" is standard input). For CSV the first row is the header; cells become fields by
 * header name, numbers where a cell is a number (integers stay exact, as
 * text), true/false as booleans, an empty unquoted cell as null, anything
 * else a string. Returns 0, or -1 with a message in err. */
int sr_reader_open(sr_reader **out, const char *path, sr_format fmt, char *err, size_t errsize);
/* Like sr_reader_open; for CSV, with the columns named columns[0..ncolumns) (borrowed during the
 * call) instead of by the header row when ncolumns > 0, the header row then being read and
 * skipped; header false (which needs ncolumns > 0) says the file has no header row: every row,
 * the first included, is a record. A row whose cell count is not ncolumns is a bad row. */
int sr_reader_open_csv(sr_reader **out, const char *path, sr_format fmt, const char *const *columns,
                       size_t ncolumns, bool header, char *err, size_t errsize);
/* Returns 1 with *rec filled, 0 at end of file, or -1 (err: the file name,
 * the line and why) on a read error or a line longer than SR_MAX_LINE; after
 * -1 every call returns -1. An error is never taken for the end of the file. */
int sr_reader_next(sr_reader *r, sr_arena *a, sr_readrec *rec, char *err, size_t errsize);
/* For a reader opened with SR_FMT_JSONL: the next physical line as it is, for
 * callers that parse lines themselves (`run --in`), with the same limits and
 * errors as sr_reader_next (a BOM opening the file dropped). Returns 1 with
 * s[0..*n) valid until the next call and *line its number, 0 at end of file,
 * -1 with err. */
int sr_reader_line(sr_reader *r, const char **s, size_t *n, long *line, char *err, size_t errsize);
/* CSV: the column names (as rows name their fields), malloc'd into *out (the caller frees each
 * and the array); returns how many. JSON lines: -1, *out NULL. */
int sr_reader_columns(const sr_reader *r, char ***out);
void sr_reader_close(sr_reader *r);

#endif
