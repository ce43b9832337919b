/*
 * monitor.c: the socket monitor of each tcp:// bus socket of a daemon. A
 * thread per socket reads its libzmq events and logs what an operator
 * must know (a handshake that fails, on the binding side with the
 * client's address; a connection lost and found again) once per change
 * of state, never per retry: libzmq reconnects about every 100 ms, and a
 * client with a wrong key fails every time. Every failure and every lost
 * connection is counted (bus_handshake_failures{endpoint,reason},
 * bus_disconnects{endpoint}) in the process's stats.
 *
 * libzmq 4.3 (without its draft API) tells neither side who the peer of a
 * failed handshake is: a server socket's events name its own endpoint.
 * The address comes from the fd of ZMQ_EVENT_ACCEPTED (getpeername), and
 * a failure is the peer's whose ZMQ_EVENT_DISCONNECTED follows it (libzmq
 * sends the two together when it drops the connection). A connection
 * that is gone before the thread asks is "an unknown address". Nor does
 * a success name its peer, and several clients may share an address: so
 * a server logs when an address starts failing (per reason) and when it
 * has failed no handshake for FAIL_QUIET_MS, not a success.
 *
 * A client whose key the server's ZAP handler refuses gets an ERROR
 * command, and libzmq (4.3) then ends that connection for good: no
 * reconnect, ever, even once the key is authorized. So a client socket
 * refused at its handshake (ZMQ_EVENT_HANDSHAKE_FAILED_AUTH) is connected
 * again by the thread that owns it (monitor_retry, from its loop; a
 * socket is only ever touched by its own thread), 1 s after the refusal,
 * then 2, 4 ... up to 30 s while it is refused again, counted in
 * bus_reconnects{endpoint}. A PUSH socket's messages queued for the dead
 * connection are gone with it: sampled sends again every batch exportd
 * has not acknowledged. REQ sockets are left out: their owners make them
 * again per request.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <zmq.h>

#include "bus.h"
#include "log.h"
#include "monitor.h"
#include "stats.h"
#include "util.h"

#define MON_MAX 16	  /* monitored sockets of a process */
#define PEERS_MAX 64	  /* connections a server socket has open */
#define FAILING_MAX 32	  /* peers a server socket logged as failing */
#define LOG_PER_SECOND 5  /* many peers failing at once must not flood */
/* a peer that failed no handshake for this long has stopped failing */
#define FAIL_QUIET_MS 3000
#define RETRY_MAX 16	  /* client sockets connected again after a refusal */
#define RETRY_FIRST_MS 1000
#define RETRY_CAP_MS 30000

enum reason { R_NO_DETAIL, R_PROTOCOL, R_AUTH, R_MAX };
static const char *const reason_names[R_MAX] = { "no-detail", "protocol",
	"auth" };

/*
 * A client socket its owner connects again after a refusal: the monitor
 * thread says it was refused (or let in), the owner's thread acts.
 */
struct retry {
	void *sock; /* NULL: free */
	pthread_t owner;
	int type; /* ZMQ_PUSH ... */
	char endpoint[BUS_ENDPOINT_MAX];
	atomic_int refused, let_in;
	int64_t due_ms;	    /* mono; 0: none due (owner's) */
	int64_t backoff_ms; /* owner's */
};

/* The thread of one socket. */
struct watch {
	struct mon *m;
	struct retry *rt; /* NULL: not connected again by monitor_retry */
	void *pair;
	int pending; /* 1 + reason: a failure whose DISCONNECTED is next */
	uint32_t pending_value;
};

/* what a client socket last logged */
enum cstate { C_INIT, C_UP, C_DOWN, C_FAILING };

struct peer {
	int fd; /* -1: free */
	int handshaking;
	char addr[INET6_ADDRSTRLEN];
};

/* a peer address failing for one reason: logged when it begins, ends */
struct failing {
	char addr[INET6_ADDRSTRLEN]; /* "": free */
	int reason;
	uint64_t n;
	int64_t first_ms, last_ms; /* mono */
};

/*
 * One endpoint of one role: every socket bound or connected to it (a REQ
 * made again after a timeout) counts and logs here, so a socket made
 * again does not log again what was already said.
 */
