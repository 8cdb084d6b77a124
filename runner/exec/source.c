/* source.c — reads records from JSON-lines files and from CSV files with a header row, or with
 * the names of their columns given. */
#include "exec/source.h"

#include <assert.h>
#include <csv.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* A quoted field may run over several lines, but one that is still open after
 * this many bytes is taken to be a stray quote rather than a real cell. */
#define CSV_MAX_ROW (64u << 20)

typedef struct csv_cell {
    size_t off, len; /* bytes in cellbuf */
    bool null;       /* empty and unquoted */
} csv_cell;

struct sr_reader {
    FILE *f;
    char *path;
    sr_format fmt;
    /* Read buffer: buf[head..tail) is read but not handed out yet; it grows up
     * to SR_MAX_LINE + 1 bytes, never past. */
    char *buf;
    size_t cap, head, tail;
    bool eof;
    int read_errno; /* the read error that stopped the reader, or 0 */
    bool too_long;  /* the reader stopped at a line longer than SR_MAX_LINE */
    long lineno;    /* number of the last physical line handed out */

    /* CSV only. */
    struct csv_parser p;
    bool p_init;
    char **names; /* header, after renaming empty and duplicate names, or the columns given */
    bool named;   /* names are the columns given, not the header's */
    uint32_t *namelens;
    size_t ncols;
    sr_buf row;       /* the current row's physical lines, newlines included */
    size_t row_line2; /* offset in row of its second physical line */
    long row_line;    /* line on which the current row starts */
    bool row_done;    /* the parser has ended the row */
    sr_buf cellbuf;
    csv_cell *cells;
    size_t ncells, capcells;
    bool cell_too_long;
    /* Lines to read again before the file: after a bad quote, the lines that
     * followed the row's first line are parsed afresh. */
    sr_buf replay;
    size_t replay_pos;
};

/* ---- physical lines ------------------------------------------------------ */

typedef enum { LINE_OK, LINE_EOF, LINE_ERR } line_status;

/* Reads more of the file into the buffer, keeping buf[head..tail). Returns
 * LINE_OK (with at least one more byte, or eof set) or LINE_ERR with
 * read_errno set: a failed read is never taken for the end of the file. With
 * read(2) rather than stdio, a pipe's lines are handed out as they arrive. */
static line_status fill(sr_reader *r)
{
    if (r->head > 0) {
        memmove(r->buf, r->buf + r->head, r->tail - r->head);
        r->tail -= r->head;
        r->head = 0;
    }
    if (r->tail == r->cap) {
        size_t cap = r->cap ? 2 * r->cap : 64 * 1024;
        if (cap > SR_MAX_LINE + 1) cap = SR_MAX_LINE + 1;
        assert(cap > r->tail);
        char *b = realloc(r->buf, cap);
        if (!b) {
            r->read_errno = ENOMEM;
            return LINE_ERR;
        }
        r->buf = b;
        r->cap = cap;
    }
    ssize_t got;
    do {
        errno = 0;
        got = read(fileno(r->f), r->buf + r->tail, r->cap - r->tail);
    } while (got < 0 && errno == EINTR);
    if (got < 0) {
        r->read_errno = errno ? errno : EIO;
        return LINE_ERR;
    }
    if (got == 0)
        r->eof = true;
    else
        r->tail += (size_t)got;
    return LINE_OK;
}

/* Hands out the next physical line without its '\n' (*had_nl says whether it
 * had one). The bytes stay valid until the next call. A line longer than
 * SR_MAX_LINE stops the reader (too_long) rather than growing without bound. */
static line_status next_line(sr_reader *r, const char **s, size_t *n, bool *had_nl)
{
    if (r->replay_pos < r->replay.len) {
        const char *p = r->replay.d + r->replay_pos;
        size_t rem = r->replay.len - r->replay_pos;
        const char *nl = memchr(p, '\n', rem);
        *s = p;
        *n = nl ? (size_t)(nl - p) : rem;
        *had_nl = nl != NULL;
        r->replay_pos += *n + (nl ? 1 : 0);
        r->lineno++;
        return LINE_OK;
    }
    r->replay.len = r->replay_pos = 0;
    if (r->read_errno || r->too_long) return LINE_ERR;

    size_t scanned = 0; /* bytes after head known to hold no '\n' */
    const char *nl = NULL;
    for (;;) {
        if (r->tail > r->head + scanned)
            nl = memchr(r->buf + r->head + scanned, '\n', r->tail - r->head - scanned);
        if (nl) break;
        scanned = r->tail - r->head;
        if (scanned > SR_MAX_LINE) {
            r->too_long = true;
            r->lineno++;
            return LINE_ERR;
        }
        if (r->eof) break;
        if (fill(r) != LINE_OK) return LINE_ERR;
    }
    const char *p = r->buf + r->head;
    size_t len = nl ? (size_t)(nl - p) : r->tail - r->head;
    if (!nl && len == 0) return LINE_EOF;
    if (len > SR_MAX_LINE) { /* the '\n' came just past the limit */
        r->too_long = true;
        r->lineno++;
        return LINE_ERR;
    }
    *had_nl = nl != NULL;
    r->head += len + (nl ? 1 : 0);
    r->lineno++;
    if (r->lineno == 1 && len >= 3 && memcmp(p, "\xEF\xBB\xBF", 3) == 0) {
        p += 3;
        len -= 3;
    }
    *s = p;
    *n = len;
    return LINE_OK;
}

