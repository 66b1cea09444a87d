#include "listen.h"

#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

/* host:port, IPv6 addresses in brackets, for messages. */
static void address_text(const char *host, int port, char *out, size_t n)
{
    snprintf(out, n, strchr(host, ':') ? "[%s]:%d" : "%s:%d", host, port);
}

int dwsd_listen(const char *host, int port, int backlog, int *bound_port, char *why, size_t why_len)
{
    char where[300], service[16];
    address_text(host, port, where, sizeof where);
    snprintf(service, sizeof service, "%d", port);
    struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM,
                             .ai_flags = AI_PASSIVE | AI_NUMERICSERV};
    struct addrinfo *addr;
    int rc = getaddrinfo(host, service, &hints, &addr);
    if (rc) {
        snprintf(why, why_len, "cannot resolve '%s': %s", host, gai_strerror(rc));
        return -1;
    }
    int fd = socket(addr->ai_family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    const char *step = "socket";
    if (fd >= 0) {
        int one = 1;
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
        if (addr->ai_family == AF_INET6) setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof one);
        if (bind(fd, addr->ai_addr, addr->ai_addrlen) != 0) step = "bind to";
        else if (listen(fd, backlog) != 0) step = "listen on";
        else step = NULL;
    }
    freeaddrinfo(addr);
    if (step) {
        snprintf(why, why_len, "cannot %s %s: %s", step, where, strerror(errno));
        if (fd >= 0) close(fd);
        return -1;
    }
    struct sockaddr_storage ss;
    socklen_t len = sizeof ss;
    *bound_port = port;
    if (getsockname(fd, (struct sockaddr *)&ss, &len) == 0)
        *bound_port = ss.ss_family == AF_INET6 ? ntohs(((struct sockaddr_in6 *)&ss)->sin6_port)
                                               : ntohs(((struct sockaddr_in *)&ss)->sin_port);
    return fd;
}
