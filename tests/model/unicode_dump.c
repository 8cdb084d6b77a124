/* unicode_dump.c — prints, for every code point but the surrogates, what
 * runner/model/text_unicode.c makes of it, for tests/model/unicode_check.py to compare with
 * python3: CP WORD lower(c) lower('A' c 'Σ') lower('1' c 'Σ') lower('AΣ' c) code points in hex, a
 * string's code points joined by '.'. */
#include "model/text_unicode.h"

#include <stdio.h>

static void put(const uint32_t *s, size_t n)
{
    uint32_t low[SR_TEXT_LOWER_MAX * 3];
    size_t k = sr_text_lower(s, n, low);
    putchar(' ');
    for (size_t i = 0; i < k; i++) printf(i ? ".%X" : "%X", (unsigned)low[i]);
}

int main(void)
{
    for (uint32_t cp = 0; cp <= 0x10FFFF; cp++) {
        if (cp >= 0xD800 && cp <= 0xDFFF) continue;
        printf("%X %d", (unsigned)cp, sr_text_is_word(cp) ? 1 : 0);
        const uint32_t one[1] = {cp};
        const uint32_t before_letter[3] = {'A', cp, 0x3A3};
        const uint32_t before_digit[3] = {'1', cp, 0x3A3};
        const uint32_t after[3] = {'A', 0x3A3, cp};
        put(one, 1);
        put(before_letter, 3);
        put(before_digit, 3);
        put(after, 3);
        putchar('\n');
    }
    return ferror(stdout) ? 1 : 0;
}