struct mon {
	char endpoint[BUS_ENDPOINT_MAX];
	int server;
	atomic_uint_fast64_t fails[R_MAX], disconnects;
	pthread_mutex_t mu; /* what follows: the threads of its sockets */
	enum cstate state;
	int reason;	  /* of the failure logged last */
	uint64_t n_fails; /* since that line */
	int64_t down_ms;  /* mono, when the connection was lost */
	struct peer peer[PEERS_MAX];
	struct failing failing[FAILING_MAX];
	int64_t log_second;
	unsigned log_lines;
	uint64_t log_skipped;
	atomic_uint_fast64_t reconnects; /* by monitor_retry */
};

static struct mon *mons[MON_MAX];
static size_t n_mons;
static struct retry retries[RETRY_MAX];
static unsigned seq;
static int enabled;
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;

/* Daemons monitor their sockets; nsctl says what fails in its own words. */
void
monitor_enable(void)
{
	enabled = 1;
}

static const char *
protocol_error(uint32_t v)
{
	switch (v) {
	case ZMQ_PROTOCOL_ERROR_ZMTP_CRYPTOGRAPHIC:
		return "a cryptographic error (the client's server public key "
		       "is not this server's)";
	case ZMQ_PROTOCOL_ERROR_ZMTP_MECHANISM_MISMATCH:
		return "a mechanism mismatch (a client without CURVE, or with "
		       "CURVE against a server without)";
	case ZMQ_PROTOCOL_ERROR_ZMTP_KEY_EXCHANGE:
		return "a failed key exchange";
	}
	if ((v & 0xf0000000u) == ZMQ_PROTOCOL_ERROR_ZAP_UNSPECIFIED)
		return "a bad answer of the ZAP handler";
	return "a malformed or unexpected ZMTP command";
}

/* Why a handshake failed, in the words of the side that saw it. */
static void
why(const struct mon *m, int r, uint32_t v, char *buf, size_t len)
{
	if (r == R_PROTOCOL)
		snprintf(buf, len, "protocol error 0x%08x, %s", v,
		    protocol_error(v));
	else if (r == R_AUTH && m->server)
		snprintf(buf, len, "its key is not authorized (status %u)",
		    v);
	else if (r == R_AUTH)
		snprintf(buf, len, "the server refused this client's key "
		    "(status %u): put client.pub in the server's authorized/",
		    v);
	else if (m->server)
		snprintf(buf, len, "the connection ended during the "
		    "handshake (%s)", v ? strerror((int)v) : "libzmq gives "
		    "no reason; a handshake command over the socket's "
		    "message size limit is one");
	else
		snprintf(buf, len, "the server closed the connection during "
		    "the CURVE handshake (%s): a server.pub that is not the "
		    "server's public key, or a server that refuses this "
		    "client (its log says why)", v ? strerror((int)v) :
		    "no detail");
}

/* At most LOG_PER_SECOND lines a second per socket; the rest counted. */
static int
may_log(struct mon *m, char *more, size_t len)
{
	int64_t now = mono_ms() / 1000;

	more[0] = '\0';
	if (now != m->log_second) {
		m->log_second = now;
		m->log_lines = 0;
	}
	if (m->log_lines >= LOG_PER_SECOND) {
		m->log_skipped++;
		return 0;
	}
	m->log_lines++;
	if (m->log_skipped > 0)
		snprintf(more, len, " (%llu more lines not logged)",
		    (unsigned long long)m->log_skipped);
	m->log_skipped = 0;
	return 1;
}

/* ---- a client socket: one state, logged when it changes ---- */

static void
client_failed(struct mon *m, int r, uint32_t v)
{
	char text[256];

	m->n_fails++;
	if (m->state == C_FAILING && m->reason == r)
		return;
	why(m, r, v, text, sizeof(text));
	log_warnx("%s: handshake fails: %s; retried %s, counted in "
	    "bus_handshake_failures, logged again when it changes",
	    m->endpoint, text, r == R_AUTH ? "after 1 s, then up to every "
	    "30 s (bus_reconnects)" : "about every 100 ms");
	m->state = C_FAILING;
	m->reason = r;
	m->n_fails = 1;
}

