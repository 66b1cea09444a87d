/* SIGHUP reloads on a thread of their own, so that the main thread, which takes
 * every signal, never waits on the file system: a wedged or slow models directory
 * cannot keep SIGTERM from being handled. Requests made while a reload runs are
 * coalesced into one more reload after it. */
#ifndef DWSD_RELOADER_H
#define DWSD_RELOADER_H

#include "server.h"

typedef struct dwsd_reloader dwsd_reloader;

dwsd_reloader *dwsd_reloader_start(dwsd_server *s);
/* Asks for a reload; returns at once. */
void dwsd_reloader_request(dwsd_reloader *r);
/* Stops the thread, waiting at most wait_s seconds for a reload in progress.
 * Returns 0 when it stopped (r is freed), -1 when a reload is still running (r and
 * the registry must then be left alone: the process is about to exit). */
int dwsd_reloader_stop(dwsd_reloader *r, double wait_s);

#endif
