/* rpc.c — JSON-RPC frames over a byte stream: Content-Length headers, a blank line, a body. */
#include "lsp/lsp.h"

#include <assert.h>
#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* Reads one header line (up to "\n", any length) into line; false at the end of input before
 * any byte. */
static bool read_line(FILE *in, sr_buf *line)
{
    line->len = 0;
    int c;
    bool any = false;
    while ((c = getc(in)) != EOF) {
        any = true;
        if (c == '\n') break;
        sr_buf_putc(line, (char)c);
    }
    if (line->len && line->d[line->len - 1] == '\r') line->len--;
    sr_buf_cstr(line);
    return any;
}

/* The value of a "Content-Length: N" header, or -1 when line is not one with a valid N. */
static long long content_length(const char *line)
{
    static const char name[] = "content-length:";
    if (strncasecmp(line, name, sizeof(name) - 1) != 0) return -1;
    const char *p = line + sizeof(name) - 1;
    while (*p == ' ' || *p == '\t') p++;
    if (!isdigit((unsigned char)*p)) return -1;
    char *end;
    errno = 0;
    long long n = strtoll(p, &end, 10);
    while (*end == ' ' || *end == '\t') end++;
    if (*end || errno || n < 0) return -1;
    return n;
}

int sr_lsp_read_frame(FILE *in, sr_buf *body)
{
    sr_buf line = {0};
    long long n = -1;
    bool bad = false, any = false;
    for (;;) {
        if (!read_line(in, &line)) { /* the end of input */
            sr_buf_free(&line);
            return any ? -1 : 0;
        }
        if (line.len == 0) {
            if (!any) continue; /* blank lines between frames */
            break;
        }
        any = true;
        long long v = content_length(line.d);
        if (v >= 0)
            n = v;
        else if (strncasecmp(line.d, "content-length:", 15) == 0)
            bad = true;
    }
    sr_buf_free(&line);
    if (bad || n < 0) return -1;
    /* read what arrives, growing as it does: a length larger than the input costs no memory */
    body->len = 0;
    char chunk[16384];
    while ((long long)body->len < n) {
        size_t want = (size_t)(n - (long long)body->len);
        if (want > sizeof(chunk)) want = sizeof(chunk);
        size_t got = fread(chunk, 1, want, in);
        if (got == 0) break;
        sr_buf_put(body, chunk, got);
    }
    sr_buf_cstr(body);
    assert((long long)body->len <= n);
    return 1;
}

int sr_lsp_write(FILE *out, const json_t *msg)
{
    assert(out && msg);
    char *text = json_dumps(msg, JSON_COMPACT);
    if (!text) return -1;
    size_t len = strlen(text);
    fprintf(out, "Content-Length: %zu\r\n\r\n", len);
    fwrite(text, 1, len, out);
    free(text);
    return fflush(out) == 0 && !ferror(out) ? 0 : -1;
}
