// Standard output line by line also into a pipe or file, where stdio would hold it in blocks, and
// whether all of it was written.
#include "CKernels.h"
#include <errno.h>
#include <stdio.h>

void compseg_line_buffered_stdout(void) { setvbuf(stdout, NULL, _IOLBF, 0); }

int compseg_stdout_failure(void) {
    errno = 0;
    int flushed = fflush(stdout) == 0, reason = errno;
    if (!ferror(stdout)) return 0;
    return flushed || reason == 0 ? -1 : reason;
}
