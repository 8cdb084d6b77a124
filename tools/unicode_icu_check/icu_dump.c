/* ICU 72 composed as close to CPython as it goes: \w = general category L* or a numeric type or
 * '_'; lower = u_strToLower in the root locale (full mapping, Final_Sigma). Same output format as
 * tests/model/unicode_dump.c. */
#include <stdio.h>
#include <unicode/uchar.h>
#include <unicode/ustring.h>
#include <unicode/utf16.h>
static void put(const UChar32 *s, int n)
{
    UChar in[16], out[64];
    int k = 0;
    for (int i = 0; i < n; i++) U16_APPEND_UNSAFE(in, k, s[i]);
    UErrorCode e = U_ZERO_ERROR;
    int m = u_strToLower(out, 64, in, k, "", &e);
    putchar(' ');
    int first = 1;
    for (int i = 0; i < m;) {
        UChar32 c;
        U16_NEXT(out, i, m, c);
        printf(first ? "%X" : ".%X", (unsigned)c);
        first = 0;
    }
}
int main(void)
{
    for (UChar32 cp = 0; cp <= 0x10FFFF; cp++) {
        if (cp >= 0xD800 && cp <= 0xDFFF) continue;
        int w = (U_GET_GC_MASK(cp) & U_GC_L_MASK) ||
                u_getIntPropertyValue(cp, UCHAR_NUMERIC_TYPE) != U_NT_NONE || cp == '_';
        printf("%X %d", (unsigned)cp, w ? 1 : 0);
        UChar32 a[1] = {cp}, b[3] = {'A', cp, 0x3A3}, c[3] = {'1', cp, 0x3A3}, d[3] = {'A', 0x3A3, cp};
        put(a, 1); put(b, 3); put(c, 3); put(d, 3);
        putchar('\n');
    }
    return 0;
}
