/*
 * stream.c: hosts that take IPFIX as a byte stream rather than datagrams:
 * over TCP (RFC 7011 10.4) or into a file (RFC 5655). Each such host has
 * a socket of its own (struct xsock, stream != 0) with its queue.
 *
 * Nothing a stream host should get is dropped while it cannot take it:
 * packets wait in its queue, exportd stops pulling batches once the queue
 * is long (send_backlogged), and sampled holds them, unacknowledged, until
 * they leave (backpressure; every wait is counted, stream_waits). A TCP
 * connection is made with backoff (1 s doubling to 30 s), and made again
 * when the collector goes away; a file is opened (truncated) once.
 *
 * Templates go once at the start of a connection (or file) and at once
 * when one changes, after withdrawing the old one (RFC 7011 8.1): never
 * on a timer, which is UDP's. A new connection gets a message of every
 * template and options record of each of its domains before anything
 * queued, its sequence number that of the first message queued for it.
 *
 * A connection that breaks may have held what the kernel had taken but
 * not yet handed to the collector: that much (SIOCOUTQ, and the packets
 * sent in the last XD_CONFIRM_MS) is said in the log and counted
 * (stream_breaks, stream_held_bytes).
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/sockios.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include "exportd.h"
#include "log.h"
#include "util.h"

#define BACKOFF_MIN_MS 1000
#define BACKOFF_MAX_MS 30000

/* The stream socket of host m, new (not yet open) or the one it has. */
struct xsock *
stream_get(struct exportd *xd, const Netstream__Host *m, int family)
{
	struct sockaddr_storage dst;
	socklen_t len = 0;
	struct xsock *s;
	size_t i;

	memset(&dst, 0, sizeof(dst));
	if (m->file == NULL || m->file[0] == '\0')
		xd_parse_addr(m->address, m->port, &dst, &len); /* checked */
	for (i = 0; i < xd->n_socks; i++) {
		s = xd->socks[i];
		if (s->stream && ((s->stream == XS_FILE &&
		    m->file != NULL && strcmp(s->path, m->file) == 0) ||
		    (s->stream == XS_TCP && s->dlen == len &&
		    memcmp(&s->dst, &dst, len) == 0)))
			return s;
	}
	s = xcalloc(1, sizeof(*s));
	s->fd = -1;
	s->family = family;
	if (m->file != NULL && m->file[0] != '\0') {
		s->stream = XS_FILE;
		ns_strlcpy(s->path, m->file, sizeof(s->path));
	} else {
		s->stream = XS_TCP;
		s->dst = dst;
		s->dlen = len;
		ns_strlcpy(s->vpn, m->vpn_instance ? m->vpn_instance : "",
		    sizeof(s->vpn));
		s->dscp = m->dscp;
		if (m->source_address != NULL && m->source_address[0] != '\0')
			xd_parse_addr(m->source_address, m->source_port,
			    &s->src, &len);
		s->has_src = m->source_address != NULL &&
		    m->source_address[0] != '\0';
	}
	xd->socks = xrealloc(xd->socks, (xd->n_socks + 1) * sizeof(*xd->socks));
	xd->socks[xd->n_socks++] = s;
	return s;
}

static struct host *
stream_host(struct exportd *xd, const struct xsock *s)
{
	size_t i;

	for (i = 0; i < xd->n_hosts; i++)
		if (xd->hosts[i]->sock == s)
			return xd->hosts[i];
	return NULL;
}

static void
stream_retry_later(struct xsock *s, int err)
{
	s->err = err;
	s->backoff_ms = s->backoff_ms ? s->backoff_ms * 2 : BACKOFF_MIN_MS;
	if (s->backoff_ms > BACKOFF_MAX_MS)
		s->backoff_ms = BACKOFF_MAX_MS;
	s->retry_ms = mono_ms() + s->backoff_ms;
}

static int
tcp_open(struct xsock *s)
{
	int fd, one = 1, tos = (int)s->dscp << 2;
	int v6 = s->dst.ss_family == AF_INET6;

	fd = socket(s->dst.ss_family, SOCK_STREAM | SOCK_NONBLOCK |
	    SOCK_CLOEXEC, 0);
	if (fd == -1)
		return -1;
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	setsockopt(fd, v6 ? IPPROTO_IPV6 : IPPROTO_IP, v6 ? IPV6_TCLASS :
	    IP_TOS, &tos, sizeof(tos));
	if ((s->vpn[0] != '\0' && setsockopt(fd, SOL_SOCKET, SO_BINDTODEVICE,
	    s->vpn, (socklen_t)strlen(s->vpn)) == -1) ||
	    (s->has_src && bind(fd, (struct sockaddr *)&s->src, v6 ?
	    sizeof(struct sockaddr_in6) : sizeof(struct sockaddr_in)) == -1) ||
	    (connect(fd, (struct sockaddr *)&s->dst, s->dlen) == -1 &&
	    errno != EINPROGRESS)) {
		int e = errno;

		close(fd);
		errno = e;
		return -1;
	}
	s->connecting = 1;
	return fd;
}

/* Opens (or connects) s when its backoff allows: 0 when it is open. */
static int
stream_open(struct exportd *xd, struct xsock *s)
{
	if (s->fd != -1)
		return 0;
	if (mono_ms() < s->retry_ms)
		return -1;
	s->tried_ms = mono_ms();
	if (s->stream == XS_FILE)
		s->fd = open(s->path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC,
		    0640);
	else
		s->fd = tcp_open(s);
	if (s->fd == -1) {
		struct host *h = stream_host(xd, s);

		if (h != NULL && s->err != errno)
			log_warnx("%s: %s: retried in %lld s", h->label,
			    strerror(errno), (long long)(s->backoff_ms ?
			    s->backoff_ms * 2 : BACKOFF_MIN_MS) / 1000);
		stream_retry_later(s, errno);
		return -1;
	}
	s->fresh = 1;
	s->off = 0;
	return 0;
}

