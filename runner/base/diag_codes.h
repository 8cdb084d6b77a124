/* diag_codes.h — stable diagnostic codes (the list: diag_codes.def). */
#ifndef SR_DIAG_CODES_H
#define SR_DIAG_CODES_H

typedef enum sr_code {
    SR_CODE_NONE = 0, /* a diagnostic without a code */
#define SR_CODE(name, id, title) name,
#include "base/diag_codes.def"
#undef SR_CODE
    SR_CODE_COUNT
} sr_code;

/* "SR0101" for a code, NULL for SR_CODE_NONE. @locality any; @locks none. */
const char *sr_code_id(sr_code c);
/* The code's short title ("unknown key"), NULL for SR_CODE_NONE. */
const char *sr_code_title(sr_code c);
/* The code whose id is s (ASCII case ignored: "sr0101" too), or SR_CODE_NONE. */
sr_code sr_code_find(const char *s);

#endif
