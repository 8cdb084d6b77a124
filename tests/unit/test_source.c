/* test_source.c — unit tests for the JSON-lines and CSV file readers. */
#include "exec/source.h"
#include "test.h"

#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <unistd.h>

/* Fault injection: this test is linked with --wrap=read,--wrap=fread,--wrap=getline
 * (tests/CMakeLists.txt), so the reader's reads come here. When io_fault is N > 0, the Nth read
 * from now fails with EIO, and a getline or fread without setting the stream's error or
 * end-of-file flag (as getline does when it cannot grow its buffer). */
static int io_fault;

ssize_t __real_read(int fd, void *buf, size_t n);
size_t __real_fread(void *ptr, size_t size, size_t n, FILE *f);
ssize_t __real_getline(char **line, size_t *cap, FILE *f);

static bool fault_now(void)
{
    if (io_fault == 0 || --io_fault > 0) return false;
    errno = EIO;
    return true;
}

ssize_t __wrap_read(int fd, void *buf, size_t n)
{
    return fault_now() ? -1 : __real_read(fd, buf, n);
}

size_t __wrap_fread(void *ptr, size_t size, size_t n, FILE *f)
{
    return fault_now() ? 0 : __real_fread(ptr, size, n, f);
}

ssize_t __wrap_getline(char **line, size_t *cap, FILE *f)
{
    return fault_now() ? -1 : __real_getline(line, cap, f);
}

#define MAXREC 64

/* What one read returned; values are serialised only after the whole file
 * has been read, which shows they do not borrow the reader's line buffer. */
typedef struct got {
    int ok;
    long line;
    char raw[512];
    size_t rawlen;
    char reason[256];
    sr_value value;
    char json[1024];
} got;

static char tmpdir[PATH_MAX];
static got g[MAXREC];
static sr_buf jb;

static const char *dump(const sr_value *v)
{
    jb.len = 0;
    if (sr_json_write(&jb, v) != 0) return "(unwritable)";
    return sr_buf_cstr(&jb);
}

static const char *write_file(const char *name, const char *text, size_t len)
{
    static char path[PATH_MAX + 64];
    snprintf(path, sizeof(path), "%s/%s", tmpdir, name);
    FILE *f = fopen(path, "wb");
    if (!f) return path;
    fwrite(text, 1, len, f);
    fclose(f);
    return path;
}

#define WRITE(name, lit) write_file(name, lit, sizeof(lit) - 1)

/* Reads every record of path into g; returns the count, or -1 when the file
 * cannot be opened (err then holds why). */
static int read_cols(const char *path, sr_format fmt, const char *const *cols, size_t ncols,
                     bool header, sr_arena *a, char *err, size_t errsize)
{
    sr_reader *r;
    memset(g, 0, sizeof(g));
    if (sr_reader_open_csv(&r, path, fmt, cols, ncols, header, err, errsize) != 0) return -1;
    int n = 0;
    sr_readrec rec;
    int rc;
    while ((rc = sr_reader_next(r, a, &rec, err, errsize)) == 1) {
        if (n == MAXREC) continue;
        got *x = &g[n++];
        x->ok = rec.ok;
        x->line = rec.line;
        x->rawlen = rec.rawlen;
        if (rec.rawlen < sizeof(x->raw)) memcpy(x->raw, rec.raw, rec.rawlen);
        snprintf(x->reason, sizeof(x->reason), "%s", rec.reason);
        x->value = rec.value;
    }
    /* CSV keys belong to the reader: serialise before closing it. */
    for (int i = 0; i < n; i++)
        if (g[i].ok) snprintf(g[i].json, sizeof(g[i].json), "%s", dump(&g[i].value));
    sr_reader_close(r);
    return rc < 0 ? -2 : n;
}

static int read_all(const char *path, sr_format fmt, sr_arena *a, char *err, size_t errsize)
{
    return read_cols(path, fmt, NULL, 0, true, a, err, errsize);
}

static bool starts_with(const char *s, const char *prefix)
{
    return strncmp(s, prefix, strlen(prefix)) == 0;
}