static int io_error(sr_reader *r, char *err, size_t errsize)
{
    if (r->too_long)
        snprintf(err, errsize,
                 "%s:%ld: line longer than %u bytes, the most a source file's line may hold "
                 "(is it a text file?); stopping here",
                 r->path, r->lineno, (unsigned)SR_MAX_LINE);
    else if (r->lineno == 0)
        snprintf(err, errsize, "%s: read error: %s", r->path,
                 strerror(r->read_errno ? r->read_errno : EIO));
    else
        snprintf(err, errsize, "%s: read error after line %ld: %s; stopping here", r->path,
                 r->lineno, strerror(r->read_errno ? r->read_errno : EIO));
    return -1;
}

/* Strips one '\r' left by a CRLF line end. */
static size_t chomp_cr(const char *s, size_t n)
{
    return n > 0 && s[n - 1] == '\r' ? n - 1 : n;
}

/* ---- JSON lines ---------------------------------------------------------- */

static int jsonl_next(sr_reader *r, sr_arena *a, sr_readrec *rec, char *err, size_t errsize)
{
    for (;;) {
        const char *s;
        size_t n;
        bool had_nl;
        line_status st = next_line(r, &s, &n, &had_nl);
        if (st == LINE_EOF) return 0;
        if (st == LINE_ERR) return io_error(r, err, errsize);
        n = chomp_cr(s, n);
        size_t i = 0;
        while (i < n && (s[i] == ' ' || s[i] == '\t' || s[i] == '\r')) i++;
        if (i == n) continue;

        /* The parsed value borrows its text, and the line buffer is reused. */
        char *copy = sr_arena_strndup(a, s, n);
        rec->raw = copy;
        rec->rawlen = n;
        rec->line = r->lineno;
        char msg[200];
        size_t pos = 0;
        msg[0] = 0;
        if (sr_json_parse(a, copy, n, &rec->value, msg, sizeof(msg), &pos) != 0) {
            rec->ok = false;
            rec->value = (sr_value){0};
            snprintf(rec->reason, sizeof(rec->reason), "invalid JSON at column %zu: %s", pos + 1,
                     msg);
        } else {
            rec->ok = true;
        }
        return 1;
    }
}

/* ---- CSV: parsing rows --------------------------------------------------- */

static int csv_is_cr(unsigned char c)
{
    return c == '\r';
}

static int csv_is_lf(unsigned char c)
{
    return c == '\n';
}

static void csv_on_cell(void *s, size_t len, void *data)
{
    sr_reader *r = data;
    if (r->ncells == r->capcells) {
        r->capcells = r->capcells ? 2 * r->capcells : 32;
        r->cells = sr_xrealloc(r->cells, r->capcells * sizeof(*r->cells));
    }
    csv_cell *c = &r->cells[r->ncells++];
    c->off = r->cellbuf.len;
    c->len = len;
    c->null = s == NULL;
    if (len > UINT32_MAX) r->cell_too_long = true;
    if (s) sr_buf_put(&r->cellbuf, s, len);
}

static void csv_on_row(int c, void *data)
{
    sr_reader *r = data;
    r->row_done = true;
}

/* Starts the parser afresh (also the way out of its error state). Spaces and
 * tabs are cell content; only a '\r' before the '\n' is dropped, as part of a
 * CRLF line end. An empty unquoted cell comes back as NULL, a quoted "" as an
 * empty string. */
static void csv_reset(sr_reader *r)
{
    if (r->p_init) csv_free(&r->p);
    csv_init(&r->p, CSV_STRICT | CSV_EMPTY_IS_NULL);
    csv_set_space_func(&r->p, csv_is_cr);
    csv_set_term_func(&r->p, csv_is_lf);
    csv_set_realloc_func(&r->p, sr_xrealloc);
    csv_set_blk_size(&r->p, 4096);
    r->p_init = true;
}

