/* lsp.h — `streamrun lsp`: a Language Server Protocol server for topology files over stdio. */
#ifndef SR_LSP_H
#define SR_LSP_H

#include "base/arena.h"

#include <jansson.h>
#include <stdbool.h>
#include <stdio.h>

/* Serves one client: reads JSON-RPC 2.0 messages framed by Content-Length headers from in,
 * writes responses and notifications to out, until the client's `exit` notification or the end
 * of in. Returns the process's exit code: 0 when `shutdown` came before `exit` (or the end of
 * input), 1 otherwise, as the protocol asks. Never stops on a malformed message: a frame whose
 * body is not JSON gets a ParseError response, one that is not a request an InvalidRequest, an
 * unknown request MethodNotFound; an unknown notification is ignored.
 * @locality the calling thread (one client, one thread); @locks none. */
int sr_lsp_serve(FILE *in, FILE *out);

/* ---- framing (rpc.c) ----------------------------------------------------------------------
 * @locality the thread that owns the stream; @locks none (a stream is read, and written, by one
 * thread). */

/* Reads the next frame's body into body (reset first; any size). Returns 1 with a body, 0 at the
 * end of input, -1 when the headers had no valid Content-Length (the frame is skipped up to its
 * blank line; the caller answers with a ParseError). */
int sr_lsp_read_frame(FILE *in, sr_buf *body);
/* Writes msg as one frame and flushes. Returns 0, or -1 when out failed. */
int sr_lsp_write(FILE *out, const json_t *msg);

/* ---- a document's text --------------------------------------------------------------------- */

/* How a client counts the characters of a position: UTF-16 code units (the protocol's default)
 * or bytes (positionEncoding "utf-8", when the client offers it). */
typedef enum { SR_LSP_UTF16, SR_LSP_UTF8 } sr_lsp_encoding;

typedef struct sr_lsp_text {
    const char *text; /* NUL-terminated; len bytes */
    size_t len;
    const size_t *lines; /* offset of each line's start (sr_lsp_index_lines) */
    int nlines;
    sr_lsp_encoding enc;
} sr_lsp_text;

/* The offsets of the starts of text's lines (the first is 0); *n of them, malloc'd. */
size_t *sr_lsp_index_lines(const char *text, size_t len, int *n);

/* The byte range of 0-based line `line` (without its line break); false past the last line. */
bool sr_lsp_line(const sr_lsp_text *d, int line, size_t *start, size_t *end);
/* The client's character count of the first `bytes` bytes of a line (clamped to it). */
int sr_lsp_char_of(const sr_lsp_text *d, int line, size_t bytes);
/* The byte offset in its line of the client's character ch of line (clamped to the line). */
size_t sr_lsp_byte_of(const sr_lsp_text *d, int line, int ch);
/* {"line":..,"character":..} of a 1-based line and byte column (a diagnostic's mark). */
json_t *sr_lsp_position(const sr_lsp_text *d, int line1, int col1);

/* ---- assistance (assist.c) --------------------------------------------------------------------
 * Each takes the document, the topology loaded from its text (NULL when it did not parse) and a
 * 0-based position (line, byte offset in the line); returns a new JSON result (never NULL: the
 * protocol's null when there is nothing). They only read their arguments: @locality any thread
 * that owns d and t for the call; @locks none. */
struct sr_topology;
/* fresh: t was loaded from the current text (its marks are where the text is), else from an
 * older one that parsed (names only are taken from it). tests: d is a tests file
 * (NAME.tests.yaml; t is its topology): its top-level keys complete too. */
json_t *sr_lsp_completion(const sr_lsp_text *d, const struct sr_topology *t, bool fresh, bool tests,
                          int line, size_t col);
json_t *sr_lsp_hover(const sr_lsp_text *d, const struct sr_topology *t, int line, size_t col);
/* A location in t's file, whose text is td (d itself for a topology, the topology's for a tests
 * file) and whose uri is uri. */
json_t *sr_lsp_definition(const sr_lsp_text *d, const struct sr_topology *t, const sr_lsp_text *td,
                          const char *uri, int line, size_t col);

#endif
