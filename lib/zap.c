/*
 * zap.c: the ZAP handler (RFC 27) of a context with a CURVE server socket:
 * a REP socket on inproc://zeromq.zap.01, answered by a thread. It lets in
 * the public keys of the .pub files in CURVE_DIR/authorized, read again
 * when that directory changes, and counts every other client. A refused
 * key is logged when it starts failing and when it stops (let in, or no
 * try for KEY_QUIET_MS), never per retry: a client retries for as long as
 * it runs (lib/monitor.c: after 1 s, doubling up to 30 s).
 *
 * The thread ends when its context is terminated (ETERM), so the processes
 * close and terminate their contexts as before. It never ends otherwise:
 * without a handler libzmq would let any CURVE client in, so an error it
 * cannot go on from is fatal.
 */
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <zmq.h>

#include "curve.h"
#include "log.h"
#include "util.h"

#define ZAP_ENDPOINT "inproc://zeromq.zap.01"
#define ZAP_FRAMES 7	   /* a CURVE request has exactly 7 */
#define ZAP_FRAME_MAX 256  /* longer frames are truncated (and refused) */
#define MAX_AUTHORIZED 4096
#define LOG_PER_SECOND 5   /* a client retrying in a loop must not flood */
#define KEYS_FAILING 64	   /* refused keys remembered, each logged once */
/* a refused key not tried for this long stopped (> the 30 s retry cap) */
#define KEY_QUIET_MS 90000

/* the frames of a request, RFC 27 */
enum { F_VERSION, F_ID, F_DOMAIN, F_ADDRESS, F_IDENTITY, F_MECHANISM, F_KEY };

struct zap_req {
	char f[ZAP_FRAMES][ZAP_FRAME_MAX];
	size_t len[ZAP_FRAMES]; /* as sent; above ZAP_FRAME_MAX: truncated */
	int n;
	int extra; /* more frames than a request has */
};

struct zap {
	void *sock;
	char dir[PATH_MAX];	/* CURVE_DIR/authorized */
	struct timespec mtime;	/* of dir when the keys were read */
	int failing;		/* dir unreadable: everybody is refused */
	uint8_t (*keys)[CURVE_KEY_LEN];
	size_t n_keys;
};

/* a refused key: logged when it begins failing, and when it stops */
struct key_failing {
	uint8_t key[CURVE_KEY_LEN];
	int used;
	uint64_t n;
	int64_t first_ms, last_ms; /* mono */
};

static atomic_uint_fast64_t refused;
/* the handler thread's only (one per context, the daemons have one) */
static struct key_failing key_failing[KEYS_FAILING];
static pthread_mutex_t log_lock = PTHREAD_MUTEX_INITIALIZER;
static int64_t log_second;
static unsigned log_lines;
static uint64_t log_skipped;

uint64_t
zap_refused(void)
{
	return atomic_load(&refused);
}

static int
pub_name(const char *name)
{
	size_t len = strlen(name);

	return name[0] != '.' && len > 4 && strcmp(name + len - 4, ".pub") == 0;
}

static void
add_key(struct zap *z, uint8_t (**keys)[CURVE_KEY_LEN], size_t *n,
    size_t *cap, const char *name)
{
	char path[PATH_MAX], why[PATH_MAX + 128], z85[CURVE_Z85_LEN + 1];

	if (snprintf(path, sizeof(path), "%s/%s", z->dir, name) >=
	    (int)sizeof(path))
		return;
	if (curve_read_key(path, 0, z85, why, sizeof(why)) == -1) {
		log_warnx("%s; ignored", why);
		return;
	}
	if (*n == *cap) {
		*cap = *cap ? *cap * 2 : 16;
		*keys = xrealloc(*keys, *cap * sizeof(**keys));
	}
	zmq_z85_decode((*keys)[(*n)++], z85);
}