/* The connection (or file) is gone: what it may have held is said. */
static void
stream_broken(struct exportd *xd, struct xsock *s, int err)
{
	struct host *h = stream_host(xd, s);
	int outq = 0;

	if (s->stream == XS_TCP && ioctl(s->fd, SIOCOUTQ, &outq) == -1)
		outq = 0;
	if (outq < (int)s->outq)
		outq = (int)s->outq;
	close(s->fd);
	s->fd = -1;
	s->connecting = 0;
	s->off = 0; /* a packet cut in the middle goes again whole */
	s->blocked = 0;
	if (h != NULL) {
		h->stream_breaks++;
		h->stream_held_bytes += (uint64_t)outq;
		host_error(h, err);
		log_warnx("%s: the connection broke (%s): up to %d bytes in "
		    "the %u packets sent in the last %d s may not have reached "
		    "the collector; reconnecting", h->label, strerror(err),
		    outq, h->in_flight, XD_CONFIRM_MS / 1000);
	}
	stream_retry_later(s, err);
	s->backoff_ms = 0; /* the first try again after a second */
	s->retry_ms = mono_ms() + BACKOFF_MIN_MS;
}

/* A connection in progress: 1 when it is made, 0 not yet, -1 failed. */
static int
stream_connected(struct exportd *xd, struct xsock *s)
{
	struct host *h;
	int err = 0;
	socklen_t len = sizeof(err);

	if (!s->connecting)
		return 1;
	if (getsockopt(s->fd, SOL_SOCKET, SO_ERROR, &err, &len) == -1)
		err = errno;
	if (err == 0) {
		struct sockaddr_storage peer;
		socklen_t plen = sizeof(peer);

		if (getpeername(s->fd, (struct sockaddr *)&peer, &plen) == -1)
			return 0; /* not yet */
		s->connecting = 0;
		s->backoff_ms = 0;
		if ((h = stream_host(xd, s)) != NULL) {
			h->stream_connects++;
			log_info("%s: connected", h->label);
		}
		return 1;
	}
	if (err == EINPROGRESS || err == EALREADY)
		return 0;
	close(s->fd);
	s->fd = -1;
	s->connecting = 0;
	if ((h = stream_host(xd, s)) != NULL && s->err != err)
		log_warnx("%s: %s: retried with backoff", h->label,
		    strerror(err));
	stream_retry_later(s, err);
	return -1;
}

/*
 * Writes the queue's head packets. A new connection first gets every
 * template of its domains (dest.c: dest_restart).
 */
void
stream_flush(struct exportd *xd, struct xsock *s)
{
	struct host *h;
	ssize_t n;

	if (s->head == NULL || stream_open(xd, s) == -1 ||
	    stream_connected(xd, s) != 1) {
		if (s->head != NULL && !s->waiting) {
			s->waiting = 1;
			if ((h = s->head->host) != NULL)
				h->stream_waits++;
		}
		return;
	}
	if (s->fresh) {
		s->fresh = 0;
		if ((h = stream_host(xd, s)) != NULL)
			dest_restart(xd, h);
	}
	while (s->head != NULL) {
		struct out *o = s->head;

		n = s->stream == XS_FILE ?
		    write(s->fd, o->buf + s->off, o->len - s->off) :
		    send(s->fd, o->buf + s->off, o->len - s->off,
		    MSG_NOSIGNAL | MSG_DONTWAIT);
		if (n > 0) {
			s->off += (size_t)n;
			if (s->off < o->len)
				continue;
			s->off = 0;
			s->waiting = 0;
			send_pop_sent(xd, s);
			continue;
		}
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
			if (!s->blocked)
				o->host->stream_waits++;
			s->blocked = 1;
			break;
		}
		stream_broken(xd, s, n == 0 ? EPIPE : errno);
		return;
	}
	if (s->head == NULL)
		s->blocked = 0;
	if (s->stream == XS_TCP && ioctl(s->fd, SIOCOUTQ, &s->outq) == -1)
		s->outq = 0;
}

/* The collector closed or reset a connection (POLLIN, POLLHUP). */
void
stream_readable(struct exportd *xd, struct xsock *s)
{
	char buf[512];
	ssize_t n;

	if (s->fd == -1 || s->stream != XS_TCP)
		return;
	if (s->connecting) {
		(void)stream_connected(xd, s);
		return;
	}
	n = recv(s->fd, buf, sizeof(buf), MSG_DONTWAIT);
	if (n == 0)
		stream_broken(xd, s, ECONNRESET);
	else if (n == -1 && errno != EAGAIN && errno != EWOULDBLOCK &&
	    errno != EINTR)
		stream_broken(xd, s, errno);
	/* anything a collector sends is not read: IPFIX is one-way */
}

/* When a closed stream with packets waiting is to be tried again. */
int64_t
stream_next_ms(const struct exportd *xd)
{
	int64_t t = INT64_MAX;
	size_t i;

	for (i = 0; i < xd->n_socks; i++) {
		const struct xsock *s = xd->socks[i];

		if (s->stream && s->fd == -1 && s->head != NULL &&
		    s->retry_ms < t)
			t = s->retry_ms;
	}
	return t;
}
