/*
 * bus.c: endpoints and checked messaging over ZeroMQ. Every message is one
 * protobuf Envelope (after an optional topic frame); what does not fit the
 * size limit, does not decode or has the wrong version is refused here so no
 * handler ever sees it.
 */
#include <errno.h>
#include <pthread.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zmq.h>

#include "bus.h"
#include "curve.h"
#include "log.h"
#include "monitor.h"
#include "util.h"

const char *
bus_run_dir(const char *flag)
{
	const char *env;

	if (flag != NULL && flag[0] != '\0')
		return flag;
	if ((env = getenv("NETSTREAMD_RUN_DIR")) != NULL && env[0] != '\0')
		return env;
	return DEFAULT_RUN_DIR;
}

static void
endpoint(char *dst, size_t len, const char *run_dir, const char *name,
    const char *envname)
{
	const char *env = getenv(envname);

	if (env != NULL && env[0] != '\0')
		ns_strlcpy(dst, env, len);
	else
		snprintf(dst, len, "ipc://%s/%s", run_dir, name);
}

const struct bus_endpoint_name bus_endpoint_names[BUS_N_ENDPOINTS] = {
	{ "control", "control", "NETSTREAMD_CONTROL_ENDPOINT",
	    offsetof(struct bus_endpoints, control) },
	{ "plan", "plan", "NETSTREAMD_PLAN_ENDPOINT",
	    offsetof(struct bus_endpoints, plan) },
	{ "flows", "flows", "NETSTREAMD_FLOWS_ENDPOINT",
	    offsetof(struct bus_endpoints, flows) },
	{ "acks", "acks", "NETSTREAMD_ACKS_ENDPOINT",
	    offsetof(struct bus_endpoints, acks) },
	{ "stats_in", "stats-in", "NETSTREAMD_STATS_IN_ENDPOINT",
	    offsetof(struct bus_endpoints, stats_in) },
	{ "stats", "stats", "NETSTREAMD_STATS_ENDPOINT",
	    offsetof(struct bus_endpoints, stats) },
};

/* ipc endpoints under RUN_DIR; NETSTREAMD_<NAME>_ENDPOINT overrides each. */
void
bus_endpoints_init(struct bus_endpoints *ep, const char *run_dir)
{
	size_t i;

	memset(ep, 0, sizeof(*ep));
	ns_strlcpy(ep->run_dir, run_dir, sizeof(ep->run_dir));
	for (i = 0; i < BUS_N_ENDPOINTS; i++) {
		const struct bus_endpoint_name *n = &bus_endpoint_names[i];

		endpoint((char *)ep + n->off, BUS_ENDPOINT_MAX, run_dir,
		    n->file, n->env);
	}
}

/*
 * The query socket of sampled --slot N (REP): ipc://RUN_DIR/slot-N, or
 * NETSTREAMD_SLOT_N_ENDPOINT (the slot's endpoint in the config) when a
 * slot runs on another host.
 */
void
bus_slot_endpoint(const struct bus_endpoints *ep, unsigned slot, char *buf,
    size_t len)
{
	char name[32], envname[64];

	snprintf(name, sizeof(name), "slot-%u", slot);
	snprintf(envname, sizeof(envname), "NETSTREAMD_SLOT_%u_ENDPOINT", slot);
	endpoint(buf, len, ep->run_dir, name, envname);
}

/*
 * RUN_DIR holds the sockets every process trusts: whoever can write in it
 * can bind `control` or `plan` in place of cfgd. So it must be a real
 * directory (lstat: a symlink is refused), owned by the user running us,
 * closed to group and others. An existing one that fails is refused, not
 * repaired: its sockets may already be someone else's.
 */
/*
 * A second owner the checks below accept, besides this user: nsctl run by
 * root or an operator trusts a group that systemd runs as the netstreamd
 * system user (the owner of its run directory and sockets). Only nsctl
 * sets it; the daemons accept only themselves.
 */
static uid_t trusted_uid = (uid_t)-1;