static void
client_up(struct mon *m)
{
	if (m->state == C_FAILING)
		log_info("%s: handshake succeeds after %llu failed",
		    m->endpoint,
		    (unsigned long long)m->n_fails);
	else if (m->state == C_DOWN)
		log_info("%s: connected again after %.1f s", m->endpoint,
		    (double)(mono_ms() - m->down_ms) / 1000.0);
	m->state = C_UP;
	m->n_fails = 0;
}

static void
client_down(struct mon *m)
{
	atomic_fetch_add(&m->disconnects, 1);
	if (m->state != C_UP)
		return;
	log_warnx("%s: disconnected; reconnecting (logged again when "
	    "connected)", m->endpoint);
	m->state = C_DOWN;
	m->down_ms = mono_ms();
}

/* ---- a server socket: the peers it accepted, those failing ---- */

static void
peer_address(int fd, char *out, size_t len)
{
	struct sockaddr_storage ss;
	socklen_t sl = sizeof(ss);
	const void *a = NULL;

	snprintf(out, len, "an unknown address");
	if (getpeername(fd, (struct sockaddr *)&ss, &sl) == -1)
		return;
	if (ss.ss_family == AF_INET)
		a = &((struct sockaddr_in *)&ss)->sin_addr;
	else if (ss.ss_family == AF_INET6)
		a = &((struct sockaddr_in6 *)&ss)->sin6_addr;
	if (a == NULL || inet_ntop(ss.ss_family, a, out, len) == NULL) {
		snprintf(out, len, "an unknown address");
		return;
	}
	/* the bus sockets are dual-stack: an IPv4 peer as its IPv4 address */
	if (strncmp(out, "::ffff:", 7) == 0 && strchr(out + 7, ':') == NULL)
		memmove(out, out + 7, strlen(out + 7) + 1);
}

static struct peer *
peer_of(struct mon *m, int fd)
{
	size_t i;

	for (i = 0; i < PEERS_MAX; i++)
		if (m->peer[i].fd == fd)
			return &m->peer[i];
	return NULL;
}

static void
peer_accepted(struct mon *m, int fd)
{
	struct peer *p = peer_of(m, fd);

	if (p == NULL && (p = peer_of(m, -1)) == NULL)
		return; /* more than PEERS_MAX open: not named in the log */
	p->fd = fd;
	p->handshaking = 1;
	peer_address(fd, p->addr, sizeof(p->addr));
}

/* the entry of addr failing for reason r; addr "": a free one */
static struct failing *
failing_of(struct mon *m, const char *addr, int r)
{
	size_t i;

	for (i = 0; i < FAILING_MAX; i++)
		if (strcmp(m->failing[i].addr, addr) == 0 &&
		    (addr[0] == '\0' || m->failing[i].reason == r))
			return &m->failing[i];
	return NULL;
}

static void
server_failed(struct mon *m, const char *addr, int r, uint32_t v)
{
	char text[256], more[64];
	struct failing *f = failing_of(m, addr, r);
	int64_t now = mono_ms();

	if (f != NULL) {
		f->n++;
		f->last_ms = now;
		return;
	}
	if ((f = failing_of(m, "", 0)) != NULL) {
		ns_strlcpy(f->addr, addr, sizeof(f->addr));
		f->reason = r;
		f->n = 1;
		f->first_ms = f->last_ms = now;
	}
	/* the ZAP handler (zap.c) logs the keys it refuses, with the key */
	if (r == R_AUTH || !may_log(m, more, sizeof(more)))
		return;
	why(m, r, v, text, sizeof(text));
	log_warnx("%s: a client from %s fails its handshake: %s; counted in "
	    "bus_handshake_failures, logged again when it stops%s",
	    m->endpoint, addr, text, more);
}

/* Addresses that failed no handshake for FAIL_QUIET_MS: they stopped. */
static void
server_quiet(struct mon *m)
{
	int64_t now = mono_ms();
	size_t i;

	for (i = 0; i < FAILING_MAX; i++) {
		struct failing *f = &m->failing[i];

		if (f->addr[0] == '\0' || now - f->last_ms < FAIL_QUIET_MS)
			continue;
		if (f->reason != R_AUTH)
			log_info("%s: the client from %s no longer fails its "
			    "handshake (%llu failures in %.1f s, then none "
			    "for %d s)", m->endpoint, f->addr,
			    (unsigned long long)f->n,
			    (double)(f->last_ms - f->first_ms) / 1000.0,
			    FAIL_QUIET_MS / 1000);
		f->addr[0] = '\0';
	}
}