/* Reads every .pub file of authorized/; keys are replaced only on success. */
static int
load_keys(struct zap *z, char *errbuf, size_t errlen)
{
	uint8_t (*keys)[CURVE_KEY_LEN] = NULL;
	size_t n = 0, cap = 0;
	struct dirent *e;
	struct stat st;
	DIR *d;

	if (stat(z->dir, &st) == -1 || (d = opendir(z->dir)) == NULL) {
		snprintf(errbuf, errlen, "%s: %s", z->dir, strerror(errno));
		return -1;
	}
	if ((st.st_mode & 022) != 0) {
		closedir(d);
		snprintf(errbuf, errlen,
		    "%s: writable by group or others, so anyone could "
		    "authorize a key: chmod go-w it",
		    z->dir);
		return -1;
	}
	while ((e = readdir(d)) != NULL) {
		if (!pub_name(e->d_name))
			continue;
		if (n == MAX_AUTHORIZED) {
			log_warnx("%s: more than %d keys; the rest are ignored",
			    z->dir, MAX_AUTHORIZED);
			break;
		}
		add_key(z, &keys, &n, &cap, e->d_name);
	}
	closedir(d);
	free(z->keys);
	z->keys = keys;
	z->n_keys = n;
	z->mtime = st.st_mtim;
	return 0;
}

/* Keys added to or removed from authorized/ count from the next client. */
static void
refresh(struct zap *z)
{
	char err[PATH_MAX + 128];
	struct stat st;

	if (stat(z->dir, &st) == 0 && !z->failing &&
	    st.st_mtim.tv_sec == z->mtime.tv_sec &&
	    st.st_mtim.tv_nsec == z->mtime.tv_nsec)
		return;
	if (load_keys(z, err, sizeof(err)) == 0) {
		z->failing = 0;
		log_info("%s changed: %zu authorized CURVE client keys",
		    z->dir, z->n_keys);
		return;
	}
	if (!z->failing)
		log_warnx("%s; every CURVE client is refused", err);
	z->failing = 1;
	free(z->keys);
	z->keys = NULL;
	z->n_keys = 0;
}

static int
authorized(const struct zap *z, const uint8_t *key)
{
	size_t i;

	for (i = 0; i < z->n_keys; i++)
		if (memcmp(z->keys[i], key, CURVE_KEY_LEN) == 0)
			return 1;
	return 0;
}

static int
frame_is(const struct zap_req *r, int i, const char *s)
{
	return i < r->n && r->len[i] == strlen(s) &&
	    memcmp(r->f[i], s, r->len[i]) == 0;
}

/* A frame as printable text, for the log. */
static void
frame_text(const struct zap_req *r, int i, char *buf, size_t len)
{
	size_t j, n = 0;

	if (i < r->n)
		for (j = 0; j < r->len[i] && j < ZAP_FRAME_MAX && n + 1 < len;
		    j++)
			buf[n++] = r->f[i][j] >= 0x20 && r->f[i][j] < 0x7f ?
			    r->f[i][j] : '?';
	buf[n] = '\0';
}

/* At most LOG_PER_SECOND lines a second; the others are counted. */
static void
log_refusal(const struct zap_req *r, const char *who, const char *why)
{
	char addr[64], more[64] = "";
	int64_t now = mono_ms() / 1000; /* a step of the wall clock is no second */
	uint64_t skipped = 0;
	int show;

	pthread_mutex_lock(&log_lock);
	if (now != log_second) {
		log_second = now;
		log_lines = 0;
	}
	if ((show = log_lines < LOG_PER_SECOND)) {
		log_lines++;
		skipped = log_skipped;
		log_skipped = 0;
	} else
		log_skipped++;
	pthread_mutex_unlock(&log_lock);
	if (!show)
		return;
	frame_text(r, F_ADDRESS, addr, sizeof(addr));
	/* the bus sockets are dual-stack: an IPv4 peer as its IPv4 address */
	if (strncmp(addr, "::ffff:", 7) == 0 && strchr(addr + 7, ':') == NULL)
		memmove(addr, addr + 7, strlen(addr + 7) + 1);
	if (skipped > 0)
		snprintf(more, sizeof(more), " (%llu more not logged)",
		    (unsigned long long)skipped);
	log_warnx("refused %s from %s: %s%s", who, addr, why, more);
}

static struct key_failing *
key_failing_of(const uint8_t *key)
{
	size_t i;

	for (i = 0; i < KEYS_FAILING; i++)
		if (key_failing[i].used &&
		    memcmp(key_failing[i].key, key, CURVE_KEY_LEN) == 0)
			return &key_failing[i];
	return NULL;
}

