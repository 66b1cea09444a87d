/* What the embedder commands (inr-zoo, train-embedder, eval-embedder) share:
 * float options and loading a zoo's networks. */
#ifndef DWS_EMBEDDER_CLI_H
#define DWS_EMBEDDER_CLI_H

#include "mlp.h"
#include "zoo_records.h"

/* A whole-string finite number in [lo, hi]; else prints the error line and returns -1. */
int embedder_cli_float(const char *cmd, const char *flag, const char *s, double lo, double hi, float *out);

/* The networks of z's records in split (NULL: every record), in record order:
 * *nets (n entries, free with embedder_cli_free_nets) and *rec (their record
 * indices, malloc'd). Prints the error line on failure. */
int embedder_cli_load_nets(const char *cmd, const char *dir, const dws_zoo_records *z, const char *split,
                           dws_mlp **nets, int **rec, int *n);
void embedder_cli_free_nets(dws_mlp *nets, int n);

#endif