/* The handshake of the oldest connection in one is done. */
static void
server_up(struct mon *m)
{
	size_t i;

	for (i = 0; i < PEERS_MAX; i++)
		if (m->peer[i].fd != -1 && m->peer[i].handshaking) {
			m->peer[i].handshaking = 0;
			return;
		}
}

static void
server_down(struct mon *m, struct watch *w, int fd)
{
	struct peer *p = peer_of(m, fd);

	if (w->pending)
		server_failed(m, p ? p->addr : "an unknown address",
		    w->pending - 1, w->pending_value);
	else if (p != NULL && p->handshaking) {
		/* libzmq reports no failure when, say, a handshake command
		 * is over the socket's message size limit: it just closes */
		atomic_fetch_add(&m->fails[R_NO_DETAIL], 1);
		server_failed(m, p->addr, R_NO_DETAIL, 0);
	} else
		atomic_fetch_add(&m->disconnects, 1);
	if (p != NULL)
		p->fd = -1;
}

/* ---- the thread ---- */

static void
event(struct mon *m, struct watch *w, uint16_t ev, uint32_t v)
{
	int r = -1;

	switch (ev) {
	case ZMQ_EVENT_ACCEPTED:
		peer_accepted(m, (int)v);
		return;
	case ZMQ_EVENT_HANDSHAKE_SUCCEEDED:
		if (m->server)
			server_up(m);
		else
			client_up(m);
		if (w->rt != NULL)
			atomic_store(&w->rt->let_in, 1);
		return;
	case ZMQ_EVENT_DISCONNECTED:
		if (m->server)
			server_down(m, w, (int)v);
		else if (!w->pending)
			client_down(m);
		w->pending = 0;
		return;
	case ZMQ_EVENT_HANDSHAKE_FAILED_NO_DETAIL:
		r = R_NO_DETAIL;
		break;
	case ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL:
		r = R_PROTOCOL;
		break;
	case ZMQ_EVENT_HANDSHAKE_FAILED_AUTH:
		r = R_AUTH;
		break;
	default:
		return;
	}
	atomic_fetch_add(&m->fails[r], 1);
	w->pending = 1 + r;
	w->pending_value = v;
	if (!m->server)
		client_failed(m, r, v);
	/* libzmq gives this connection up: monitor_retry makes a new one */
	if (r == R_AUTH && w->rt != NULL)
		atomic_store(&w->rt->refused, 1);
}

/* One event: a frame of 6 bytes (event, value), then the endpoint. */
static int
recv_event(void *pair, uint16_t *ev, uint32_t *v)
{
	uint8_t buf[6];
	char scratch[8];
	int n, more = 0;
	size_t sz = sizeof(more);

	while ((n = zmq_recv(pair, buf, sizeof(buf), 0)) == -1 &&
	    zmq_errno() == EINTR)
		;
	if (n == -1)
		return -1;
	zmq_getsockopt(pair, ZMQ_RCVMORE, &more, &sz);
	while (more) {
		if (zmq_recv(pair, scratch, sizeof(scratch), 0) == -1 &&
		    zmq_errno() != EINTR)
			return -1;
		zmq_getsockopt(pair, ZMQ_RCVMORE, &more, &sz);
	}
	if (n < 6)
		return 0;
	memcpy(ev, buf, 2);
	memcpy(v, buf + 2, 4);
	return 1;
}

/* Ends with the socket it watches, or when its context is terminated. */
static void *
run(void *arg)
{
	struct watch *w = arg;
	struct mon *m = w->m;
	uint16_t ev = 0;
	uint32_t v = 0;
	int rc;

	for (;;) {
		zmq_pollitem_t it = { w->pair, 0, ZMQ_POLLIN, 0 };

		/* wakes each second to see which failing peers stopped */
		if (zmq_poll(&it, 1, m->server ? 1000 : -1) == -1) {
			if (zmq_errno() == EINTR)
				continue;
			break;
		}
		pthread_mutex_lock(&m->mu);
		if (m->server)
			server_quiet(m);
		pthread_mutex_unlock(&m->mu);
		if (!(it.revents & ZMQ_POLLIN))
			continue;
		if ((rc = recv_event(w->pair, &ev, &v)) < 0)
			break;
		if (rc == 0)
			continue;
		if (ev == ZMQ_EVENT_MONITOR_STOPPED)
			break;
		pthread_mutex_lock(&m->mu);
		event(m, w, ev, v);
		pthread_mutex_unlock(&m->mu);
	}
	/* the socket is closed: its owner must not reconnect it */
	if (w->rt != NULL) {
		pthread_mutex_lock(&lock);
		w->rt->sock = NULL;
		pthread_mutex_unlock(&lock);
	}
	zmq_close(w->pair);
	free(w);
	return NULL;
}