void
bus_trust_uid(uid_t uid)
{
	trusted_uid = uid;
}

static int
owner_ok(uid_t uid)
{
	return uid == geteuid() || (trusted_uid != (uid_t)-1 &&
	    uid == trusted_uid);
}

int
bus_check_run_dir(const char *dir, char *errbuf, size_t errlen)
{
	struct stat st;

	if (lstat(dir, &st) == -1) {
		snprintf(errbuf, errlen, "%s: %s", dir, strerror(errno));
		return -1;
	}
	if (S_ISLNK(st.st_mode)) {
		snprintf(errbuf, errlen, "%s: a symbolic link, refused as the "
		    "run directory; use the real path, or remove the link",
		    dir);
		return -1;
	}
	if (!S_ISDIR(st.st_mode)) {
		snprintf(errbuf, errlen, "%s: not a directory", dir);
		return -1;
	}
	if (!owner_ok(st.st_uid)) {
		snprintf(errbuf, errlen, "%s: owned by uid %u, not by this "
		    "user (uid %u): refused as the run directory (whoever owns "
		    "it can answer in cfgd's place); remove it, or chown %u it "
		    "and chmod 700 it",
		    dir, (unsigned)st.st_uid, (unsigned)geteuid(),
		    (unsigned)geteuid());
		return -1;
	}
	if ((st.st_mode & 077) != 0) {
		snprintf(errbuf, errlen, "%s: open to group or others (mode "
		    "%04o): refused as the run directory; chmod 700 it",
		    dir, (unsigned)(st.st_mode & 07777));
		return -1;
	}
	return 0;
}

/*
 * An ipc socket path, before we bind or connect: absent, or a socket
 * owned by this user. Anything else was put there by someone else.
 */
int
bus_check_ipc(const char *endpoint, char *errbuf, size_t errlen)
{
	const char *path;
	struct stat st;

	if (strncmp(endpoint, "ipc://", 6) != 0)
		return 0;
	path = endpoint + 6;
	if (lstat(path, &st) == -1)
		return 0;
	if (!S_ISSOCK(st.st_mode)) {
		snprintf(errbuf, errlen, "%s: exists and is not a socket: "
		    "refused; remove it", path);
		return -1;
	}
	if (!owner_ok(st.st_uid)) {
		snprintf(errbuf, errlen, "%s: a socket owned by uid %u, not by "
		    "this user (uid %u): refused (another user's process "
		    "answers there); remove it and check who can write in its "
		    "directory", path, (unsigned)st.st_uid,
		    (unsigned)geteuid());
		return -1;
	}
	return 0;
}

int
bus_prepare_run_dir(const struct bus_endpoints *ep, char *errbuf,
    size_t errlen)
{
	struct stat st;
	size_t i;

	/* an existing one is checked before anything touches it */
	if (lstat(ep->run_dir, &st) == -1 &&
	    mkdir_private(ep->run_dir, errbuf, errlen) == -1)
		return -1;
	if (bus_check_run_dir(ep->run_dir, errbuf, errlen) == -1)
		return -1;
	for (i = 0; i < BUS_N_ENDPOINTS; i++)
		if (bus_check_ipc((const char *)ep + bus_endpoint_names[i].off,
		    errbuf, errlen) == -1)
			return -1;
	return 0;
}

/*
 * libzmq does not say which context a socket belongs to; the ZAP handler
 * (curve.c) must live in the context of the server socket and a monitor
 * (monitor.c) in the context of the socket it watches, so bus_socket()
 * notes each pair here. The oldest entry gives way: a socket is bound or
 * connected right after it is made, long before 64 others are.
 */
#define SOCK_TABLE 64
static struct {
	void *sock, *ctx;
} socks[SOCK_TABLE];
static unsigned socks_next;
static pthread_mutex_t socks_lock = PTHREAD_MUTEX_INITIALIZER;