static void test_jsonl(sr_arena *a)
{
    char err[256];
    const char *p = WRITE("a.jsonl", "\xEF\xBB\xBF{\"a\":1,\"b\":\"x y\"}\n"
                                     "\n"
                                     "  \t \r\n"
                                     "{\"n\":12345678901234567890,\"s\":\"caf\\u00e9\"}\r\n"
                                     "{\"a\":}\n"
                                     "[1, 2.50, true, null]");
    int n = read_all(p, SR_FMT_JSONL, a, err, sizeof(err));
    CHECK(n == 4);
    CHECK(g[0].ok);
    CHECK(g[0].line == 1);
    CHECK_STR(g[0].json, "{\"a\":1,\"b\":\"x y\"}");
    CHECK_STR(g[0].raw, "{\"a\":1,\"b\":\"x y\"}");
    CHECK(g[1].ok);
    CHECK(g[1].line == 4);
    CHECK_STR(g[1].json, "{\"n\":12345678901234567890,\"s\":\"caf\xC3\xA9\"}");
    CHECK_STR(g[1].raw, "{\"n\":12345678901234567890,\"s\":\"caf\\u00e9\"}");
    CHECK(!g[2].ok);
    CHECK(g[2].line == 5);
    CHECK_STR(g[2].raw, "{\"a\":}");
    CHECK(starts_with(g[2].reason, "invalid JSON at column 6: "));
    CHECK(strlen(g[2].reason) > strlen("invalid JSON at column 6: "));
    CHECK(g[2].value.type == SR_MISSING);
    CHECK(g[3].ok);
    CHECK(g[3].line == 6);
    CHECK_STR(g[3].json, "[1,2.50,true,null]");
    CHECK(g[3].rawlen == strlen("[1, 2.50, true, null]"));

    /* Trailing garbage and an empty file. */
    p = WRITE("b.jsonl", "{} x\n");
    n = read_all(p, SR_FMT_JSONL, a, err, sizeof(err));
    CHECK(n == 1 && !g[0].ok);
    CHECK(starts_with(g[0].reason, "invalid JSON at column 4: "));
    p = WRITE("c.jsonl", "");
    CHECK(read_all(p, SR_FMT_JSONL, a, err, sizeof(err)) == 0);
}

static void test_csv_types(sr_arena *a)
{
    char err[256];
    const char *p =
        WRITE("types.csv", "s,i,big,neg,zero,negzero,dec,exp,exp2,t,f,e,q,sp\n"
                           "text,42,12345678901234567890123,-7,0,-0,1.5,-2e3,1E+5,true,false,,\"\","
                           "  padded  \n"
                           "1.,.5,01,+3,\"1,000\",NaN,-,1e,0x10,True,FALSE,null,\" \",\"7\"\n");
    int n = read_all(p, SR_FMT_CSV, a, err, sizeof(err));
    CHECK(n == 2);
    CHECK(g[0].ok && g[0].line == 2);
    CHECK_STR(g[0].json, "{\"s\":\"text\",\"i\":42,\"big\":12345678901234567890123,\"neg\":-7,"
                         "\"zero\":0,\"negzero\":-0,\"dec\":1.5,\"exp\":-2e3,\"exp2\":1E+5,"
                         "\"t\":true,\"f\":false,\"e\":null,\"q\":\"\",\"sp\":\"  padded  \"}");
    CHECK(g[0].value.type == SR_OBJ && g[0].value.len == 14);
    CHECK(g[0].value.u.o[2].v.type == SR_NUM);
    CHECK(g[0].value.u.o[11].v.type == SR_NULL);
    CHECK(g[0].value.u.o[12].v.type == SR_STR && g[0].value.u.o[12].v.len == 0);
    CHECK(g[1].ok && g[1].line == 3);
    CHECK_STR(g[1].json,
              "{\"s\":\"1.\",\"i\":\".5\",\"big\":\"01\",\"neg\":\"+3\",\"zero\":\"1,000\","
              "\"negzero\":\"NaN\",\"dec\":\"-\",\"exp\":\"1e\",\"exp2\":\"0x10\","
              "\"t\":\"True\",\"f\":\"FALSE\",\"e\":\"null\",\"q\":\" \",\"sp\":7}");
    CHECK_STR(g[1].raw, "1.,.5,01,+3,\"1,000\",NaN,-,1e,0x10,True,FALSE,null,\" \",\"7\"");
}

