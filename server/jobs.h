/* The worker side of an /adapt, /embed or /v1/inspect request: from the queue to
 * the reply, the work memory and the batching of requests that wait together. */
#ifndef DWSD_JOBS_H
#define DWSD_JOBS_H

#include "workqueue.h"

/* The dwsd_job run of a request (request.h): fills its reply, then resumes its
 * connection, after which the request belongs to the HTTP thread again. With
 * --batch above 1, it also takes the requests for the same model and widths
 * already waiting (never waiting for more), runs them as one forward and answers
 * each as soon as its own answer is ready. */
void dwsd_job_run(dwsd_job *job, dwsd_worker *w);

#endif
