/* arena.c — bump allocator and byte buffers. */
#include "base/arena.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct sr_arena_chunk {
    sr_arena_chunk *next;
    size_t size;
    char data[];
};

void *sr_xmalloc(size_t n)
{
    void *p = malloc(n ? n : 1);
    if (!p) {
        fprintf(stderr, "streamrun: out of memory (%zu bytes)\n", n);
        abort();
    }
    return p;
}

void *sr_xcalloc(size_t n, size_t m)
{
    void *p = calloc(n ? n : 1, m ? m : 1);
    if (!p) {
        fprintf(stderr, "streamrun: out of memory (%zu bytes)\n", n * m);
        abort();
    }
    return p;
}

void *sr_xrealloc(void *p, size_t n)
{
    void *q = realloc(p, n ? n : 1);
    if (!q) {
        fprintf(stderr, "streamrun: out of memory (%zu bytes)\n", n);
        abort();
    }
    return q;
}

char *sr_xstrndup(const char *s, size_t n)
{
    char *d = sr_xmalloc(n + 1);
    memcpy(d, s, n);
    d[n] = 0;
    return d;
}

char *sr_xstrdup(const char *s)
{
    return sr_xstrndup(s, strlen(s));
}

void sr_arena_init(sr_arena *a, size_t first_chunk)
{
    memset(a, 0, sizeof(*a));
    a->chunk_size = first_chunk ? first_chunk : 64 * 1024;
}

static void arena_grow(sr_arena *a, size_t n)
{
    size_t size = a->chunk_size;
    while (size < n + 16) size *= 2;
    sr_arena_chunk *c = sr_xmalloc(sizeof(*c) + size);
    c->size = size;
    c->next = a->head;
    a->head = c;
    a->p = c->data;
    a->end = c->data + size;
    if (a->chunk_size < 16 * 1024 * 1024) a->chunk_size *= 2;
}

/* sr_arena_alloc() when the head chunk lacks n bytes (n already rounded up) */
void *sr_arena_alloc_grow(sr_arena *a, size_t n)
{
    arena_grow(a, n);
    void *r = a->p;
    a->p += n;
    return r;
}

void *sr_arena_calloc(sr_arena *a, size_t n)
{
    void *p = sr_arena_alloc(a, n);
    memset(p, 0, n);
    return p;
}

char *sr_arena_strndup(sr_arena *a, const char *s, size_t n)
{
    char *d = sr_arena_alloc(a, n + 1);
    if (n) memcpy(d, s, n);
    d[n] = 0;
    return d;
}

void sr_arena_reset(sr_arena *a)
{
    sr_arena_chunk *keep = NULL, *c = a->head, *next;
    for (; c; c = next) {
        next = c->next;
        if (!keep || c->size > keep->size) {
            if (keep) free(keep);
            keep = c;
        } else {
            free(c);
        }
    }
    a->head = keep;
    if (keep) {
        keep->next = NULL;
        a->p = keep->data;
        a->end = keep->data + keep->size;
    } else {
        a->p = a->end = NULL;
    }
}

void sr_arena_free(sr_arena *a)
{
    sr_arena_chunk *c = a->head, *next;
    for (; c; c = next) {
        next = c->next;
        free(c);
    }
    a->head = NULL;
    a->p = a->end = NULL;
}

void sr_buf_reserve(sr_buf *b, size_t extra)
{
    if (b->len + extra + 1 <= b->cap) return;
    size_t cap = b->cap ? b->cap : 256;
    while (cap < b->len + extra + 1) cap *= 2;
    b->d = sr_xrealloc(b->d, cap);
    b->cap = cap;
}

void sr_buf_put(sr_buf *b, const void *p, size_t n)
{
    sr_buf_reserve(b, n);
    if (n) memcpy(b->d + b->len, p, n);
    b->len += n;
}

void sr_buf_putc(sr_buf *b, char c)
{
    sr_buf_reserve(b, 1);
    b->d[b->len++] = c;
}

void sr_buf_puts(sr_buf *b, const char *s)
{
    sr_buf_put(b, s, strlen(s));
}

void sr_buf_printf(sr_buf *b, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char tmp[256];
    int n = vsnprintf(tmp, sizeof(tmp), fmt, ap);
    va_end(ap);
    if (n < 0) return;
    if ((size_t)n < sizeof(tmp)) {
        sr_buf_put(b, tmp, (size_t)n);
        return;
    }
    sr_buf_reserve(b, (size_t)n);
    va_start(ap, fmt);
    vsnprintf(b->d + b->len, (size_t)n + 1, fmt, ap);
    va_end(ap);
    b->len += (size_t)n;
}

const char *sr_buf_cstr(sr_buf *b)
{
    sr_buf_reserve(b, 0);
    b->d[b->len] = 0;
    return b->d;
}

void sr_buf_free(sr_buf *b)
{
    free(b->d);
    b->d = NULL;
    b->len = b->cap = 0;
}
