/*
 * send.c: UDP sockets, one per (family, source, source port, vpn instance,
 * dscp), shared by the hosts that leave from there; packets go out in
 * order with sendmmsg. Errors are counted per host and errno: EAGAIN and
 * ENOBUFS keep the packet queued (bounded per host) for a later try, any
 * other error drops that one packet. Sockets are unconnected, so ICMP
 * errors (port or host unreachable) are read from the error queue
 * (IP_RECVERR), which names the host they belong to and quotes the
 * packet. So a packet the kernel took is in flight first: sent once
 * XD_CONFIRM_MS pass with no error for it, failed when an error names
 * it; the host's counters only go up. A failed packet makes its host
 * failing (dest.c host_failed).
 *
 * Pacing: each host has a token bucket (pace_pps a second, bursts of
 * XD_PACE_BURST), so a burst of export (the end of a replay, a mass
 * expiry) does not overrun a collector's socket buffer. A packet whose
 * host has no token waits at the head of its socket's queue; nothing is
 * dropped for pace. When a host has XD_HOST_QUEUE packets waiting,
 * exportd stops pulling batches (send_backlogged), and sampled holds them.
 */
#include <errno.h>
#include <time.h> /* before linux/errqueue.h, which uses timespec */
#include <linux/errqueue.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "exportd.h"
#include "log.h"
#include "util.h"

#define SNDBUF (4 << 20)

static int
sock_same(const struct xsock *s, int family, const struct sockaddr_storage *src,
    const char *vpn, unsigned dscp)
{
	return s->family == family && s->dscp == dscp &&
	    strcmp(s->vpn, vpn) == 0 &&
	    memcmp(&s->src, src, sizeof(*src)) == 0;
}

static int
setopt(int fd, int level, int name, int v)
{
	return setsockopt(fd, level, name, &v, sizeof(v));
}

static int
sock_options(struct xsock *s)
{
	int v6 = s->family == AF_INET6, fd = s->fd;
	int tos = (int)s->dscp << 2;

	setopt(fd, SOL_SOCKET, SO_SNDBUF, SNDBUF);
	if (setopt(fd, v6 ? SOL_IPV6 : SOL_IP, v6 ? IPV6_RECVERR : IP_RECVERR,
	    1) == -1)
		return -1;
	if (setopt(fd, v6 ? IPPROTO_IPV6 : IPPROTO_IP,
	    v6 ? IPV6_TCLASS : IP_TOS, tos) == -1)
		return -1;
	if (s->vpn[0] != '\0' && setsockopt(fd, SOL_SOCKET, SO_BINDTODEVICE,
	    s->vpn, (socklen_t)strlen(s->vpn)) == -1)
		return -1;
	if (!s->has_src)
		return 0;
	/* several hosts, or exportd and another process, share a port */
	if (setopt(fd, SOL_SOCKET, SO_REUSEADDR, 1) == -1 ||
	    setopt(fd, SOL_SOCKET, SO_REUSEPORT, 1) == -1)
		return -1;
	return bind(fd, (struct sockaddr *)&s->src,
	    v6 ? sizeof(struct sockaddr_in6) : sizeof(struct sockaddr_in));
}

