// oneDNN 2.x C API (Debian libdnnl-dev ships no pkg-config file; the module map links `dnnl`).
#include <oneapi/dnnl/dnnl.h>
