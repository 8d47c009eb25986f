// libpng's simplified png_image API (no setjmp). Its size and format helpers are function-like
// macros, which Swift cannot import; these functions compute them.
#include <png.h>

static inline void compseg_png_image_init(png_image *image) {
    png_image empty = {0};  /* zeroed without memset: no string.h in this module */
    *image = empty;
    image->version = PNG_IMAGE_VERSION;
}
static inline size_t compseg_png_image_row_stride(const png_image *image) { return PNG_IMAGE_ROW_STRIDE(*image); }
static inline size_t compseg_png_image_size(const png_image *image) { return PNG_IMAGE_SIZE(*image); }
static inline int compseg_png_image_failed(const png_image *image) { return PNG_IMAGE_FAILED(*image); }