/* The entry of endpoint in this role, made on first use; NULL: full. */
static struct mon *
mon_of(const char *endpoint, int server)
{
	struct mon *m = NULL;
	size_t i;

	pthread_mutex_lock(&lock);
	for (i = 0; i < n_mons; i++)
		if (mons[i]->server == server &&
		    strcmp(mons[i]->endpoint, endpoint) == 0)
			m = mons[i];
	if (m == NULL && n_mons < MON_MAX) {
		m = xcalloc(1, sizeof(*m));
		ns_strlcpy(m->endpoint, endpoint, sizeof(m->endpoint));
		m->server = server;
		pthread_mutex_init(&m->mu, NULL);
		for (i = 0; i < PEERS_MAX; i++)
			m->peer[i].fd = -1;
		mons[n_mons++] = m;
	}
	pthread_mutex_unlock(&lock);
	return m;
}

/* A client socket (not REQ) monitor_retry may connect again; or NULL. */
static struct retry *
retry_add(void *sock, const char *endpoint)
{
	struct retry *rt = NULL;
	size_t sz = sizeof(int);
	int type = 0;
	unsigned i;

	if (zmq_getsockopt(sock, ZMQ_TYPE, &type, &sz) == -1 ||
	    type == ZMQ_REQ)
		return NULL;
	pthread_mutex_lock(&lock);
	for (i = 0; i < RETRY_MAX && rt == NULL; i++)
		if (retries[i].sock == NULL)
			rt = &retries[i];
	if (rt != NULL) {
		rt->sock = sock;
		rt->owner = pthread_self();
		rt->type = type;
		ns_strlcpy(rt->endpoint, endpoint, sizeof(rt->endpoint));
		atomic_store(&rt->refused, 0);
		atomic_store(&rt->let_in, 0);
		rt->due_ms = 0;
		rt->backoff_ms = 0;
	}
	pthread_mutex_unlock(&lock);
	if (rt == NULL)
		log_warnx("%s: not connected again after a refusal (more than "
		    "%d client sockets)", endpoint, RETRY_MAX);
	return rt;
}

static void
retry_forget(struct retry *rt)
{
	if (rt == NULL)
		return;
	pthread_mutex_lock(&lock);
	rt->sock = NULL;
	pthread_mutex_unlock(&lock);
}

/* One socket of the calling thread: refused, let in, or due. */
static void
retry_one(struct retry *rt, int64_t now)
{
	struct mon *m;

	if (atomic_exchange(&rt->let_in, 0))
		rt->backoff_ms = 0;
	if (atomic_exchange(&rt->refused, 0)) {
		rt->backoff_ms = rt->backoff_ms == 0 ? RETRY_FIRST_MS :
		    rt->backoff_ms * 2;
		if (rt->backoff_ms > RETRY_CAP_MS)
			rt->backoff_ms = RETRY_CAP_MS;
		rt->due_ms = now + rt->backoff_ms;
	}
	if (rt->due_ms == 0 || now < rt->due_ms)
		return;
	rt->due_ms = 0;
	/*
	 * the ended connection is still the endpoint's for libzmq: a SUB or
	 * PUB would take a second connect to it as done already. Its pipe
	 * is NULL there by now (socket_base_t::pipe_terminated) and its
	 * session is no longer owned, so the disconnect touches neither.
	 * The outcome, failure or success, is the monitor's to log.
	 */
	zmq_disconnect(rt->sock, rt->endpoint);
	/* a PUSH queues only to a connection past its handshake: a batch
	 * sent into one refused again would be lost; held, it waits */
	if (rt->type == ZMQ_PUSH)
		zmq_setsockopt(rt->sock, ZMQ_IMMEDIATE, &(int){ 1 },
		    sizeof(int));
	log_debug("%s: connecting again after a refusal (next wait %lld ms)",
	    rt->endpoint, (long long)rt->backoff_ms);
	if (zmq_connect(rt->sock, rt->endpoint) == -1) {
		log_warnx("connect %s again: %s", rt->endpoint,
		    zmq_strerror(zmq_errno()));
		return;
	}
	if ((m = mon_of(rt->endpoint, 0)) != NULL)
		atomic_fetch_add(&m->reconnects, 1);
}

