/* What the embedder commands (inr-zoo, train-embedder, eval-embedder) share:
 * loading a zoo's networks. */
#ifndef DWS_EMBEDDER_CLI_H
#define DWS_EMBEDDER_CLI_H

#include "mlp/mlp.h"
#include "zoo/zoo.h"

/* A zoo as the embedder commands read it: its records and the networks of one
 * split (or of every record, so that nets[i] is records.r[i]'s), in record order. */
typedef struct {
    dws_zoo_records records;
    dws_mlp *nets;
    int n;
} embedder_zoo;

/* Reads dir's index and decodes the networks of split (NULL: all). Prints the
 * error line and returns -1 (with nothing to close) on failure. */
int embedder_cli_open_zoo(const char *cmd, const char *dir, const char *split, embedder_zoo *z);
void embedder_cli_close_zoo(embedder_zoo *z);

#endif
