/*
 * curve.c: CURVE for tcp:// bus endpoints. A socket bound on tcp:// becomes
 * a CURVE server with this host's server key and the ZAP handler of zap.c;
 * a socket connecting to tcp:// a CURVE client with the host's client
 * keypair, expecting the public key of the host that binds (each host has
 * keys of its own, docs/multihost.md). The keys are the files `nsctl
 * keygen` makes in the CURVE directory. ipc:// endpoints are left as they are (the run dir is 0700).
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zmq.h>

#include "bus.h"
#include "curve.h"
#include "util.h"

#define KEY_FILE_MAX 128 /* a key, a newline and some slack */

static const char z85_alphabet[] = "0123456789abcdefghijklmnopqrstuvwxyz"
				   "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
				   ".-:+=^!/*?&<>()[]{}@%$#";

/* NETSTREAMD_CURVE_DIR (which cfgd and nsctl set from the file's curve_dir) */
const char *
curve_dir(void)
{
	const char *env = getenv("NETSTREAMD_CURVE_DIR");

	return env != NULL && env[0] != '\0' ? env : CURVE_DEFAULT_DIR;
}

/*
 * A key file holds 40 characters of Z85 and maybe a newline; z85 gets them
 * NUL-terminated, as ZMQ_CURVE_*KEY takes them.
 */
int
curve_parse_key(const char *text, size_t len, char z85[CURVE_Z85_LEN + 1])
{
	uint8_t bin[CURVE_KEY_LEN];
	size_t i;

	while (len > 0 && (text[len - 1] == '\n' || text[len - 1] == '\r' ||
	    text[len - 1] == ' ' || text[len - 1] == '\t'))
		len--;
	if (len != CURVE_Z85_LEN)
		return -1;
	for (i = 0; i < len; i++)
		if (text[i] == '\0' || strchr(z85_alphabet, text[i]) == NULL)
			return -1;
	memcpy(z85, text, len);
	z85[len] = '\0';
	/* five characters may still stand for more than 32 bits */
	if (zmq_z85_decode(bin, z85) == NULL)
		return -1;
	return 0;
}

/*
 * Reads one key file. A secret key open to group or others is refused, as
 * ssh refuses such a private key.
 */
int
curve_read_key(const char *path, int secret, char z85[CURVE_Z85_LEN + 1],
    char *errbuf, size_t errlen)
{
	char buf[KEY_FILE_MAX];
	struct stat st;
	ssize_t n;
	int fd, rc = -1;

	/* O_NONBLOCK: a FIFO in place of a key must not hang the process */
	if ((fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK)) == -1) {
		snprintf(errbuf, errlen, "%s: %s", path, strerror(errno));
		return -1;
	}
	if (fstat(fd, &st) == -1 || !S_ISREG(st.st_mode)) {
		snprintf(errbuf, errlen, "%s: not a regular file", path);
		goto done;
	}
	if (secret && (st.st_mode & 077) != 0) {
		snprintf(errbuf, errlen,
		    "%s: a secret key open to group or others (mode %04o): "
		    "chmod 600 it",
		    path, (unsigned)(st.st_mode & 07777));
		goto done;
	}
	while ((n = read(fd, buf, sizeof(buf))) == -1 && errno == EINTR)
		;
	if (n == -1) {
		snprintf(errbuf, errlen, "%s: %s", path, strerror(errno));
		goto done;
	}
	if (curve_parse_key(buf, (size_t)n, z85) == -1) {
		snprintf(errbuf, errlen,
		    "%s: not a CURVE key (40 characters of Z85, as nsctl "
		    "keygen writes them)",
		    path);
		goto done;
	}
	rc = 0;
done:
	explicit_bzero(buf, sizeof(buf));
	close(fd);
	return rc;
}

/* One key of the CURVE directory; a missing one says how to make keys. */
static int
load_key(const char *dir, const char *name, int secret,
    char z85[CURVE_Z85_LEN + 1], char *errbuf, size_t errlen)
{
	char path[PATH_MAX], why[PATH_MAX + 128];
	int missing;

	if (snprintf(path, sizeof(path), "%s/%s", dir, name) >=
	    (int)sizeof(path)) {
		snprintf(errbuf, errlen, "%s: CURVE directory name too long",
		    dir);
		return -1;
	}
	if (curve_read_key(path, secret, z85, why, sizeof(why)) == 0)
		return 0;
	missing = access(path, F_OK) == -1 && errno == ENOENT;
	snprintf(errbuf, errlen, "needs CURVE keys: %s%s%s%s", why,
	    missing ? "; make them with `nsctl keygen " : "",
	    missing ? dir : "",
	    missing ? "` (the key directory is NETSTREAMD_CURVE_DIR or "
		      "endpoints.curve_dir, by default " CURVE_DEFAULT_DIR ")"
		    : "");
	return -1;
}

static int
set_key(void *sock, int opt, const char *z85, char *errbuf, size_t errlen)
{
	if (zmq_setsockopt(sock, opt, z85, CURVE_Z85_LEN + 1) == -1) {
		snprintf(errbuf, errlen, "CURVE key option %d: %s", opt,
		    zmq_strerror(zmq_errno()));
		return -1;
	}
	return 0;
}

