/* A zoo run from a spec and a data folder: what `dwsnet zoo` does between reading
 * its options and printing its summary. */
#include <cblas.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>

#include "zoo.h"

int dws_zoo_settings(const char *dir, dws_zoo_spec *spec, dws_error *err)
{
    char manifest[4096];
    struct stat st;
    snprintf(manifest, sizeof manifest, "%s/zoo.json", dir);
    if (stat(manifest, &st) == 0) return dws_zoo_read_spec(dir, spec, err);
    dws_zoo_spec_default(spec);
    return 0;
}

int dws_zoo_build(const char *dir, const char *data_dir, const dws_zoo_spec *spec, const dws_zoo_run_options *opt,
                  dws_zoo_progress *final, dws_error *err)
{
    dws_image_set train, test;
    float *target;
    int rc = -1;
    if (dws_cifar10_load_with_target(data_dir, &spec->domain, spec->domain_seed, &train, &test, &target, err) == 0 &&
        dws_zoo_open(dir, spec, train.n, test.n, err) == 0) {
        /* Parallelism comes from training several classifiers at once; each product is small. */
        if (opt->jobs > 1) openblas_set_num_threads(1);
        dws_zoo_data data = {.train = &train, .test = &test, .target_test = target};
        rc = dws_zoo_run(dir, spec, &data, opt, final, err);
    }
    free(target);
    dws_image_set_free(&train);
    dws_image_set_free(&test);
    return rc;
}
