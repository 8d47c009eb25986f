// libtiff: TIFFGetField/TIFFSetField are variadic, which Swift cannot call; these typed
// wrappers pass one value of the tag's documented type.
#include <tiffio.h>
#include <string.h>
#include <stdio.h>
#include <stdlib.h>
#include <zlib.h>
#include <stdint.h>

static inline int compseg_tiff_get_u32(TIFF *t, uint32_t tag, uint32_t *v) { return TIFFGetField(t, tag, v); }
static inline int compseg_tiff_get_u16(TIFF *t, uint32_t tag, uint16_t *v) { return TIFFGetField(t, tag, v); }
static inline int compseg_tiff_get_defaulted_u16(TIFF *t, uint32_t tag, uint16_t *v) { return TIFFGetFieldDefaulted(t, tag, v); }
static inline int compseg_tiff_get_float(TIFF *t, uint32_t tag, float *v) { return TIFFGetField(t, tag, v); }
static inline int compseg_tiff_get_string(TIFF *t, uint32_t tag, const char **v) { return TIFFGetField(t, tag, v); }
static inline int compseg_tiff_set_u32(TIFF *t, uint32_t tag, uint32_t v) { return TIFFSetField(t, tag, v); }
static inline int compseg_tiff_set_u16(TIFF *t, uint32_t tag, uint16_t v) { return TIFFSetField(t, tag, (int)v); }
static inline int compseg_tiff_set_double(TIFF *t, uint32_t tag, double v) { return TIFFSetField(t, tag, v); }
static inline int compseg_tiff_set_string(TIFF *t, uint32_t tag, const char *v) { return TIFFSetField(t, tag, v); }

/// Installs handlers that drop libtiff's stderr warnings; CompSeg reports errors itself.
static inline void compseg_tiff_silence(void) { TIFFSetWarningHandler(NULL); TIFFSetErrorHandler(NULL); }

#include <stdarg.h>
#include <errno.h>
#include <stdio.h>

static inline int compseg_tiff_set_extrasamples(TIFF *t, uint16_t count, const uint16_t *types) {
    return TIFFSetField(t, TIFFTAG_EXTRASAMPLES, count, types);
}

/// The last error libtiff reported for one TIFF handle (empty when none); must outlive the handle.
typedef struct { char text[512]; } compseg_tiff_message;

static inline int compseg_tiff_keep_error(TIFF *t, void *data, const char *module, const char *fmt, va_list ap) {
    (void)t; (void)module;
    int reason = errno;  /* a failed write's (a full disk), which libtiff's words leave out */
    char *text = ((compseg_tiff_message *)data)->text;
    size_t size = sizeof(((compseg_tiff_message *)data)->text);
    vsnprintf(text, size, fmt, ap);
    if (reason != 0 && (strstr(text, "Error writing") || strstr(text, "Write error") || strstr(text, "write error"))) {
        size_t used = strlen(text);
        snprintf(text + used, size - used, ": %s", strerror(reason));
    }
    return 1;
}
/// Drops libtiff's warnings, but keeps libjpeg's word of damaged data (which libjpeg decodes
/// around, as grey or shifted blocks, and reports only as a warning) in `data` as an error.
static inline int compseg_tiff_keep_damage_warning(TIFF *t, void *data, const char *module, const char *fmt, va_list ap) {
    (void)t; (void)module;
    char text[512];
    vsnprintf(text, sizeof(text), fmt, ap);
    if (strstr(text, "Corrupt JPEG data") || strstr(text, "Premature end of JPEG")) {
        snprintf(((compseg_tiff_message *)data)->text, sizeof(((compseg_tiff_message *)data)->text), "%s", text);
    }
    return 1;
}

