/* text_unicode.h — the two Unicode operations scikit-learn's text vectorizers apply, done exactly
 * as python3 does them: str.lower() (full case mapping, CPython's final-sigma rule) and the \w of
 * Python's re on str patterns (str.isalnum() or '_'). Tables generated from python3 by
 * tools/gen_unicode_tables.py (Unicode version: sr_text_unicode_version()). */
#ifndef SR_TEXT_UNICODE_H
#define SR_TEXT_UNICODE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Most code points one code point's lower case can become (U+0130 'İ' becomes two). */
#define SR_TEXT_LOWER_MAX 3

/* True when Python's re matches cp with \w (str pattern, Unicode). Surrogates and values above
 * U+10FFFF are not word characters. @locality any thread */
bool sr_text_is_word(uint32_t cp);

/* Writes the lower case of in[0..n) to out, as Python's str.lower() on that string (capital sigma
 * becomes final sigma where CPython makes it so); out has room for SR_TEXT_LOWER_MAX * n code
 * points and must not overlap in. Returns the number of code points written.
 * @locality any thread */
size_t sr_text_lower(const uint32_t *in, size_t n, uint32_t *out);

/* Decodes the UTF-8 bytes s[0..len) into out (room for len code points); a byte that does not
 * start a well-formed sequence becomes U+FFFD, as Python's errors="replace" would make it.
 * Returns the number of code points. @locality any thread */
size_t sr_utf8_decode(const char *s, size_t len, uint32_t *out);

/* Appends cp as UTF-8 to out (room for 4 bytes); returns the bytes written. */
size_t sr_utf8_encode(uint32_t cp, char *out);

/* The Unicode version of the tables ("14.0.0"). */
const char *sr_text_unicode_version(void);

#endif
