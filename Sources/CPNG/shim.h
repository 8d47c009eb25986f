// libpng's simplified png_image API (no setjmp). Its size and format helpers are function-like
// macros, which Swift cannot import; these functions compute them.
#include <png.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

static inline void compseg_png_image_init(png_image *image) {
    png_image empty = {0};  /* zeroed, every field */
    *image = empty;
    image->version = PNG_IMAGE_VERSION;
}
static inline size_t compseg_png_image_row_stride(const png_image *image) { return PNG_IMAGE_ROW_STRIDE(*image); }
static inline size_t compseg_png_image_size(const png_image *image) { return PNG_IMAGE_SIZE(*image); }
static inline int compseg_png_image_failed(const png_image *image) { return PNG_IMAGE_FAILED(*image); }

// libpng's low-level reading API (for 16-bit samples as stored, which the simplified API converts to
// linear light) reports errors by longjmp, which Swift cannot catch: each function below that calls
// libpng sets its own setjmp and returns 0 on an error, with libpng's message in `message`.

/// One PNG being read row by row. Must stay at one address while open (libpng keeps a pointer to it).
typedef struct {
    png_structp png;
    png_infop info;
    FILE *file;
    png_uint_32 width, height;
    int bit_depth, color_type, interlace;  /* as stored (IHDR) */
    int channels, depth;                   /* per pixel as delivered: 1–4 channels of 8 or 16 bits */
    int passes;                            /* rows are delivered passes × height times (indexes: Adam7's 7) */
    size_t row_bytes;                      /* bytes of one delivered row */
    char message[256];
} compseg_png_reader;

/// Copies `text` into `message` (`size` bytes), cut short where it does not fit.
static inline void compseg_png_copy_message(char *message, size_t size, const char *text) {
    size_t i = 0;
    for (; text && text[i] && i + 1 < size; ++i) message[i] = text[i];
    message[i] = 0;
}
static inline void compseg_png_reader_say(compseg_png_reader *r, const char *text) {
    compseg_png_copy_message(r->message, sizeof r->message, text);
}
static inline void compseg_png_reader_error(png_structp png, png_const_charp text) {
    compseg_png_reader *r = (compseg_png_reader *)png_get_error_ptr(png);
    if (r) compseg_png_reader_say(r, text);
    png_longjmp(png, 1);
}
static inline void compseg_png_reader_warning(png_structp png, png_const_charp text) { (void)png; (void)text; }

/// Opens `path` and reads the header; when `expand` is 1 also sets up delivery of 8- or 16-bit samples
/// as stored (palette → RGB, 1/2/4-bit grey → 8-bit, Adam7 de-interlaced by `compseg_png_read_image`);
/// when 2, of a palette image's indexes, a byte each, pass by pass (`passes`) when interlaced;
/// when 3, as 1 with transparency (tRNS: a palette's alphas, a grey or RGB colour key) as an alpha sample.
/// Returns 0 with `message` set on failure; call `compseg_png_close` either way.
static inline int compseg_png_open(compseg_png_reader *r, const char *path, int expand) {
    r->png = NULL; r->info = NULL; r->file = NULL; r->message[0] = 0;
    r->file = fopen(path, "rb");
    if (!r->file) { compseg_png_reader_say(r, "cannot be opened"); return 0; }
    r->png = png_create_read_struct(PNG_LIBPNG_VER_STRING, r, compseg_png_reader_error, compseg_png_reader_warning);
    if (!r->png) { compseg_png_reader_say(r, "libpng cannot start reading"); return 0; }
    r->info = png_create_info_struct(r->png);
    if (!r->info) { compseg_png_reader_say(r, "libpng cannot start reading"); return 0; }
    if (setjmp(png_jmpbuf(r->png))) return 0;
    png_init_io(r->png, r->file);
    png_read_info(r->png, r->info);
    r->width = png_get_image_width(r->png, r->info);
    r->height = png_get_image_height(r->png, r->info);
    r->bit_depth = png_get_bit_depth(r->png, r->info);
    r->color_type = png_get_color_type(r->png, r->info);
    r->interlace = png_get_interlace_type(r->png, r->info);
    r->passes = 1;
    if (expand == 2) {
        png_set_packing(r->png);
        if (r->interlace != PNG_INTERLACE_NONE) r->passes = png_set_interlace_handling(r->png);
        png_read_update_info(r->png, r->info);
    } else if (expand) {
        if (r->color_type == PNG_COLOR_TYPE_PALETTE) png_set_palette_to_rgb(r->png);
        if (r->color_type == PNG_COLOR_TYPE_GRAY && r->bit_depth < 8) png_set_expand_gray_1_2_4_to_8(r->png);
        if (expand == 3 && png_get_valid(r->png, r->info, PNG_INFO_tRNS)) png_set_tRNS_to_alpha(r->png);
        if (r->interlace != PNG_INTERLACE_NONE) (void)png_set_interlace_handling(r->png);
        png_read_update_info(r->png, r->info);
    }
    r->channels = png_get_channels(r->png, r->info);
    r->depth = png_get_bit_depth(r->png, r->info);
    r->row_bytes = png_get_rowbytes(r->png, r->info);
    return 1;
}
/// The colours of a palette image's PLTE (0 where it has none).
static inline int compseg_png_palette_size(compseg_png_reader *r) {
    png_colorp palette = NULL;
    int count = 0;
    if (setjmp(png_jmpbuf(r->png))) return 0;
    if (png_get_PLTE(r->png, r->info, &palette, &count) != PNG_INFO_PLTE) return 0;
    return count;
}
/// Reads the next row of a non-interlaced PNG, or of an interlaced one's pass (`expand` 2), into
/// `row` (`row_bytes` bytes; 16-bit samples big-endian).
static inline int compseg_png_read_row(compseg_png_reader *r, unsigned char *row) {
    if (setjmp(png_jmpbuf(r->png))) return 0;
    png_read_row(r->png, row, NULL);
    return 1;
}
/// Reads the whole image (any interlacing) into `rows` (`height` pointers to `row_bytes` bytes each).
static inline int compseg_png_read_image(compseg_png_reader *r, unsigned char **rows) {
    if (setjmp(png_jmpbuf(r->png))) return 0;
    png_read_image(r->png, rows);
    return 1;
}
/// Frees libpng's state and closes the file.
static inline void compseg_png_close(compseg_png_reader *r) {
    if (r->png) png_destroy_read_struct(&r->png, r->info ? &r->info : NULL, NULL);
    if (r->file) fclose(r->file);
    r->png = NULL; r->info = NULL; r->file = NULL;
}

