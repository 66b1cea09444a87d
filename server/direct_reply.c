#include "direct_reply.h"

#include <stdio.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/uio.h>

#include "problem.h"

size_t dwsd_direct_reply(struct MHD_Connection *c, const char *code, const char *detail, const char *request_id,
                         const char *instance)
{
    const union MHD_ConnectionInfo *ci = MHD_get_connection_info(c, MHD_CONNECTION_INFO_CONNECTION_FD);
    if (!ci) return 0;
    size_t body_len;
    char *body = dwsd_problem_json(code, detail, request_id, instance, &body_len);
    if (!body) return 0;
    char head[512];
    int status = dwsd_problem_status(code);
    int n = snprintf(head, sizeof head,
                     "HTTP/1.1 %d %s\r\nContent-Type: application/problem+json\r\nX-Request-Id: %s\r\n"
                     "Connection: close\r\nContent-Length: %zu\r\n\r\n",
                     status, dwsd_problem_title(code), request_id, body_len);
    size_t sent = 0;
    struct iovec parts[2] = {{head, (size_t)n}, {body, body_len}};
    struct msghdr msg = {.msg_iov = parts, .msg_iovlen = 2};
    ssize_t k = sendmsg(ci->connect_fd, &msg, MSG_NOSIGNAL | MSG_DONTWAIT);
    if (k > 0) sent = (size_t)k;
    shutdown(ci->connect_fd, SHUT_WR);
    free(body);
    return sent;
}