/// TIFFOpen that keeps libtiff's errors in `message` instead of printing them, and drops warnings
/// (per handle with libtiff >= 4.5; older versions only get the global handlers silenced).
static inline TIFF *compseg_tiff_open(const char *path, const char *mode, compseg_tiff_message *message) {
    message->text[0] = 0;
#if TIFFLIB_VERSION >= 20221213
    TIFFOpenOptions *opts = TIFFOpenOptionsAlloc();
    if (!opts) return NULL;
    TIFFOpenOptionsSetErrorHandlerExtR(opts, compseg_tiff_keep_error, message);
    TIFFOpenOptionsSetWarningHandlerExtR(opts, compseg_tiff_keep_damage_warning, message);
    TIFF *t = TIFFOpenExt(path, mode, opts);
    TIFFOpenOptionsFree(opts);
    return t;
#else
    return TIFFOpen(path, mode);
#endif
}

/// The current directory's SubIFD offsets (TIFFTAG_SUBIFD): count and an array valid until the directory changes.
static inline int compseg_tiff_get_subifds(TIFF *t, uint16_t *count, uint64_t **offsets) {
    return TIFFGetField(t, TIFFTAG_SUBIFD, count, offsets);
}
/// The palette (TIFFTAG_COLORMAP): three arrays of 2^BitsPerSample entries, valid until the directory changes.
static inline int compseg_tiff_get_colormap(TIFF *t, uint16_t **red, uint16_t **green, uint16_t **blue) {
    return TIFFGetField(t, TIFFTAG_COLORMAP, red, green, blue);
}
/// The extra samples' meanings (TIFFTAG_EXTRASAMPLES): count and an array, defaulted to none.
static inline int compseg_tiff_get_extrasamples(TIFF *t, uint16_t *count, uint16_t **types) {
    return TIFFGetFieldDefaulted(t, TIFFTAG_EXTRASAMPLES, count, types);
}

/// Inflates strip or tile `strile`'s stored Deflate bytes whole, so that zlib checks the stream's
/// Adler-32, which libtiff never reaches (it stops once the strip's or tile's bytes are out): 0, with
/// the reason in `why`, where the stream is damaged, cut short, or decodes to more than twice a
/// strip's or tile's bytes (a stream that would take minutes to walk); 1 otherwise (also where the
/// raw bytes cannot be read, which the decoding then names, or zlib lacks memory).
static inline int compseg_tiff_deflate_sound(TIFF *t, uint32_t strile, int tiled, char *why, size_t whyLength) {
    uint64_t count = TIFFGetStrileByteCount(t, strile);
    if (count == 0 || count > (64u << 20)) return 1;
    uint64_t limit = 2 * (uint64_t)(tiled ? TIFFTileSize64(t) : TIFFStripSize64(t)) + 65536;
    unsigned char *raw = malloc((size_t)count);
    if (!raw) return 1;
    tmsize_t got = tiled ? TIFFReadRawTile(t, strile, raw, (tmsize_t)count) : TIFFReadRawStrip(t, strile, raw, (tmsize_t)count);
    if (got <= 0) { free(raw); return 1; }
    z_stream stream;
    memset(&stream, 0, sizeof stream);
    if (inflateInit(&stream) != Z_OK) { free(raw); return 1; }
    unsigned char out[65536];
    stream.next_in = raw;
    stream.avail_in = (uInt)got;
    int status;
    do {
        stream.next_out = out;
        stream.avail_out = sizeof out;
        status = inflate(&stream, Z_NO_FLUSH);
    } while (status == Z_OK && stream.total_out <= limit);
    int sound = status == Z_STREAM_END || status == Z_MEM_ERROR;
    if (status == Z_OK) {
        snprintf(why, whyLength, "they decode to more than %llu bytes, over twice the strip's or tile's own", (unsigned long long)limit);
    } else if (status == Z_NEED_DICT) {
        snprintf(why, whyLength, "they ask for a preset dictionary, which TIFF never gives");
    } else if (!sound) {
        if (status == Z_DATA_ERROR && stream.msg) snprintf(why, whyLength, "zlib: %s", stream.msg);
        else snprintf(why, whyLength, "zlib: the stream ends before its end mark: cut short");
    }
    inflateEnd(&stream);
    free(raw);
    return sound;
}