static void
sock_open(struct xsock *s)
{
	s->tried_ms = mono_ms();
	s->fd = socket(s->family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (s->fd != -1 && sock_options(s) == 0) {
		s->err = 0;
		return;
	}
	s->err = errno;
	log_warn("export socket (vpn instance \"%s\", dscp %u)", s->vpn,
	    s->dscp);
	if (s->fd != -1)
		close(s->fd);
	s->fd = -1;
}

struct xsock *
sock_get(struct exportd *xd, const Netstream__Host *h, int family)
{
	struct sockaddr_storage src;
	const char *vpn = h->vpn_instance ? h->vpn_instance : "";
	struct xsock *s;
	socklen_t len;
	size_t i;

	if (h->tcp || (h->file != NULL && h->file[0] != '\0'))
		return stream_get(xd, h, family);

	if (h->source_address != NULL && h->source_address[0] != '\0')
		xd_parse_addr(h->source_address, h->source_port, &src, &len);
	else {
		memset(&src, 0, sizeof(src));
		src.ss_family = (sa_family_t)family;
		if (family == AF_INET6)
			((struct sockaddr_in6 *)&src)->sin6_port =
			    htons((uint16_t)h->source_port);
		else
			((struct sockaddr_in *)&src)->sin_port =
			    htons((uint16_t)h->source_port);
	}
	for (i = 0; i < xd->n_socks; i++)
		if (sock_same(xd->socks[i], family, &src, vpn, h->dscp))
			return xd->socks[i];
	s = xcalloc(1, sizeof(*s));
	s->family = family;
	s->src = src;
	s->has_src = h->source_port != 0 ||
	    (h->source_address != NULL && h->source_address[0] != '\0');
	ns_strlcpy(s->vpn, vpn, sizeof(s->vpn));
	s->dscp = h->dscp;
	sock_open(s);
	xd->socks = xrealloc(xd->socks, (xd->n_socks + 1) * sizeof(*xd->socks));
	xd->socks[xd->n_socks++] = s;
	return s;
}

struct out *
out_get(struct exportd *xd, size_t cap)
{
	struct out *o = xd->spare;

	if (o != NULL && o->cap >= cap) {
		xd->spare = o->next;
		o->next = NULL;
		return o;
	}
	o = xcalloc(1, sizeof(*o));
	o->buf = xmalloc(cap);
	o->cap = cap;
	return o;
}

void
out_put(struct exportd *xd, struct out *o)
{
	o->next = xd->spare;
	xd->spare = o;
}

/*
 * The counters of template id as a template of record (added when new;
 * past XD_TSTATS_MAX pairs, which only forged batches reach, those of
 * the first pair with that id, or the last pair).
 */
uint32_t
tstat_get(struct exportd *xd, uint16_t id, const char *record)
{
	struct tstat *t;
	size_t j;

	for (j = 0; j < xd->n_tstats; j++)
		if (xd->tstats[j].id == id &&
		    strncmp(xd->tstats[j].record, record,
		    sizeof(t->record) - 1) == 0)
			return (uint32_t)j;
	if (xd->n_tstats >= XD_TSTATS_MAX) {
		for (j = 0; j < xd->n_tstats; j++)
			if (xd->tstats[j].id == id)
				return (uint32_t)j;
		return (uint32_t)(xd->n_tstats - 1);
	}
	xd->tstats = xrealloc(xd->tstats,
	    (xd->n_tstats + 1) * sizeof(*xd->tstats));
	t = &xd->tstats[xd->n_tstats];
	memset(t, 0, sizeof(*t));
	t->id = id;
	ns_strlcpy(t->record, record, sizeof(t->record));
	return (uint32_t)xd->n_tstats++;
}

void
tstat_count(struct exportd *xd, const struct out *o, int ok)
{
	unsigned i;

	for (i = 0; i < o->n_tst; i++) {
		if (o->tst[i] >= xd->n_tstats)
			continue;
		if (ok)
			xd->tstats[o->tst[i]].ok++;
		else
			xd->tstats[o->tst[i]].failed++;
	}
}

/* The i-th packet in flight to h, oldest first. */
static struct sent *
flight(struct host *h, unsigned i)
{
	return &h->ring[(h->ring_head + i) % h->ring_cap];
}

static void flight_pop(struct exportd *xd, struct host *h);

/* Room for one more packet in flight: grown, or the oldest taken as sent. */
static void
flight_room(struct exportd *xd, struct host *h)
{
	struct sent *r;
	unsigned i, cap;

	if (h->ring_n < h->ring_cap)
		return;
	if (h->ring_cap >= XD_SENT_MAX) {
		flight_pop(xd, h); /* sent early: no room to wait */
		return;
	}
	cap = h->ring_cap ? h->ring_cap * 2 : XD_SENT_MIN;
	r = xcalloc(cap, sizeof(*r));
	for (i = 0; i < h->ring_n; i++)
		r[i] = *flight(h, i);
	free(h->ring);
	h->ring = r;
	h->ring_cap = cap;
	h->ring_head = 0;
}

/* A packet the kernel took for its host: in flight until confirmed. */
static void
flight_add(struct exportd *xd, struct host *h, const struct out *o)
{
	struct sent *e;
	unsigned i;

	flight_room(xd, h);
	e = flight(h, h->ring_n++);
	h->in_flight++;
	e->klen = (uint8_t)(o->len < XD_SENT_KEY ? o->len : XD_SENT_KEY);
	memcpy(e->key, o->buf, e->klen);
	e->len = (uint32_t)o->len;
	e->n_flows = o->n_flows;
	e->n_tmpl = (uint16_t)o->n_tmpl;
	e->n_opt = (uint16_t)o->n_opt;
	e->n_tst = (uint8_t)o->n_tst;
	for (i = 0; i < o->n_tst; i++)
		e->tst[i] = (uint16_t)o->tst[i];
	e->at_ms = mono_ms();
}

/*
 * The oldest packet in flight to h leaves the ring: sent, unless it
 * failed. One sent after the host's last failure makes a failing host
 * ok again.
 */
static void
flight_pop(struct exportd *xd, struct host *h)
{
	struct sent *e = flight(h, 0);
	unsigned i;

	if (e->len != 0) {
		h->packets++;
		h->bytes += e->len;
		h->records += e->n_flows;
		h->template_sends += e->n_tmpl;
		h->options_sends += e->n_opt;
		for (i = 0; i < e->n_tst; i++)
			if (e->tst[i] < xd->n_tstats)
				xd->tstats[e->tst[i]].ok++;
		h->in_flight--;
		host_sent_ok(h, e->at_ms);
	}
	h->ring_head = (h->ring_head + 1) % h->ring_cap;
	h->ring_n--;
}

/* Packets in flight to h for XD_CONFIRM_MS (or all) with no error: sent. */
void
send_confirm(struct exportd *xd, struct host *h, int64_t now, int all)
{
	while (h->ring_n > 0 && (all || flight(h, 0)->len == 0 ||
	    now - flight(h, 0)->at_ms >= XD_CONFIRM_MS))
		flight_pop(xd, h);
}

/* A packet of h was lost: counted failed, and h is failing. */
static void
host_lost(struct host *h, uint64_t n_flows, int err)
{
	host_error(h, err);
	host_failed(h, err); /* before: the counts since it began are new */
	h->failed_packets++;
	h->failed_records += n_flows;
}

/*
 * An ICMP error came for a packet to h: the packet in flight it quotes
 * (data, its first bytes), or when the quote is too short to tell (a
 * router may quote only the UDP header), the oldest one in flight. That
 * one failed. If none is in flight (confirmed already), only the error
 * and the state say it.
 */
static void
sent_failed(struct exportd *xd, struct host *h, const uint8_t *data,
    size_t len, int err)
{
	struct sent *e, *pick = NULL;
	unsigned i, k;

	for (i = 0; i < h->ring_n && len >= 16; i++) {
		e = flight(h, i);
		k = e->klen < len ? e->klen : (unsigned)len;
		if (e->len != 0 && k >= 16 && memcmp(e->key, data, k) == 0) {
			pick = e;
			break;
		}
	}
	for (i = 0; pick == NULL && i < h->ring_n; i++)
		if (flight(h, i)->len != 0)
			pick = flight(h, i);
	if (pick == NULL) {
		host_error(h, err);
		host_failed(h, err);
		return;
	}
	for (i = 0; i < pick->n_tst; i++)
		if (pick->tst[i] < xd->n_tstats)
			xd->tstats[pick->tst[i]].failed++;
	host_lost(h, pick->n_flows, err);
	pick->len = 0; /* failed: no longer in flight */
	h->in_flight--;
}

/* Takes the first packet off s's queue: sent (ok) or dropped (err). */
static void
sock_pop(struct exportd *xd, struct xsock *s, int ok, int err)
{
	struct out *o = s->head;
	struct host *h = o->host;

	s->head = o->next;
	if (s->head == NULL)
		s->tail = NULL;
	s->n_out--;
	h->queued--;
	if (ok)
		flight_add(xd, h, o); /* counted when confirmed */
	else {
		host_lost(h, o->n_flows, err);
		tstat_count(xd, o, 0);
	}
	ack_out_done(xd, o);
	out_put(xd, o);
}

/* The head of a stream's queue was written whole (stream.c). */
void
send_pop_sent(struct exportd *xd, struct xsock *s)
{
	sock_pop(xd, s, 1, 0);
}

void
send_packet(struct exportd *xd, struct out *o)
{
	struct host *h = o->host;
	struct xsock *s = h->sock;

	/* a bound for memory only: exportd stops pulling long before */
	if (h->queued >= XD_HOST_QUEUE_MAX) {
		host_lost(h, o->n_flows, XD_EQUEUE);
		tstat_count(xd, o, 0);
		ack_out_done(xd, o);
		out_put(xd, o);
		return;
	}
	o->next = NULL;
	if (xd->front == s) {
		/* a stream's restart: before what was queued, in order */
		struct out **at = xd->front_last ? &xd->front_last->next :
		    &s->head;

		o->next = *at;
		*at = o;
		if (o->next == NULL)
			s->tail = o;
		xd->front_last = o;
	} else {
		if (s->tail != NULL)
			s->tail->next = o;
		else
			s->head = o;
		s->tail = o;
	}
	s->n_out++;
	h->queued++;
	if (s->n_out >= XD_SEND_BATCH && !s->blocked && !s->stream)
		send_flush_all(xd);
}

/* Counts the ICMP errors the kernel queued, against the host they name. */
void
send_errqueue(struct exportd *xd, struct xsock *s)
{
	struct sockaddr_storage name;
	union {
		char buf[512];
		struct cmsghdr align;
	} ctl;
	char data[64];
	struct iovec iov = { data, sizeof(data) };
	struct msghdr mh;
	struct cmsghdr *c;
	ssize_t got;

	while (s->fd != -1) {
		memset(&mh, 0, sizeof(mh));
		memset(&name, 0, sizeof(name));
		mh.msg_name = &name;
		mh.msg_namelen = sizeof(name);
		mh.msg_iov = &iov;
		mh.msg_iovlen = 1;
		mh.msg_control = ctl.buf;
		mh.msg_controllen = sizeof(ctl.buf);
		if ((got = recvmsg(s->fd, &mh, MSG_ERRQUEUE | MSG_DONTWAIT)) ==
		    -1)
			return;
		for (c = CMSG_FIRSTHDR(&mh); c != NULL; c = CMSG_NXTHDR(&mh, c)) {
			struct sock_extended_err ee;
			struct host *h;

			if (!((c->cmsg_level == SOL_IP && c->cmsg_type == IP_RECVERR) ||
			    (c->cmsg_level == SOL_IPV6 && c->cmsg_type == IPV6_RECVERR)))
				continue;
			memcpy(&ee, CMSG_DATA(c), sizeof(ee));
			if ((h = host_by_addr(xd, s, &name)) != NULL)
				sent_failed(xd, h, (const uint8_t *)data,
				    (size_t)got < sizeof(data) ? (size_t)got :
				    sizeof(data), (int)ee.ee_errno);
		}
	}
}

/* Drops the queue of a socket that could not be opened (retried later). */
static void
sock_broken(struct exportd *xd, struct xsock *s)
{
	if (mono_ms() - s->tried_ms >= XD_SOCK_RETRY_MS)
		sock_open(s);
	if (s->fd != -1)
		return;
	while (s->head != NULL)
		sock_pop(xd, s, 0, s->err);
}

/* Adds the tokens earned since the last time; a host unpaced has plenty. */
static void
pace_refill(struct host *h, int64_t now_us)
{
	if (h->pace_pps == 0) {
		h->tokens = XD_PACE_BURST;
		return;
	}
	if (now_us > h->pace_us) {
		h->tokens += (double)(now_us - h->pace_us) * h->pace_pps / 1e6;
		if (h->tokens > XD_PACE_BURST)
			h->tokens = XD_PACE_BURST;
	}
	h->pace_us = now_us;
}

/*
 * How many packets from the head may leave now, their hosts' tokens
 * taken; when one must wait, when its host's next token comes.
 */
static int
pace_take(struct xsock *s)
{
	int64_t now = mono_us();
	struct out *o;
	int n = 0;

	s->paced_until_us = 0;
	for (o = s->head; o != NULL && n < XD_SEND_BATCH; o = o->next, n++) {
		struct host *h = o->host;

		pace_refill(h, now);
		if (h->tokens < 1.0) {
			h->pace_waits++;
			s->paced_until_us = now + 1 +
			    (int64_t)((1.0 - h->tokens) * 1e6 / h->pace_pps);
			break;
		}
		h->tokens -= 1.0;
	}
	return n;
}

/* Gives back the tokens of packets from the k-th of the head to the n-th. */
static void
pace_refund(struct xsock *s, int k, int n)
{
	struct out *o = s->head;
	int i;

	for (i = 0; o != NULL && i < n; o = o->next, i++)
		if (i >= k)
			o->host->tokens += 1.0;
}

static int
sendmmsg_head(struct xsock *s, int max)
{
	struct mmsghdr m[XD_SEND_BATCH];
	struct iovec iov[XD_SEND_BATCH];
	struct out *o;
	int n = 0;

	memset(m, 0, sizeof(m));
	for (o = s->head; o != NULL && n < max; o = o->next, n++) {
		iov[n].iov_base = o->buf;
		iov[n].iov_len = o->len;
		m[n].msg_hdr.msg_name = &o->host->addr;
		m[n].msg_hdr.msg_namelen = o->host->alen;
		m[n].msg_hdr.msg_iov = &iov[n];
		m[n].msg_hdr.msg_iovlen = 1;
	}
	return sendmmsg(s->fd, m, (unsigned)n, 0);
}

static int
async_errno(int e)
{
	return e == ECONNREFUSED || e == EHOSTUNREACH || e == ENETUNREACH ||
	    e == EHOSTDOWN || e == ENETDOWN || e == EPROTO;
}

static void
sock_flush(struct exportd *xd, struct xsock *s)
{
	int n, r, e, retried = 0;

	if (s->stream) {
		stream_flush(xd, s);
		return;
	}
	if (s->fd == -1) {
		sock_broken(xd, s);
		return;
	}
	send_errqueue(xd, s);
	while (s->head != NULL) {
		if ((n = pace_take(s)) == 0)
			return; /* its host's next token: s->paced_until_us */
		r = sendmmsg_head(s, n);
		e = errno;
		pace_refund(s, r > 0 ? r : 0, n);
		if (r > 0) {
			while (r-- > 0)
				sock_pop(xd, s, 1, 0);
			s->blocked = retried = 0;
			continue;
		}
		if (e == EINTR)
			continue;
		if (e == EAGAIN || e == EWOULDBLOCK || e == ENOBUFS) {
			if (!s->blocked)
				host_error(s->head->host, e);
			s->blocked = 1;
			return;
		}
		/*
		 * An ICMP error of an earlier packet, maybe to another host,
		 * fails the next send once: count it where it belongs, then
		 * try this packet again.
		 */
		if (async_errno(e) && !retried) {
			send_errqueue(xd, s);
			retried = 1;
			continue;
		}
		sock_pop(xd, s, 0, e);
		retried = 0;
	}
}

void
send_flush_all(struct exportd *xd)
{
	size_t i;

	for (i = 0; i < xd->n_socks; i++)
		if (xd->socks[i]->head != NULL)
			sock_flush(xd, xd->socks[i]);
}

/* 1 when some host has so much waiting that no batch should be pulled */
int
send_backlogged(const struct exportd *xd)
{
	size_t i;

	for (i = 0; i < xd->n_hosts; i++)
		if (xd->hosts[i]->queued >= XD_HOST_QUEUE)
			return 1;
	return 0;
}

/*
 * When a send should be tried again (mono_us): the earliest pace wait, or
 * INT64_MAX when no queue waits for its pace (blocked ones poll POLLOUT).
 */
int64_t
send_next_us(const struct exportd *xd)
{
	int64_t t = INT64_MAX;
	size_t i;

	for (i = 0; i < xd->n_socks; i++) {
		const struct xsock *s = xd->socks[i];

		if (s->head != NULL && s->paced_until_us != 0 &&
		    s->paced_until_us < t)
			t = s->paced_until_us;
	}
	/* a stream host's connection tried again (stream.c) */
	if (stream_next_ms(xd) != INT64_MAX && stream_next_ms(xd) * 1000 < t)
		t = stream_next_ms(xd) * 1000;
	return t;
}

/* 1 when some packet still waits for a socket */
int
send_pending(const struct exportd *xd)
{
	size_t i;

	for (i = 0; i < xd->n_socks; i++)
		if (xd->socks[i]->head != NULL)
			return 1;
	return 0;
}

void
send_free_all(struct exportd *xd)
{
	struct out *o;
	size_t i;

	for (i = 0; i < xd->n_socks; i++) {
		struct xsock *s = xd->socks[i];

		while ((o = s->head) != NULL) {
			s->head = o->next;
			out_put(xd, o);
		}
		if (s->fd != -1)
			close(s->fd);
		free(s);
	}
	free(xd->socks);
	free(xd->tstats);
	while ((o = xd->spare) != NULL) {
		xd->spare = o->next;
		free(o->buf);
		free(o);
	}
}