/*
 * Connects again each client socket of the calling thread that the
 * server refused at its handshake, when its wait is over. From the
 * owner's loop, at least every second or so.
 */
void
monitor_retry(void)
{
	pthread_t self = pthread_self();
	int64_t now = mono_ms();
	unsigned i;

	for (i = 0; i < RETRY_MAX; i++) {
		struct retry *rt = &retries[i];
		int mine;

		pthread_mutex_lock(&lock);
		mine = rt->sock != NULL && pthread_equal(rt->owner, self);
		pthread_mutex_unlock(&lock);
		if (mine)
			retry_one(rt, now);
	}
}

/*
 * Before sock binds or connects (so no event is missed). A socket that
 * cannot be watched works as before; the log says it is not watched.
 */
void
monitor_start(void *sock, const char *endpoint, int server)
{
	int events = ZMQ_EVENT_ACCEPTED | ZMQ_EVENT_DISCONNECTED |
	    ZMQ_EVENT_HANDSHAKE_SUCCEEDED |
	    ZMQ_EVENT_HANDSHAKE_FAILED_NO_DETAIL |
	    ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL |
	    ZMQ_EVENT_HANDSHAKE_FAILED_AUTH | ZMQ_EVENT_MONITOR_STOPPED;
	struct watch *w;
	char addr[64];
	pthread_t t;
	void *ctx;

	if (!enabled || (ctx = bus_socket_ctx(sock)) == NULL)
		return;
	w = xcalloc(1, sizeof(*w));
	if ((w->m = mon_of(endpoint, server)) == NULL) {
		log_warnx("%s: not monitored (more than %d tcp:// endpoints)",
		    endpoint, MON_MAX);
		free(w);
		return;
	}
	pthread_mutex_lock(&lock);
	snprintf(addr, sizeof(addr), "inproc://netstreamd.monitor.%u", seq++);
	pthread_mutex_unlock(&lock);
	if (zmq_socket_monitor(sock, addr, events) == -1 ||
	    (w->pair = zmq_socket(ctx, ZMQ_PAIR)) == NULL ||
	    zmq_setsockopt(w->pair, ZMQ_LINGER, &(int){ 0 }, sizeof(int)) ==
	    -1 || zmq_connect(w->pair, addr) == -1)
		goto fail;
	if (!server)
		w->rt = retry_add(sock, endpoint);
	/* the PAIR socket is the thread's from here on (create: a barrier) */
	if (pthread_create(&t, NULL, run, w) != 0) {
		retry_forget(w->rt);
		w->rt = NULL;
		goto fail;
	}
	pthread_detach(t);
	return;
fail:
	log_warnx("%s: not monitored: %s", endpoint, zmq_strerror(zmq_errno()));
	if (w->pair != NULL)
		zmq_close(w->pair);
	zmq_socket_monitor(sock, NULL, 0);
	free(w);
}

/* The counters of every monitored socket, each reason even at 0. */
void
monitor_stats(Netstream__Stats *s)
{
	size_t i, n;
	int r;

	pthread_mutex_lock(&lock);
	n = n_mons;
	pthread_mutex_unlock(&lock);
	for (i = 0; i < n; i++) {
		struct mon *m = mons[i];

		for (r = 0; r < R_MAX; r++)
			stats_add(s, "bus_handshake_failures",
			    atomic_load(&m->fails[r]), "endpoint", m->endpoint,
			    "reason", reason_names[r]);
		stats_add(s, "bus_disconnects", atomic_load(&m->disconnects),
		    "endpoint", m->endpoint, NULL, NULL);
		if (!m->server)
			stats_add(s, "bus_reconnects",
			    atomic_load(&m->reconnects), "endpoint",
			    m->endpoint, NULL, NULL);
	}
}