static void test_csv_header(sr_arena *a)
{
    char err[256];
    const char *p = WRITE("hdr.csv", "\xEF\xBB\xBFid,name,,name\r\n1,a,b,c\r\n");
    int n = read_all(p, SR_FMT_CSV, a, err, sizeof(err));
    CHECK(n == 1);
    CHECK_STR(g[0].json, "{\"id\":1,\"name\":\"a\",\"column_3\":\"b\",\"name_2\":\"c\"}");
    CHECK_STR(g[0].raw, "1,a,b,c");

    /* A suffix never takes the name of another column. */
    p = WRITE("hdr2.csv", "x,x,x_2,x,\"\"\n1,2,3,4,5\n");
    n = read_all(p, SR_FMT_CSV, a, err, sizeof(err));
    CHECK(n == 1);
    CHECK_STR(g[0].json, "{\"x\":1,\"x_3\":2,\"x_2\":3,\"x_4\":4,\"column_5\":5}");

    /* Blank lines before the header count; a header-only file has no rows. */
    p = WRITE("hdr3.csv", "\n\r\n\"a\",\"b\"\n");
    CHECK(read_all(p, SR_FMT_CSV, a, err, sizeof(err)) == 0);
    p = WRITE("hdr4.csv", "\n\na,b\n1,2\n");
    n = read_all(p, SR_FMT_CSV, a, err, sizeof(err));
    CHECK(n == 1 && g[0].line == 4);

    /* An empty file reads as no records; a broken header fails the open. */
    p = WRITE("empty.csv", "");
    CHECK(read_all(p, SR_FMT_CSV, a, err, sizeof(err)) == 0);
    p = WRITE("badhdr.csv", "a,b\"c\n1,2\n");
    CHECK(read_all(p, SR_FMT_CSV, a, err, sizeof(err)) == -1);
    CHECK(strstr(err, "header row: malformed quoting") != NULL);

    char missing[PATH_MAX + 32];
    snprintf(missing, sizeof(missing), "%s/nope.csv", tmpdir);
    CHECK(read_all(missing, SR_FMT_CSV, a, err, sizeof(err)) == -1);
    CHECK(starts_with(err, "cannot open "));
}

/* Columns named by the caller: the header row is skipped, or (no header) read as a record. */
static void test_csv_columns(sr_arena *a)
{
    char err[256];
    static const char *const cols[] = {"state", "code", "population"};
    const char *p = WRITE("cols.csv", "admin1Name_en,,\nAbia,NG001,3644714\nLagos,NG025\n");
    int n = read_cols(p, SR_FMT_CSV, cols, 3, true, a, err, sizeof(err));
    CHECK(n == 2);
    CHECK(g[0].ok && g[0].line == 2);
    CHECK_STR(g[0].json, "{\"state\":\"Abia\",\"code\":\"NG001\",\"population\":3644714}");
    CHECK(!g[1].ok && g[1].line == 3);
    CHECK_STR(g[1].reason, "row has 2 cells, columns: names 3");

    n = read_cols(p, SR_FMT_CSV, cols, 3, false, a, err, sizeof(err));
    CHECK(n == 3);
    CHECK(g[0].ok && g[0].line == 1);
    CHECK_STR(g[0].json, "{\"state\":\"admin1Name_en\",\"code\":null,\"population\":null}");
    CHECK_STR(g[1].json, "{\"state\":\"Abia\",\"code\":\"NG001\",\"population\":3644714}");
    CHECK(!g[2].ok && g[2].line == 3);

    /* An empty file has no rows either way. */
    p = WRITE("cols-empty.csv", "");
    CHECK(read_cols(p, SR_FMT_CSV, cols, 3, false, a, err, sizeof(err)) == 0);
    CHECK(read_cols(p, SR_FMT_CSV, cols, 3, true, a, err, sizeof(err)) == 0);
}