static void
note_socket(void *ctx, void *sock)
{
	unsigned i;

	pthread_mutex_lock(&socks_lock);
	for (i = 0; i < SOCK_TABLE; i++)
		if (socks[i].sock == sock)
			break;
	if (i == SOCK_TABLE)
		i = socks_next++ % SOCK_TABLE;
	socks[i].sock = sock;
	socks[i].ctx = ctx;
	pthread_mutex_unlock(&socks_lock);
}

/* The context bus_socket() made sock in; NULL when it is not known. */
void *
bus_socket_ctx(void *sock)
{
	void *ctx = NULL;
	unsigned i;

	pthread_mutex_lock(&socks_lock);
	for (i = 0; i < SOCK_TABLE; i++)
		if (socks[i].sock == sock)
			ctx = socks[i].ctx;
	pthread_mutex_unlock(&socks_lock);
	return ctx;
}

void *
bus_socket(void *ctx, int type, size_t maxmsg)
{
	void *s = zmq_socket(ctx, type);
	int linger = 0, hwm;
	int64_t max = (int64_t)maxmsg;

	if (s == NULL)
		fatalx("zmq_socket: %s", zmq_strerror(zmq_errno()));
	note_socket(ctx, s);
	/* tcp:// endpoints may be IPv6 addresses (and IPv4 still works) */
	zmq_setsockopt(s, ZMQ_IPV6, &(int){ 1 }, sizeof(int));
	if (maxmsg > 0 && type != ZMQ_PUSH && type != ZMQ_PUB)
		zmq_setsockopt(s, ZMQ_MAXMSGSIZE, &max, sizeof(max));
	/* flow batches must not be dropped on close; the rest may */
	if (type != ZMQ_PUSH)
		zmq_setsockopt(s, ZMQ_LINGER, &linger, sizeof(linger));
	else {
		linger = 5000;
		zmq_setsockopt(s, ZMQ_LINGER, &linger, sizeof(linger));
	}
	if (type == ZMQ_PUSH || type == ZMQ_PULL) {
		hwm = 10000;
		zmq_setsockopt(s, ZMQ_SNDHWM, &hwm, sizeof(hwm));
		zmq_setsockopt(s, ZMQ_RCVHWM, &hwm, sizeof(hwm));
	}
	return s;
}

/* tcp:// is CURVE or nothing: without usable keys the process stops */
int
bus_bind(void *sock, const char *ep)
{
	char err[1024];

	if (strncmp(ep, "tcp://", 6) == 0 &&
	    curve_apply(sock, CURVE_SERVER, err, sizeof(err)) == -1)
		fatalx("%s: %s", ep, err);
	if (strncmp(ep, "tcp://", 6) == 0)
		monitor_start(sock, ep, 1);
	if (zmq_bind(sock, ep) == -1) {
		log_warnx("bind %s: %s", ep, zmq_strerror(zmq_errno()));
		return -1;
	}
	return 0;
}

int
bus_connect(void *sock, const char *ep)
{
	char err[1024];

	if (strncmp(ep, "tcp://", 6) == 0 &&
	    curve_apply(sock, CURVE_CLIENT, err, sizeof(err)) == -1)
		fatalx("%s: %s", ep, err);
	if (strncmp(ep, "tcp://", 6) == 0)
		monitor_start(sock, ep, 0);
	if (zmq_connect(sock, ep) == -1) {
		log_warnx("connect %s: %s", ep, zmq_strerror(zmq_errno()));
		return -1;
	}
	return 0;
}

/* To the query socket of a slot, which its own host binds with its key. */
int
bus_connect_slot(void *sock, const char *ep, unsigned slot)
{
	char err[1024];

	if (strncmp(ep, "tcp://", 6) == 0 &&
	    curve_apply_slot(sock, slot, err, sizeof(err)) == -1) {
		log_warnx("%s: %s", ep, err);
		return -1;
	}
	if (zmq_connect(sock, ep) == -1) {
		log_warnx("connect %s: %s", ep, zmq_strerror(zmq_errno()));
		return -1;
	}
	return 0;
}

