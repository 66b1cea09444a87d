/* Inside core/data/: libpng reports errors by calling its error function, which must
 * not return. Both libpng users here (image_png.c, image_encode.c) embed this: pass it
 * as the error pointer with dws_png_fail as the error function, and an error longjmps
 * to `jump` with its text in `message`. */
#ifndef DWS_PNG_ERRORS_H
#define DWS_PNG_ERRORS_H

#include <png.h>
#include <setjmp.h>

typedef struct {
    jmp_buf jump;
    char message[200];
} dws_png_errors;

void dws_png_fail(png_structp png, png_const_charp msg);

#endif
