/* Start-up: the memory plan (memory.h) from the flags and the loaded models; the
 * admission budgets and the registry's limits follow from it. */
#ifndef DWSD_MEMORY_SETUP_H
#define DWSD_MEMORY_SETUP_H

#include "server.h"

/* 0 to go on serving; else the process's exit status: --check-memory prints the
 * plan and asks for 0 (fits) or 2; a plan that does not fit is an error (2). */
int dwsd_memory_setup(dwsd_server *s, dwsd_config *cfg, int *exit_status);

#endif
