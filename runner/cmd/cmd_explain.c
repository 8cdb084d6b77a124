/* cmd_explain.c — `streamrun explain [CODE]`: the long explanation of a diagnostic code, with an
 * example of the mistake and its fix (as `rustc --explain` does); alone, the list of codes. */
#include "base/explain.h"
#include "cmd/cli.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* "SR0101" for "sr101", "0101", "101" or "SR0101": a code as users type it, or "" when s is
 * not one. */
static void normalise(const char *s, char *out, size_t size)
{
    if ((s[0] == 's' || s[0] == 'S') && (s[1] == 'r' || s[1] == 'R')) s += 2;
    size_t n = strlen(s);
    out[0] = 0;
    if (n == 0 || n > 4) return;
    for (size_t i = 0; i < n; i++)
        if (!isdigit((unsigned char)s[i])) return;
    snprintf(out, size, "SR%04d", atoi(s));
}

int sr_cmd_explain(int argc, char **argv)
{
    if (argc > 2 || (argc == 2 && argv[1][0] == '-')) {
        fprintf(stderr, "usage: streamrun explain [CODE]\n");
        return SR_EXIT_USAGE;
    }
    if (argc == 1) {
        for (int c = 1; c < SR_CODE_COUNT; c++)
            printf("%s  %s\n", sr_code_id((sr_code)c), sr_code_title((sr_code)c));
        return SR_EXIT_OK;
    }
    char id[16];
    normalise(argv[1], id, sizeof(id));
    sr_code c = sr_code_find(id);
    if (c == SR_CODE_NONE) {
        const char *ids[SR_CODE_COUNT];
        for (int k = 1; k < SR_CODE_COUNT; k++) ids[k - 1] = sr_code_id((sr_code)k);
        const char *sug = sr_suggest(id[0] ? id : argv[1], ids, SR_CODE_COUNT - 1);
        fprintf(stderr,
                "streamrun explain: unknown code '%s'%s%s%s (`streamrun explain` lists them)\n",
                argv[1], sug ? "; did you mean '" : "", sug ? sug : "", sug ? "'?" : "");
        return SR_EXIT_USAGE;
    }
    const char *text = sr_explain_text(c);
    if (!text) {
        printf("%s: %s\n\nNo longer explanation is written for this code yet.\n", sr_code_id(c),
               sr_code_title(c));
        return SR_EXIT_OK;
    }
    fputs(text, stdout);
    return SR_EXIT_OK;
}
