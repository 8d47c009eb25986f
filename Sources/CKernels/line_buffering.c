// Standard output line by line also into a pipe or file, where stdio would hold it in blocks.
#include "CKernels.h"
#include <stdio.h>

void compseg_line_buffered_stdout(void) { setvbuf(stdout, NULL, _IOLBF, 0); }
