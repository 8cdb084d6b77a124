/* state_int.h — helpers shared by the files of runner/state/ (not part of their interface). */
#ifndef SR_STATE_INT_H
#define SR_STATE_INT_H

#include <stddef.h>

/* Writes the printf-style reason into err[0..errsize) (nothing when errsize is 0) and returns
 * -1, for the "return -1 with the reason in err" convention of window.h and agg.h. */
__attribute__((format(printf, 3, 4))) int sr_state_fail(char *err, size_t errsize, const char *fmt,
                                                        ...);

#endif