/* The Envelope's bytes, in a buffer the caller frees. */
uint8_t *
bus_pack(Netstream__Envelope *env, size_t *len)
{
	uint8_t *buf;

	env->proto_version = PROTO_VERSION;
	*len = netstream__envelope__get_packed_size(env);
	buf = xmalloc(*len ? *len : 1);
	netstream__envelope__pack(env, buf);
	return buf;
}

int
bus_send(void *sock, const char *topic, Netstream__Envelope *env, int flags)
{
	size_t len;
	uint8_t *buf;
	int rc;

	buf = bus_pack(env, &len);
	if (topic != NULL &&
	    zmq_send(sock, topic, strlen(topic), ZMQ_SNDMORE | flags) == -1) {
		free(buf);
		return -1;
	}
	rc = zmq_send(sock, buf, len, flags);
	free(buf);
	return rc == -1 ? -1 : 0;
}

/* Discards the rest of a multipart message. */
static void
drain(void *sock)
{
	int more = 0;
	size_t sz = sizeof(more);
	zmq_msg_t m;

	for (;;) {
		if (zmq_getsockopt(sock, ZMQ_RCVMORE, &more, &sz) == -1 || !more)
			return;
		zmq_msg_init(&m);
		zmq_msg_recv(&m, sock, 0);
		zmq_msg_close(&m);
	}
}

/*
 * The checks of one Envelope's bytes, apart from the socket so the fuzz
 * target (tests/fuzz/fuzz_envelope.c) runs exactly what every process runs.
 * *out is set only on BUS_OK; the caller frees it with bus_free().
 */
enum bus_err
bus_check(const uint8_t *p, size_t len, size_t limit,
    Netstream__Envelope **out)
{
	Netstream__Envelope *env;

	*out = NULL;
	if (len > limit)
		return BUS_TOO_BIG;
	env = netstream__envelope__unpack(NULL, len, p);
	if (env == NULL)
		return BUS_DECODE;
	if (env->proto_version != PROTO_VERSION) {
		netstream__envelope__free_unpacked(env, NULL);
		return BUS_VERSION;
	}
	if (env->msg_case == NETSTREAM__ENVELOPE__MSG__NOT_SET) {
		netstream__envelope__free_unpacked(env, NULL);
		return BUS_EMPTY;
	}
	*out = env;
	return BUS_OK;
}

enum bus_err
bus_recv(void *sock, size_t limit, int has_topic, int flags,
    Netstream__Envelope **out)
{
	enum bus_err e;
	zmq_msg_t m;
	int more = 0;
	size_t sz = sizeof(more);

	*out = NULL;
	zmq_msg_init(&m);
	if (zmq_msg_recv(&m, sock, flags) == -1) {
		zmq_msg_close(&m);
		return BUS_AGAIN;
	}
	if (has_topic) {
		zmq_getsockopt(sock, ZMQ_RCVMORE, &more, &sz);
		zmq_msg_close(&m);
		if (!more)
			return BUS_FRAMES;
		zmq_msg_init(&m);
		if (zmq_msg_recv(&m, sock, 0) == -1) {
			zmq_msg_close(&m);
			return BUS_FRAMES;
		}
	}
	zmq_getsockopt(sock, ZMQ_RCVMORE, &more, &sz);
	if (more) {
		zmq_msg_close(&m);
		drain(sock);
		return BUS_FRAMES;
	}
	e = bus_check(zmq_msg_data(&m), zmq_msg_size(&m), limit, out);
	zmq_msg_close(&m);
	return e;
}

const char *
bus_err_name(enum bus_err e)
{
	static const char *names[BUS_ERR_MAX] = {
		"ok", "again", "too-big", "decode", "version", "empty",
		"frames",
	};

	return (unsigned)e < BUS_ERR_MAX ? names[e] : "unknown";
}

void
bus_free(Netstream__Envelope *env)
{
	if (env != NULL)
		netstream__envelope__free_unpacked(env, NULL);
}
