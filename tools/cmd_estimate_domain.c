/* dwsnet estimate-domain: which domain (clean, a corruption at a severity, or a chain class) a few
 * unlabeled images come from, by the domain estimator (model/model.h); the images are
 * PNG, JPEG or CIFAR-10 records files (data/data.h, "image decode"). Prints the answer
 * POST /v1/estimate-domain gives, as one JSON line. */
#include <stdio.h>

#include "cli_io.h"
#include "commands.h"
#include "data/data.h"
#include "model/model.h"
#include "model_cli.h"
#include "options_table.h"

#define CMD "estimate-domain"
/* The decoded images (12 KiB each) and the decoders' buffers, at most. */
#define MEMORY ((size_t)1 << 30)

int cmd_estimate_domain(int argc, char **argv)
{
    estimate_domain_opts o;
    int status = cli_parse(&cli_estimate_domain, argc, argv, &o);
    if (status >= 0) return status;
    dws_image_budget budget = {.max_bytes = MEMORY, .max_images = (size_t)o.max_images};
    dws_image_list images = {0};
    dws_error err;
    dws_error_clear(&err);
    for (int i = 0; i < o.images.n; i++)
        if (dws_image_read_file(o.images.v[i], &images, &budget, &err)) {
            dws_image_list_free(&images, &budget);
            return cli_fail(CMD, &err);
        }
    const char *path = o.estimator;
    dws_estimator *e = model_cli_load_estimator(CMD, &path);
    if (!e) {
        dws_image_list_free(&images, &budget);
        return 1;
    }
    dws_domain_estimate est;
    int rc = dws_estimate_domain(e, images.x, images.n, &est, &err);
    if (rc == 0) rc = cli_print_json(dws_domain_estimate_json(e, &est)) ? 1 : 0;
    else cli_fail(CMD, &err), rc = 1;
    dws_estimator_free(e);
    dws_image_list_free(&images, &budget);
    return rc;
}