static bool blank_line(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (s[i] != '\r') return false;
    return true;
}

typedef enum { ROW_OK, ROW_EOF, ROW_ERR, ROW_BAD } row_status;

/* Sets up a re-read of the lines of the current row after its first, puts the
 * row's raw bytes back to that first line, and resets the parser. */
static void csv_resync(sr_reader *r)
{
    size_t more = r->row.len - r->row_line2;
    if (more > 0) {
        sr_buf nb = {0};
        sr_buf_put(&nb, r->row.d + r->row_line2, more);
        if (r->replay_pos < r->replay.len)
            sr_buf_put(&nb, r->replay.d + r->replay_pos, r->replay.len - r->replay_pos);
        sr_buf_free(&r->replay);
        r->replay = nb;
        r->replay_pos = 0;
        r->row.len = r->row_line2;
        r->lineno = r->row_line;
    }
    csv_reset(r);
}

/* Reads one row: its cells into cells/cellbuf, its bytes into row. On
 * ROW_BAD, reason says what is wrong with the quoting; the row is then its
 * first line only and the lines after it are read again. */
static row_status csv_read_row(sr_reader *r, char *reason, size_t rsize)
{
    bool open = false;
    r->row.len = 0;
    r->cellbuf.len = 0;
    r->ncells = 0;
    r->cell_too_long = false;
    r->row_done = false;
    for (;;) {
        const char *s;
        size_t n;
        bool had_nl;
        line_status st = next_line(r, &s, &n, &had_nl);
        if (st == LINE_ERR) return ROW_ERR;
        if (st == LINE_EOF) {
            if (!open) return ROW_EOF;
            snprintf(reason, rsize, "unterminated quoted field");
            csv_resync(r);
            return ROW_BAD;
        }
        if (!open) {
            if (blank_line(s, n)) continue;
            open = true;
            r->row_line = r->lineno;
        }
        sr_buf_put(&r->row, s, n);
        if (had_nl) sr_buf_putc(&r->row, '\n');
        if (r->lineno == r->row_line) r->row_line2 = r->row.len;

        /* A missing final newline is supplied so that the row ends. */
        if (csv_parse(&r->p, s, n, csv_on_cell, csv_on_row, r) != n ||
            csv_parse(&r->p, "\n", 1, csv_on_cell, csv_on_row, r) != 1) {
            long last = r->lineno;
            if (csv_error(&r->p) != CSV_EPARSE) {
                r->read_errno = ENOMEM;
                return ROW_ERR;
            }
            if (last == r->row_line)
                snprintf(reason, rsize, "malformed quoting");
            else
                snprintf(reason, rsize, "malformed quoting (quoted field running to line %ld)",
                         last);
            csv_resync(r);
            return ROW_BAD;
        }
        if (r->row_done) return ROW_OK;
        if (r->row.len > CSV_MAX_ROW) {
            snprintf(reason, rsize, "unterminated quoted field (still open after %u bytes)",
                     CSV_MAX_ROW);
            csv_resync(r);
            return ROW_BAD;
        }
    }
}

/* The row's bytes without the final line end. */
static size_t csv_rawlen(const sr_reader *r)
{
    size_t n = r->row.len;
    if (n > 0 && r->row.d[n - 1] == '\n') n--;
    return chomp_cr(r->row.d, n);
}

/* ---- CSV: header --------------------------------------------------------- */

static bool name_eq(const char *a, size_t an, const char *b, size_t bn)
{
    return an == bn && memcmp(a, b, an) == 0;
}

/* Takes the header from the cells of the row just read: an empty name becomes
 * column_N (1-based), and a repeated name gets _2, _3... choosing a suffix
 * that no other column is called. */
