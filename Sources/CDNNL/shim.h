// oneDNN 2.x C API (Debian libdnnl-dev ships no pkg-config file; the module map links `dnnl`).
#include <oneapi/dnnl/dnnl.h>

// oneDNN's CPU runtime here is OpenMP (libgomp); its thread count is set through OpenMP.
void omp_set_num_threads(int num_threads);
int omp_get_max_threads(void);

// libgomp's entry for a parallel region (what `#pragma omp parallel` compiles to), so that
// CompSeg's own loops run on the threads oneDNN uses rather than on a second pool competing
// with those threads' spin-waiting.
void GOMP_parallel(void (*fn)(void *), void *data, unsigned num_threads, unsigned flags);
int omp_get_thread_num(void);
int omp_get_num_threads(void);
