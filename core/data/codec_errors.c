/* The error handlers of the libpng and libjpeg users of core/data/ (png_errors.h,
 * jpeg_errors.h): each longjmps back to its caller with the library's message. */
#include <stdio.h>

#include "jpeg_errors.h"
#include "png_errors.h"

void dws_png_fail(png_structp png, png_const_charp msg)
{
    dws_png_errors *e = png_get_error_ptr(png);
    snprintf(e->message, sizeof e->message, "%s", msg);
    longjmp(e->jump, 1);
}

static void jpeg_errors_fail(j_common_ptr cinfo)
{
    dws_jpeg_errors *e = (dws_jpeg_errors *)cinfo->err;
    (*cinfo->err->format_message)(cinfo, e->message);
    longjmp(e->jump, 1);
}

/* Level -1 is a warning (corrupt data, premature end); others are trace messages. */
static void jpeg_errors_note(j_common_ptr cinfo, int level)
{
    dws_jpeg_errors *e = (dws_jpeg_errors *)cinfo->err;
    if (level >= 0 || e->warnings++) return;
    (*cinfo->err->format_message)(cinfo, e->message);
}

struct jpeg_error_mgr *dws_jpeg_errors_init(dws_jpeg_errors *e)
{
    struct jpeg_error_mgr *m = jpeg_std_error(&e->mgr);
    m->error_exit = jpeg_errors_fail;
    m->emit_message = jpeg_errors_note;
    e->warnings = 0;
    e->message[0] = '\0';
    return m;
}
