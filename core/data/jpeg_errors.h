/* Inside core/data/: libjpeg reports errors by calling error_exit, which must not
 * return. Every libjpeg user here (image_jpeg.c, image_encode.c, corrupt_digital.c)
 * embeds this manager: an error longjmps to `jump` with its text in `message`;
 * warnings (corrupt data) are counted, the first one's text kept when no error came. */
#ifndef DWS_JPEG_ERRORS_H
#define DWS_JPEG_ERRORS_H

#include <stdio.h>   /* before jpeglib.h, which uses FILE */
#include <jpeglib.h>
#include <setjmp.h>

typedef struct {
    struct jpeg_error_mgr mgr;   /* first: libjpeg hands back a pointer to it */
    jmp_buf jump;
    int warnings;
    char message[JMSG_LENGTH_MAX];
} dws_jpeg_errors;

/* Sets up e; returns what goes into the codec's err field. */
struct jpeg_error_mgr *dws_jpeg_errors_init(dws_jpeg_errors *e);

#endif