static int
apply_server(void *sock, const char *dir, char *errbuf, size_t errlen)
{
	char secret[CURVE_Z85_LEN + 1];
	int one = 1, rc = -1;
	void *ctx;

	if (load_key(dir, CURVE_SERVER_SECRET, 1, secret, errbuf, errlen) ==
	    -1)
		return -1;
	if ((ctx = bus_socket_ctx(sock)) == NULL) {
		snprintf(errbuf, errlen,
		    "CURVE: a socket not made by bus_socket()");
		goto done;
	}
	/* the handler first: libzmq lets every client in while none runs */
	if (zap_start(ctx, dir, errbuf, errlen) == -1)
		goto done;
	if (zmq_setsockopt(sock, ZMQ_CURVE_SERVER, &one, sizeof(one)) == -1 ||
	    zmq_setsockopt(sock, ZMQ_ZAP_DOMAIN, CURVE_DOMAIN,
	    strlen(CURVE_DOMAIN)) == -1) {
		snprintf(errbuf, errlen, "CURVE server: %s",
		    zmq_strerror(zmq_errno()));
		goto done;
	}
	rc = set_key(sock, ZMQ_CURVE_SECRETKEY, secret, errbuf, errlen);
done:
	explicit_bzero(secret, sizeof(secret));
	return rc;
}

/*
 * The public key a client expects of the server it connects to: a slot's
 * query socket is bound by its own host, with that host's key
 * (NETSTREAMD_SLOT_<N>_SERVER_KEY, a slot's server_key in the config);
 * the others by cfgd's and exportd's host (NETSTREAMD_SERVER_KEY,
 * endpoints.server_key). Without either, server.pub of the key directory:
 * the key of this host's own servers, as when one host runs the group.
 * A server with any other key fails the handshake: no host can answer
 * in another's place.
 */
static int
expected_key(int slot, const char *dir, char z85[CURVE_Z85_LEN + 1],
    char *errbuf, size_t errlen)
{
	char env[64] = "";
	const char *v = NULL;

	if (slot >= 0) {
		snprintf(env, sizeof(env), "NETSTREAMD_SLOT_%d_SERVER_KEY",
		    slot);
		v = getenv(env);
	}
	if (v == NULL || v[0] == '\0') {
		snprintf(env, sizeof(env), "NETSTREAMD_SERVER_KEY");
		v = getenv(env);
	}
	if (v == NULL || v[0] == '\0')
		return load_key(dir, CURVE_SERVER_PUBLIC, 0, z85, errbuf,
		    errlen);
	if (curve_parse_key(v, strlen(v), z85) == 0)
		return 0;
	snprintf(errbuf, errlen, "%s (or the config's server_key): not a "
	    "CURVE public key (40 characters of Z85, a server.pub)", env);
	return -1;
}

/* The public key is derived from client.key; client.pub is for sharing. */
static int
apply_client(void *sock, const char *dir, int slot, char *errbuf,
    size_t errlen)
{
	char secret[CURVE_Z85_LEN + 1], public[CURVE_Z85_LEN + 1];
	char server[CURVE_Z85_LEN + 1];
	int rc = -1;

	if (expected_key(slot, dir, server, errbuf, errlen) == -1 ||
	    load_key(dir, CURVE_CLIENT_SECRET, 1, secret, errbuf, errlen) ==
	    -1)
		goto done;
	if (zmq_curve_public(public, secret) == -1) {
		snprintf(errbuf, errlen, "%s/%s: %s", dir,
		    CURVE_CLIENT_SECRET, zmq_strerror(zmq_errno()));
		goto done;
	}
	if (set_key(sock, ZMQ_CURVE_SERVERKEY, server, errbuf, errlen) == -1 ||
	    set_key(sock, ZMQ_CURVE_PUBLICKEY, public, errbuf, errlen) == -1 ||
	    set_key(sock, ZMQ_CURVE_SECRETKEY, secret, errbuf, errlen) == -1)
		goto done;
	rc = 0;
done:
	explicit_bzero(secret, sizeof(secret));
	return rc;
}

static int
have_curve(char *errbuf, size_t errlen)
{
	if (zmq_has("curve"))
		return 1;
	snprintf(errbuf, errlen,
	    "this libzmq has no CURVE (zmq_has(\"curve\") is false): "
	    "tcp:// endpoints cannot be secured; use a libzmq built with "
	    "libsodium, or ipc:// endpoints");
	return 0;
}

/* Makes sock a CURVE server or client before it binds or connects. */
int
curve_apply(void *sock, enum curve_role role, char *errbuf, size_t errlen)
{
	if (!have_curve(errbuf, errlen))
		return -1;
	if (role == CURVE_SERVER)
		return apply_server(sock, curve_dir(), errbuf, errlen);
	return apply_client(sock, curve_dir(), -1, errbuf, errlen);
}

/* A client of the query socket of sampled --slot N, on the slot's host. */
int
curve_apply_slot(void *sock, unsigned slot, char *errbuf, size_t errlen)
{
	if (!have_curve(errbuf, errlen))
		return -1;
	return apply_client(sock, curve_dir(), (int)slot, errbuf, errlen);
}
