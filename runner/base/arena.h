/* arena.h — bump allocator for per-batch scratch memory and growable byte buffers. */
#ifndef SR_ARENA_H
#define SR_ARENA_H

#include <stddef.h>
#include <stdint.h>

/* An arena hands out memory that lives until the next sr_arena_reset() or
 * sr_arena_free(). Nothing allocated from it is freed one by one. The hot path
 * (parse, evaluate, emit) allocates only from an arena that the task resets
 * after each batch, so per-record processing does not call malloc once the
 * arena has grown to the batch's size. Allocation failure aborts: the runner
 * cannot continue without memory and says so. */
typedef struct sr_arena_chunk sr_arena_chunk;
typedef struct sr_arena {
    sr_arena_chunk *head; /* current chunk; older chunks follow */
    char *p, *end;        /* free space in head */
    size_t chunk_size;    /* size of the next chunk to allocate */
} sr_arena;

void sr_arena_init(sr_arena *a, size_t first_chunk);
/* n bytes, 8-byte aligned, uninitialised (a request for 0 gets 8). Inline: the hot path is a
 * bump of a->p; a new chunk comes from sr_arena_alloc_grow(). */
void *sr_arena_alloc_grow(sr_arena *a, size_t n);
static inline void *sr_arena_alloc(sr_arena *a, size_t n)
{
    n = n ? (n + 7) & ~(size_t)7 : 8; /* never a zero-size block: callers may ask for 0 */
    if ((size_t)(a->end - a->p) < n) return sr_arena_alloc_grow(a, n);
    void *r = a->p;
    a->p += n;
    return r;
}
void *sr_arena_calloc(sr_arena *a, size_t n);                 /* zeroed */
char *sr_arena_strndup(sr_arena *a, const char *s, size_t n); /* NUL-terminated copy */
/* Keeps the largest chunk, frees the rest: steady state allocates nothing. */
void sr_arena_reset(sr_arena *a);
void sr_arena_free(sr_arena *a);

/* A growable byte buffer (malloc-backed), used for output serialisation. */
typedef struct sr_buf {
    char *d;
    size_t len, cap;
} sr_buf;

void sr_buf_reserve(sr_buf *b, size_t extra);
void sr_buf_put(sr_buf *b, const void *p, size_t n);
void sr_buf_putc(sr_buf *b, char c);
void sr_buf_puts(sr_buf *b, const char *s);
void sr_buf_printf(sr_buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
const char *sr_buf_cstr(sr_buf *b); /* NUL-terminates (not counted in len) */
void sr_buf_free(sr_buf *b);

/* Out-of-memory: prints and aborts. Used by every allocation wrapper. */
void *sr_xmalloc(size_t n);
void *sr_xcalloc(size_t n, size_t m);
void *sr_xrealloc(void *p, size_t n);
char *sr_xstrdup(const char *s);
char *sr_xstrndup(const char *s, size_t n);

#endif