/* Once per key while it fails; a key beyond KEYS_FAILING as before. */
static void
key_refused(const struct zap_req *r, const char *who)
{
	const uint8_t *key = (const uint8_t *)r->f[F_KEY];
	struct key_failing *k = key_failing_of(key);
	int64_t now = mono_ms();
	size_t i;

	if (k != NULL) {
		k->n++;
		k->last_ms = now;
		return;
	}
	for (i = 0; i < KEYS_FAILING && k == NULL; i++)
		if (!key_failing[i].used)
			k = &key_failing[i];
	if (k == NULL) {
		log_refusal(r, who, "its key is not in authorized/");
		return;
	}
	memcpy(k->key, key, CURVE_KEY_LEN);
	k->used = 1;
	k->n = 1;
	k->first_ms = k->last_ms = now;
	log_refusal(r, who, "its key is not in authorized/ (counted in "
	    "curve_refused; logged again when it is let in or stops "
	    "trying)");
}

static void
key_let_in(const uint8_t *key, const char *who)
{
	struct key_failing *k = key_failing_of(key);

	if (k == NULL)
		return;
	log_info("%s let in after %llu refusals in %.1f s", who,
	    (unsigned long long)k->n,
	    (double)(mono_ms() - k->first_ms) / 1000.0);
	k->used = 0;
}

/* Refused keys that did not try for KEY_QUIET_MS: they stopped. */
static void
keys_quiet(void)
{
	char z85[CURVE_Z85_LEN + 1];
	int64_t now = mono_ms();
	size_t i;

	for (i = 0; i < KEYS_FAILING; i++) {
		struct key_failing *k = &key_failing[i];

		if (!k->used || now - k->last_ms < KEY_QUIET_MS)
			continue;
		zmq_z85_encode(z85, k->key, CURVE_KEY_LEN);
		log_info("CURVE client %.8s no longer tries (%llu refusals in "
		    "%.1f s, then none for %d s)", z85,
		    (unsigned long long)k->n,
		    (double)(k->last_ms - k->first_ms) / 1000.0,
		    KEY_QUIET_MS / 1000);
		k->used = 0;
	}
}

/* "200" or "400"; NULL requests come from ipc:// sockets of the context. */
static const char *
decide(struct zap *z, const struct zap_req *r)
{
	char z85[CURVE_Z85_LEN + 1], who[64], mech[32];

	if (!frame_is(r, F_VERSION, "1.0") || r->extra ||
	    r->n < F_MECHANISM + 1) {
		atomic_fetch_add(&refused, 1);
		log_refusal(r, "a client", "malformed ZAP request");
		return "400";
	}
	if (frame_is(r, F_MECHANISM, "NULL") && r->len[F_DOMAIN] == 0 &&
	    r->n == F_MECHANISM + 1)
		return "200";
	if (!frame_is(r, F_MECHANISM, "CURVE") || r->n != F_KEY + 1 ||
	    r->len[F_KEY] != CURVE_KEY_LEN) {
		atomic_fetch_add(&refused, 1);
		frame_text(r, F_MECHANISM, mech, sizeof(mech));
		snprintf(who, sizeof(who), "a %s client", mech);
		log_refusal(r, who, "only CURVE clients are let in");
		return "400";
	}
	refresh(z);
	zmq_z85_encode(z85, (const uint8_t *)r->f[F_KEY], CURVE_KEY_LEN);
	snprintf(who, sizeof(who), "CURVE client %.8s", z85);
	if (authorized(z, (const uint8_t *)r->f[F_KEY])) {
		key_let_in((const uint8_t *)r->f[F_KEY], who);
		return "200";
	}
	atomic_fetch_add(&refused, 1);
	key_refused(r, who);
	return "400";
}

static int
recv_frame(void *sock, void *buf, size_t len, int *more)
{
	size_t sz = sizeof(*more);
	int rc;

	while ((rc = zmq_recv(sock, buf, len, 0)) == -1 && zmq_errno() == EINTR)
		;
	if (rc == -1 || zmq_getsockopt(sock, ZMQ_RCVMORE, more, &sz) == -1)
		return -1;
	return rc;
}

static int
recv_request(void *sock, struct zap_req *r)
{
	char scratch[16];
	int more = 1, rc;

	r->n = 0;
	r->extra = 0;
	while (more) {
		if (r->n == ZAP_FRAMES) {
			if (recv_frame(sock, scratch, sizeof(scratch), &more) ==
			    -1)
				return -1;
			r->extra = 1;
			continue;
		}
		if ((rc = recv_frame(sock, r->f[r->n], ZAP_FRAME_MAX, &more)) ==
		    -1)
			return -1;
		r->len[r->n++] = (size_t)rc;
	}
	return 0;
}

