// libtiff: TIFFGetField/TIFFSetField are variadic, which Swift cannot call; these typed
// wrappers pass one value of the tag's documented type.
#include <tiffio.h>
#include <stdint.h>

static inline int compseg_tiff_get_u32(TIFF *t, uint32_t tag, uint32_t *v) { return TIFFGetField(t, tag, v); }
static inline int compseg_tiff_get_u16(TIFF *t, uint32_t tag, uint16_t *v) { return TIFFGetField(t, tag, v); }
static inline int compseg_tiff_get_defaulted_u16(TIFF *t, uint32_t tag, uint16_t *v) { return TIFFGetFieldDefaulted(t, tag, v); }
static inline int compseg_tiff_set_u32(TIFF *t, uint32_t tag, uint32_t v) { return TIFFSetField(t, tag, v); }
static inline int compseg_tiff_set_u16(TIFF *t, uint32_t tag, uint16_t v) { return TIFFSetField(t, tag, (int)v); }
static inline int compseg_tiff_set_string(TIFF *t, uint32_t tag, const char *v) { return TIFFSetField(t, tag, v); }

/// Installs handlers that drop libtiff's stderr warnings; CompSeg reports errors itself.
static inline void compseg_tiff_silence(void) { TIFFSetWarningHandler(NULL); TIFFSetErrorHandler(NULL); }