static void csv_take_header(sr_reader *r)
{
    size_t n = r->ncells;
    char **base = sr_xcalloc(n ? n : 1, sizeof(*base));
    size_t *blen = sr_xcalloc(n ? n : 1, sizeof(*blen));
    for (size_t i = 0; i < n; i++) {
        const csv_cell *c = &r->cells[i];
        if (c->len == 0) {
            char tmp[32];
            int k = snprintf(tmp, sizeof(tmp), "column_%zu", i + 1);
            base[i] = sr_xstrndup(tmp, (size_t)k);
            blen[i] = (size_t)k;
        } else {
            base[i] = sr_xstrndup(r->cellbuf.d + c->off, c->len);
            blen[i] = c->len;
        }
    }

    r->names = sr_xcalloc(n ? n : 1, sizeof(*r->names));
    r->namelens = sr_xcalloc(n ? n : 1, sizeof(*r->namelens));
    r->ncols = n;
    sr_buf cand = {0};
    for (size_t i = 0; i < n; i++) {
        size_t same = 0;
        for (size_t j = 0; j < i; j++) same += name_eq(base[j], blen[j], base[i], blen[i]);
        cand.len = 0;
        sr_buf_put(&cand, base[i], blen[i]);
        for (size_t k = same + 1; same > 0; k++) {
            cand.len = blen[i];
            sr_buf_printf(&cand, "_%zu", k);
            bool taken = false;
            for (size_t j = 0; j < i && !taken; j++)
                taken = name_eq(r->names[j], r->namelens[j], cand.d, cand.len);
            for (size_t j = i + 1; j < n && !taken; j++)
                taken = name_eq(base[j], blen[j], cand.d, cand.len);
            if (!taken) break;
        }
        r->names[i] = sr_xstrndup(cand.d, cand.len);
        r->namelens[i] = (uint32_t)cand.len;
    }
    sr_buf_free(&cand);
    for (size_t i = 0; i < n; i++) free(base[i]);
    free(base);
    free(blen);
}

/* ---- CSV: cells to values ------------------------------------------------ */

/* JSON number grammar: -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)? */
static bool is_json_number(const char *s, size_t n)
{
    size_t i = 0;
    if (i < n && s[i] == '-') i++;
    if (i == n) return false;
    if (s[i] == '0') {
        i++;
    } else if (s[i] >= '1' && s[i] <= '9') {
        while (i < n && s[i] >= '0' && s[i] <= '9') i++;
    } else {
        return false;
    }
    if (i < n && s[i] == '.') {
        i++;
        size_t d = i;
        while (i < n && s[i] >= '0' && s[i] <= '9') i++;
        if (i == d) return false;
    }
    if (i < n && (s[i] == 'e' || s[i] == 'E')) {
        i++;
        if (i < n && (s[i] == '+' || s[i] == '-')) i++;
        size_t d = i;
        while (i < n && s[i] >= '0' && s[i] <= '9') i++;
        if (i == d) return false;
    }
    return i == n;
}

/* Quotes do not change a cell's type except for an empty one: "" is the
 * empty string where nothing at all is null. */
static sr_value csv_cell_value(const char *s, size_t n, bool null)
{
    if (null) return sr_null();
    if (n == 4 && memcmp(s, "true", 4) == 0) return sr_bool(true);
    if (n == 5 && memcmp(s, "false", 5) == 0) return sr_bool(false);
    if (is_json_number(s, n)) {
        sr_value v = {.type = SR_NUM, .len = (uint32_t)n, .u.s = s};
        return v;
    }
    return sr_str(s, n);
}

static int csv_next(sr_reader *r, sr_arena *a, sr_readrec *rec, char *err, size_t errsize)
{
    row_status st = csv_read_row(r, rec->reason, sizeof(rec->reason));
    if (st == ROW_EOF) return 0;
    if (st == ROW_ERR) return io_error(r, err, errsize);

    size_t rawlen = csv_rawlen(r);
    rec->raw = sr_arena_strndup(a, r->row.d, rawlen);
    rec->rawlen = rawlen;
    rec->line = r->row_line;
    if (st == ROW_BAD) return 1;
    if (r->ncells != r->ncols) {
        snprintf(rec->reason, sizeof(rec->reason), "row has %zu cells, %s %zu", r->ncells,
                 r->named ? "columns: names" : "the header has", r->ncols);
        return 1;
    }
    if (r->cell_too_long) {
        snprintf(rec->reason, sizeof(rec->reason), "a cell is longer than %u bytes",
                 (unsigned)UINT32_MAX);
        return 1;
    }
    /* quotes and separators are ASCII: checking the row checks every cell */
    size_t bad = sr_utf8_invalid(rec->raw, rawlen);
    if (bad < rawlen) {
        snprintf(rec->reason, sizeof(rec->reason), "invalid UTF-8 at byte %zu of the row", bad + 1);
        return 1;
    }

    const char *text = sr_arena_strndup(a, r->cellbuf.d, r->cellbuf.len);
    sr_member *m = sr_arena_alloc(a, r->ncols * sizeof(*m));
    for (size_t i = 0; i < r->ncols; i++) {
        const csv_cell *c = &r->cells[i];
        m[i].key = r->names[i];
        m[i].klen = r->namelens[i];
        m[i].v = csv_cell_value(text + c->off, c->len, c->null);
    }
    rec->value =
        (sr_value){.type = SR_OBJ, .len = (uint32_t)r->ncols, .cap = (uint32_t)r->ncols, .u.o = m};
    rec->ok = true;
    return 1;
}