static void test_csv_multiline(sr_arena *a)
{
    char err[256];
    const char *p = WRITE("multi.csv", "id,text,n\r\n"
                                       "1,\"line one\r\nline two, with comma\",5\r\n"
                                       "\r\n"
                                       "2,\"say \"\"hi\"\"\",6\r\n"
                                       "3,\"a\r\n\r\nb\",7\r\n"
                                       "4,x,8");
    int n = read_all(p, SR_FMT_CSV, a, err, sizeof(err));
    CHECK(n == 4);
    CHECK(g[0].ok && g[0].line == 2);
    CHECK_STR(g[0].json, "{\"id\":1,\"text\":\"line one\\r\\nline two, with comma\",\"n\":5}");
    CHECK_STR(g[0].raw, "1,\"line one\r\nline two, with comma\",5");
    CHECK(g[1].ok && g[1].line == 5);
    CHECK_STR(g[1].json, "{\"id\":2,\"text\":\"say \\\"hi\\\"\",\"n\":6}");
    CHECK(g[2].ok && g[2].line == 6);
    CHECK_STR(g[2].json, "{\"id\":3,\"text\":\"a\\r\\n\\r\\nb\",\"n\":7}");
    CHECK_STR(g[2].raw, "3,\"a\r\n\r\nb\",7");
    CHECK(g[3].ok && g[3].line == 9);
    CHECK_STR(g[3].json, "{\"id\":4,\"text\":\"x\",\"n\":8}");
    CHECK_STR(g[3].raw, "4,x,8");

    /* One column: whitespace is a value, "" the empty string, nothing skipped. */
    p = WRITE("one.csv", "v\n \n\n\"\"\nx\n");
    n = read_all(p, SR_FMT_CSV, a, err, sizeof(err));
    CHECK(n == 3);
    CHECK_STR(g[0].json, "{\"v\":\" \"}");
    CHECK(g[0].line == 2);
    CHECK_STR(g[1].json, "{\"v\":\"\"}");
    CHECK(g[1].line == 4);
    CHECK_STR(g[2].json, "{\"v\":\"x\"}");
    CHECK(g[2].line == 5);
}

static void test_csv_errors(sr_arena *a)
{
    char err[256];
    const char *p = WRITE("err.csv", "a,b\n"
                                     "1,2\n"
                                     "1,2,3\n"
                                     "1\n"
                                     "x,y\"z\n"
                                     "\"p\"q,r\n"
                                     "5,6\n"
                                     "\n"
                                     "7,\"unterminated\n"
                                     "8,9\n");
    int n = read_all(p, SR_FMT_CSV, a, err, sizeof(err));
    CHECK(n == 8);
    CHECK(g[0].ok && g[0].line == 2);
    CHECK(!g[1].ok && g[1].line == 3);
    CHECK_STR(g[1].reason, "row has 3 cells, the header has 2");
    CHECK_STR(g[1].raw, "1,2,3");
    CHECK(!g[2].ok && g[2].line == 4);
    CHECK_STR(g[2].reason, "row has 1 cells, the header has 2");
    CHECK(!g[3].ok && g[3].line == 5);
    CHECK_STR(g[3].reason, "malformed quoting");
    CHECK_STR(g[3].raw, "x,y\"z");
    CHECK(!g[4].ok && g[4].line == 6);
    CHECK_STR(g[4].reason, "malformed quoting");
    CHECK_STR(g[4].raw, "\"p\"q,r");
    CHECK(g[5].ok && g[5].line == 7);
    CHECK_STR(g[5].json, "{\"a\":5,\"b\":6}");
    CHECK(!g[6].ok && g[6].line == 9);
    CHECK_STR(g[6].reason, "unterminated quoted field");
    CHECK_STR(g[6].raw, "7,\"unterminated");
    CHECK(g[7].ok && g[7].line == 10);
    CHECK_STR(g[7].json, "{\"a\":8,\"b\":9}");
    CHECK_STR(g[7].raw, "8,9");

    /* A quote left open is found lines later: the row is its first line and
     * the lines after it are read again. */
    p = WRITE("err2.csv", "a,b\n"
                          "1,\"abc,2\n"
                          "3,4\n"
                          "5,\"x\",6\n"
                          "7,8\n");
    n = read_all(p, SR_FMT_CSV, a, err, sizeof(err));
    CHECK(n == 4);
    CHECK(!g[0].ok && g[0].line == 2);
    CHECK_STR(g[0].reason, "malformed quoting (quoted field running to line 4)");
    CHECK_STR(g[0].raw, "1,\"abc,2");
    CHECK(g[1].ok && g[1].line == 3);
    CHECK_STR(g[1].json, "{\"a\":3,\"b\":4}");
    CHECK(!g[2].ok && g[2].line == 4);
    CHECK_STR(g[2].reason, "row has 3 cells, the header has 2");
    CHECK(g[3].ok && g[3].line == 5);
    CHECK_STR(g[3].json, "{\"a\":7,\"b\":8}");

    /* A quote still open at the end of a file without a final newline, met
     * while reading lines again. */
    p = WRITE("err3.csv", "a,b\r\n"
                          "\"x,1\r\n"
                          "2,\"y\r\n"
                          "3,4");
    n = read_all(p, SR_FMT_CSV, a, err, sizeof(err));
    CHECK(n == 3);
    CHECK(!g[0].ok && g[0].line == 2);
    CHECK_STR(g[0].reason, "malformed quoting (quoted field running to line 3)");
    CHECK_STR(g[0].raw, "\"x,1");
    CHECK(!g[1].ok && g[1].line == 3);
    CHECK_STR(g[1].reason, "unterminated quoted field");
    CHECK_STR(g[1].raw, "2,\"y");
    CHECK(g[2].ok && g[2].line == 4);
    CHECK_STR(g[2].json, "{\"a\":3,\"b\":4}");
}

