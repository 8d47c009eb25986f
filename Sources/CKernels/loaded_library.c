// The file the system's loader opened for a dlopen handle (glibc declares dlinfo only with _GNU_SOURCE).
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include "CKernels.h"
#include <dlfcn.h>
#include <link.h>

const char *compseg_loaded_library_path(void *handle) {
    struct link_map *map = NULL;
    return dlinfo(handle, RTLD_DI_LINKMAP, &map) == 0 && map ? map->l_name : NULL;
}