/* ---- open, next, close --------------------------------------------------- */

/* Names the columns columns[0..n) instead of by a header row. */
static void csv_take_columns(sr_reader *r, const char *const *columns, size_t n)
{
    r->names = sr_xcalloc(n, sizeof(*r->names));
    r->namelens = sr_xcalloc(n, sizeof(*r->namelens));
    r->ncols = n;
    for (size_t i = 0; i < n; i++) {
        r->names[i] = sr_xstrdup(columns[i]);
        r->namelens[i] = (uint32_t)strlen(columns[i]);
    }
    r->named = true;
}

int sr_reader_open(sr_reader **out, const char *path, sr_format fmt, char *err, size_t errsize)
{
    return sr_reader_open_csv(out, path, fmt, NULL, 0, true, err, errsize);
}

int sr_reader_open_csv(sr_reader **out, const char *path, sr_format fmt, const char *const *columns,
                       size_t ncolumns, bool header, char *err, size_t errsize)
{
    assert(header || ncolumns > 0);
    *out = NULL;
    FILE *f = strcmp(path, "-") == 0 ? stdin : fopen(path, "rb");
    if (!f) {
        snprintf(err, errsize, "cannot open %s: %s", path, strerror(errno));
        return -1;
    }
    sr_reader *r = sr_xcalloc(1, sizeof(*r));
    r->f = f;
    r->path = sr_xstrdup(path);
    r->fmt = fmt;
    if (fmt == SR_FMT_CSV) {
        csv_reset(r);
        if (ncolumns > 0) csv_take_columns(r, columns, ncolumns);
        if (!header) {
            *out = r;
            return 0;
        }
        char reason[256];
        row_status st = csv_read_row(r, reason, sizeof(reason));
        if (st == ROW_ERR) {
            io_error(r, err, errsize);
            sr_reader_close(r);
            return -1;
        }
        if (st == ROW_BAD) {
            snprintf(err, errsize, "%s:%ld: header row: %s", path, r->row_line, reason);
            sr_reader_close(r);
            return -1;
        }
        size_t hlen = csv_rawlen(r), bad = st == ROW_OK ? sr_utf8_invalid(r->row.d, hlen) : hlen;
        if (bad < hlen) {
            snprintf(err, errsize, "%s:%ld: header row: invalid UTF-8 at byte %zu", path,
                     r->row_line, bad + 1);
            sr_reader_close(r);
            return -1;
        }
        /* An empty file has no header and no rows: it reads as no records. */
        if (st == ROW_OK && !r->named) csv_take_header(r);
    }
    *out = r;
    return 0;
}

int sr_reader_next(sr_reader *r, sr_arena *a, sr_readrec *rec, char *err, size_t errsize)
{
    memset(rec, 0, sizeof(*rec));
    if (r->fmt == SR_FMT_CSV) return csv_next(r, a, rec, err, errsize);
    return jsonl_next(r, a, rec, err, errsize);
}

int sr_reader_line(sr_reader *r, const char **s, size_t *n, long *line, char *err, size_t errsize)
{
    assert(r->fmt != SR_FMT_CSV);
    bool had_nl;
    line_status st = next_line(r, s, n, &had_nl);
    if (st == LINE_EOF) return 0;
    if (st == LINE_ERR) return io_error(r, err, errsize);
    *line = r->lineno;
    return 1;
}

int sr_reader_columns(const sr_reader *r, char ***out)
{
    *out = NULL;
    if (r->fmt != SR_FMT_CSV) return -1;
    *out = sr_xcalloc(r->ncols + 1, sizeof(char *));
    for (size_t i = 0; i < r->ncols; i++) (*out)[i] = sr_xstrdup(r->names[i]);
    return (int)r->ncols;
}

void sr_reader_close(sr_reader *r)
{
    if (!r) return;
    if (r->f && r->f != stdin) fclose(r->f);
    free(r->path);
    free(r->buf);
    if (r->p_init) csv_free(&r->p);
    for (size_t i = 0; i < r->ncols; i++) free(r->names[i]);
    free(r->names);
    free(r->namelens);
    sr_buf_free(&r->row);
    sr_buf_free(&r->cellbuf);
    free(r->cells);
    sr_buf_free(&r->replay);
    free(r);
}