// Writing row by row (a slide's overlay is gigabytes as one buffer): the same setjmp pattern.

/// One PNG being written row by row. Must stay at one address while open.
typedef struct {
    png_structp png;
    png_infop info;
    FILE *file;
    char message[256];
} compseg_png_writer;

static inline void compseg_png_writer_say(compseg_png_writer *w, const char *text) {
    compseg_png_copy_message(w->message, sizeof w->message, text);
}
/// libpng's message; where its file write failed ("Write Error"), the system's reason instead (a full disk, say).
static inline void compseg_png_writer_error(png_structp png, png_const_charp text) {
    compseg_png_writer *w = (compseg_png_writer *)png_get_error_ptr(png);
    int reason = errno;
    if (w) compseg_png_writer_say(w, reason != 0 && strcmp(text, "Write Error") == 0 ? strerror(reason) : text);
    png_longjmp(png, 1);
}
/// Creates `path` and writes the header of an 8-bit, non-interlaced image of 1 (grey), 3 (RGB) or
/// 4 (RGBA) channels. Returns 0 with `message` set on failure; call `compseg_png_writer_close` either way.
static inline int compseg_png_writer_open(compseg_png_writer *w, const char *path, png_uint_32 width, png_uint_32 height,
                                          int channels) {
    w->png = NULL; w->info = NULL; w->file = NULL; w->message[0] = 0;
    w->file = fopen(path, "wb");
    if (!w->file) { compseg_png_writer_say(w, "cannot be created"); return 0; }
    w->png = png_create_write_struct(PNG_LIBPNG_VER_STRING, w, compseg_png_writer_error, compseg_png_reader_warning);
    if (!w->png) { compseg_png_writer_say(w, "libpng cannot start writing"); return 0; }
    w->info = png_create_info_struct(w->png);
    if (!w->info) { compseg_png_writer_say(w, "libpng cannot start writing"); return 0; }
    if (setjmp(png_jmpbuf(w->png))) return 0;
    png_init_io(w->png, w->file);
    int type = channels == 1 ? PNG_COLOR_TYPE_GRAY : channels == 3 ? PNG_COLOR_TYPE_RGB : PNG_COLOR_TYPE_RGB_ALPHA;
    png_set_IHDR(w->png, w->info, width, height, 8, type, PNG_INTERLACE_NONE, PNG_COMPRESSION_TYPE_DEFAULT,
                 PNG_FILTER_TYPE_DEFAULT);
    // As libpng's simplified writer marks the images written whole, so both write the same bytes.
    png_set_sRGB(w->png, w->info, PNG_sRGB_INTENT_PERCEPTUAL);
    png_write_info(w->png, w->info);
    return 1;
}
/// Writes one whole chunk of type `type` (4 letters) before the image data: call before the first row.
static inline int compseg_png_writer_chunk(compseg_png_writer *w, const char *type, const unsigned char *data, size_t length) {
    if (setjmp(png_jmpbuf(w->png))) return 0;
    png_write_chunk(w->png, (png_const_bytep)type, data, length);
    return 1;
}
/// Writes the next row (width × channels bytes).
static inline int compseg_png_writer_row(compseg_png_writer *w, const unsigned char *row) {
    if (setjmp(png_jmpbuf(w->png))) return 0;
    png_write_row(w->png, row);
    return 1;
}
/// Writes the end of the image and flushes the file (every row must have been written).
static inline int compseg_png_writer_end(compseg_png_writer *w) {
    if (setjmp(png_jmpbuf(w->png))) return 0;
    png_write_end(w->png, NULL);
    if (fflush(w->file) != 0) { compseg_png_writer_say(w, strerror(errno)); return 0; }
    return 1;
}
/// Frees libpng's state and closes the file; 0 when closing fails (the data may not be on disk).
static inline int compseg_png_writer_close(compseg_png_writer *w) {
    int ok = 1;
    if (w->png) png_destroy_write_struct(&w->png, w->info ? &w->info : NULL);
    if (w->file) ok = fclose(w->file) == 0;
    w->png = NULL; w->info = NULL; w->file = NULL;
    return ok;
}
