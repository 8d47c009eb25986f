// oneDNN 2.x C API (Debian libdnnl-dev ships no pkg-config file; the module map links `dnnl`).
#include <oneapi/dnnl/dnnl.h>

// oneDNN's CPU runtime here is OpenMP (libgomp); its thread count is set through OpenMP.
void omp_set_num_threads(int num_threads);
int omp_get_max_threads(void);