/* A read that fails is an error with the file's name, never the end of the file: the records
 * after it are not silently lost. */
static void test_read_error(sr_arena *a)
{
    sr_buf text = {0};
    for (int i = 1; i <= 5000; i++) sr_buf_printf(&text, "{\"n\":%d,\"pad\":\"%040d\"}\n", i, i);
    const char *path = write_file("big.jsonl", text.d, text.len);
    char err[512] = "";
    io_fault = 2; /* the first read goes through, the second fails */
    int n = read_all(path, SR_FMT_JSONL, a, err, sizeof(err));
    io_fault = 0;
    CHECK(n == -2);
    CHECK(strstr(err, path) == err);
    CHECK(strstr(err, ": read error after line ") != NULL);
    CHECK(strstr(err, strerror(EIO)) != NULL);
    sr_buf_free(&text);

    /* the same for CSV */
    text = (sr_buf){0};
    sr_buf_puts(&text, "n,pad\n");
    for (int i = 1; i <= 5000; i++) sr_buf_printf(&text, "%d,%040d\n", i, i);
    path = write_file("big.csv", text.d, text.len);
    io_fault = 2;
    n = read_all(path, SR_FMT_CSV, a, err, sizeof(err));
    io_fault = 0;
    CHECK(n == -2);
    CHECK(strstr(err, ": read error after line ") != NULL);
    sr_buf_free(&text);
    sr_arena_reset(a);
}

/* CSV cells are strings as they are: one that is not UTF-8 makes its row a dead letter. */
static void test_csv_utf8(sr_arena *a)
{
    char err[512] = "";
    const char *path = WRITE("latin1.csv", "name,n\ncaf\xc3\xa9,1\n\"caf\xe9\",2\nok,3\n");
    int n = read_all(path, SR_FMT_CSV, a, err, sizeof(err));
    CHECK(n == 3);
    CHECK(g[0].ok);
    CHECK_STR(g[0].json, "{\"name\":\"caf\xc3\xa9\",\"n\":1}");
    CHECK(!g[1].ok && g[1].line == 3);
    CHECK_STR(g[1].reason, "invalid UTF-8 at byte 5 of the row");
    CHECK(g[2].ok && g[2].line == 4);
    path = WRITE("latin1-header.csv", "n\xe9,x\n1,2\n");
    CHECK(read_all(path, SR_FMT_CSV, a, err, sizeof(err)) == -1);
    CHECK(strstr(err, "latin1-header.csv:1: header row: invalid UTF-8 at byte 2") != NULL);
    sr_arena_reset(a);
}

/* A line may hold SR_MAX_LINE bytes; a longer one stops the reader with an error naming the
 * file and the line, instead of growing without bound (/dev/zero grew to 2 GB). */
static void test_long_line(sr_arena *a)
{
    size_t big = SR_MAX_LINE;
    char *text = malloc(2 * big + 64);
    size_t n = 0;
    n += (size_t)sprintf(text + n, "{\"a\":1}\n\"");
    memset(text + n, 'x', big - 2); /* a JSON string of exactly SR_MAX_LINE bytes */
    n += big - 2;
    n += (size_t)sprintf(text + n, "\"\n{\"a\":3}\n");
    memset(text + n, 'y', big + 1); /* then a line one byte too long */
    n += big + 1;
    n += (size_t)sprintf(text + n, "\n{\"a\":4}\n");
    const char *path = write_file("long.jsonl", text, n);
    free(text);
    char err[512] = "";
    int rc = read_all(path, SR_FMT_JSONL, a, err, sizeof(err));
    CHECK(rc == -2);
    CHECK(g[0].ok && g[1].ok && g[2].ok && g[2].line == 3 && !g[3].line);
    CHECK(g[1].rawlen == big && g[1].value.type == SR_STR);
    char want[PATH_MAX + 200];
    snprintf(want, sizeof(want),
             "%s:4: line longer than %u bytes, the most a source file's line may hold (is it a "
             "text file?); stopping here",
             path, (unsigned)SR_MAX_LINE);
    CHECK_STR(err, want);
    sr_arena_reset(a);

    /* a last line without a newline, of exactly the limit, is read */
    text = malloc(big);
    memset(text, ' ', big);
    text[0] = '7';
    path = write_file("long-last.jsonl", text, big);
    free(text);
    rc = read_all(path, SR_FMT_JSONL, a, err, sizeof(err));
    CHECK(rc == 1 && g[0].ok && g[0].value.type == SR_NUM);
    sr_arena_reset(a);
}