/* version, request id, status code and text, user id, metadata */
static void
send_reply(void *sock, const struct zap_req *r, const char *code)
{
	size_t idlen = r->n > F_ID ? r->len[F_ID] : 0;

	if (idlen > ZAP_FRAME_MAX)
		idlen = ZAP_FRAME_MAX;
	zmq_send(sock, "1.0", 3, ZMQ_SNDMORE);
	zmq_send(sock, r->f[F_ID], idlen, ZMQ_SNDMORE);
	zmq_send(sock, code, 3, ZMQ_SNDMORE);
	zmq_send(sock, code[0] == '2' ? "OK" : "refused",
	    code[0] == '2' ? 2 : 7, ZMQ_SNDMORE);
	zmq_send(sock, "", 0, ZMQ_SNDMORE);
	zmq_send(sock, "", 0, 0);
}

static void *
zap_main(void *arg)
{
	struct zap *z = arg;
	struct zap_req r;

	for (;;) {
		zmq_pollitem_t it = { z->sock, 0, ZMQ_POLLIN, 0 };

		/* wakes each second to see which refused keys stopped */
		if (zmq_poll(&it, 1, 1000) == -1 && zmq_errno() == ETERM)
			break;
		keys_quiet();
		if (!(it.revents & ZMQ_POLLIN))
			continue;
		if (recv_request(z->sock, &r) == -1) {
			if (zmq_errno() == ETERM)
				break;
			fatalx("ZAP handler: %s", zmq_strerror(zmq_errno()));
		}
		send_reply(z->sock, &r, decide(z, &r));
	}
	zmq_close(z->sock);
	free(z->keys);
	free(z);
	return NULL;
}

static int
start_thread(struct zap *z, char *errbuf, size_t errlen)
{
	pthread_attr_t attr;
	sigset_t all, old;
	pthread_t t;
	int rc;

	/* signals stay with the process's own threads and their flags */
	sigfillset(&all);
	pthread_attr_init(&attr);
	pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	rc = pthread_create(&t, &attr, zap_main, z);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	pthread_attr_destroy(&attr);
	if (rc != 0)
		snprintf(errbuf, errlen, "ZAP handler thread: %s",
		    strerror(rc));
	return rc == 0 ? 0 : -1;
}

/*
 * Starts the handler of ctx, once: a second call finds the endpoint bound.
 * The keys are read before the bind, so a failure leaves no handler that
 * the first server socket would rely on.
 */
int
zap_start(void *ctx, const char *dir, char *errbuf, size_t errlen)
{
	struct zap *z = xcalloc(1, sizeof(*z));
	int linger = 0, rc = -1;

	if (snprintf(z->dir, sizeof(z->dir), "%s/%s", dir, CURVE_AUTHORIZED) >=
	    (int)sizeof(z->dir)) {
		snprintf(errbuf, errlen, "%s: name too long", dir);
		goto fail;
	}
	if (load_keys(z, errbuf, errlen) == -1)
		goto fail;
	if ((z->sock = zmq_socket(ctx, ZMQ_REP)) == NULL) {
		snprintf(errbuf, errlen, "ZAP socket: %s",
		    zmq_strerror(zmq_errno()));
		goto fail;
	}
	zmq_setsockopt(z->sock, ZMQ_LINGER, &linger, sizeof(linger));
	if (zmq_bind(z->sock, ZAP_ENDPOINT) == -1) {
		if (zmq_errno() == EADDRINUSE)
			rc = 0;
		else
			snprintf(errbuf, errlen, "%s: %s", ZAP_ENDPOINT,
			    zmq_strerror(zmq_errno()));
		goto fail;
	}
	if (z->n_keys == 0)
		log_warnx("%s: no keys: every CURVE client is refused", z->dir);
	else
		log_info("%zu authorized CURVE client keys in %s", z->n_keys,
		    z->dir);
	/* z is the thread's from here on */
	if (start_thread(z, errbuf, errlen) == -1)
		goto fail;
	return 0;
fail:
	if (z->sock != NULL)
		zmq_close(z->sock);
	free(z->keys);
	free(z);
	return rc;
}