static void test_real_data(sr_arena *a)
{
    const char *dir = getenv("SR_TEST_DATA");
    if (!dir) dir = "../shared/data";
    char path[PATH_MAX], err[256];
    snprintf(path, sizeof(path), "%s/cases.csv", dir);
    if (access(path, R_OK) != 0) {
        printf("real data: skipped (%s not found)\n", path);
        return;
    }

    sr_reader *r;
    CHECK(sr_reader_open(&r, path, SR_FMT_CSV, err, sizeof(err)) == 0);
    long ok = 0, bad = 0, last_line = 0;
    uint32_t ncols = 0;
    bool cols_same = true;
    char symptoms[64] = "", lastcol[32] = "";
    sr_readrec rec;
    int rc;
    while ((rc = sr_reader_next(r, a, &rec, err, sizeof(err))) == 1) {
        last_line = rec.line;
        if (!rec.ok) {
            if (bad++ < 3) fprintf(stderr, "cases.csv:%ld: %s\n", rec.line, rec.reason);
            continue;
        }
        if (ok++ == 0) {
            ncols = rec.value.len;
            const sr_member *m = &rec.value.u.o[ncols - 1];
            snprintf(lastcol, sizeof(lastcol), "%.*s", (int)m->klen, m->key);
        }
        cols_same = cols_same && rec.value.len == ncols;
        if (rec.line == 4) {
            const sr_value *v = sr_obj_get(&rec.value, "symptoms", 8);
            if (v && v->type == SR_STR)
                snprintf(symptoms, sizeof(symptoms), "%.*s", v->len, v->u.s);
        }
        if (ok % 500 == 0) sr_arena_reset(a);
    }
    sr_reader_close(r);
    CHECK(rc == 0);
    CHECK(ok == 6401);
    CHECK(bad == 0);
    CHECK(ncols == 20 && cols_same);
    CHECK_STR(lastcol, "column_20");
    CHECK_STR(symptoms, "Fever, Cold, Cough");
    CHECK(last_line == 6402);

    snprintf(path, sizeof(path), "%s/populations.csv", dir);
    int n = read_all(path, SR_FMT_CSV, a, err, sizeof(err));
    CHECK(n == 37);
    CHECK_STR(g[0].json,
              "{\"admin1Name_en\":\"Abia\",\"column_2\":\"NG001\",\"column_3\":\"Nigeria\","
              "\"column_4\":\"NG\",\"column_5\":3644714}");
    int okrows = 0;
    for (int i = 0; i < n; i++) okrows += g[i].ok;
    CHECK(okrows == 37);
}

int main(void)
{
    snprintf(tmpdir, sizeof(tmpdir), "%s/sr_source_XXXXXX",
             getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
    if (!mkdtemp(tmpdir)) {
        perror("mkdtemp");
        return 1;
    }
    sr_arena a;
    sr_arena_init(&a, 4096);

    test_jsonl(&a);
    test_csv_types(&a);
    test_csv_header(&a);
    test_csv_columns(&a);
    test_csv_multiline(&a);
    test_csv_errors(&a);
    sr_arena_reset(&a);
    test_csv_utf8(&a);
    test_read_error(&a);
    test_long_line(&a);
    test_real_data(&a);

    sr_arena_free(&a);
    sr_buf_free(&jb);
    char cmd[PATH_MAX + 16];
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpdir);
    if (system(cmd) != 0) fprintf(stderr, "could not remove %s\n", tmpdir);
    return TEST_END();
}
