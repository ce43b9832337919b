/*
 * keygen.c: nsctl keygen DIR, the CURVE keys of one host for tcp://
 * endpoints: the keypair of the sockets it binds, the keypair of those it
 * connects, and authorized/ with its own client key. Every host makes its
 * own; only public keys travel (docs/multihost.md).
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zmq.h>

#include "curve.h"
#include "nsctl.h"
#include "util.h"

#define AUTHORIZED_CLIENT CURVE_AUTHORIZED "/" CURVE_CLIENT_PUBLIC

static const char *const key_files[] = { CURVE_SERVER_SECRET,
	CURVE_SERVER_PUBLIC, CURVE_CLIENT_SECRET, CURVE_CLIENT_PUBLIC,
	AUTHORIZED_CLIENT };

static int
join(char *buf, size_t len, const char *dir, const char *name)
{
	if (snprintf(buf, len, "%s/%s", dir, name) < (int)len)
		return 0;
	fprintf(stderr, "nsctl: %s: name too long\n", dir);
	return -1;
}

/* Keys are never overwritten: one that exists stops keygen before it writes. */
static int
check_new(const char *dir)
{
	char path[PATH_MAX];
	struct stat st;
	size_t i;

	for (i = 0; i < NELEM(key_files); i++) {
		if (join(path, sizeof(path), dir, key_files[i]) == -1)
			return -1;
		if (lstat(path, &st) == 0) {
			fprintf(stderr,
			    "nsctl: %s exists: keygen does not overwrite keys "
			    "(move the old ones away first)\n",
			    path);
			return -1;
		}
		if (errno != ENOENT && errno != ENOTDIR) {
			fprintf(stderr, "nsctl: %s: %s\n", path,
			    strerror(errno));
			return -1;
		}
	}
	return 0;
}

/* O_EXCL as well: a key made meanwhile by someone else is not replaced. */
static int
write_key(const char *dir, const char *name, const char *z85, mode_t mode)
{
	char path[PATH_MAX], line[CURVE_Z85_LEN + 2];
	size_t len;
	int fd, ok;

	if (join(path, sizeof(path), dir, name) == -1)
		return -1;
	len = (size_t)snprintf(line, sizeof(line), "%s\n", z85);
	if ((fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode)) ==
	    -1) {
		fprintf(stderr, "nsctl: %s: %s\n", path, strerror(errno));
		return -1;
	}
	ok = write(fd, line, len) == (ssize_t)len;
	ok = close(fd) == 0 && ok;
	explicit_bzero(line, sizeof(line));
	if (!ok) {
		fprintf(stderr, "nsctl: %s: %s\n", path, strerror(errno));
		return -1;
	}
	return 0;
}

static int
make_dirs(const char *dir)
{
	char path[PATH_MAX], err[PATH_MAX + 64];

	if (join(path, sizeof(path), dir, CURVE_AUTHORIZED) == -1)
		return -1;
	if (mkdir_private(dir, err, sizeof(err)) == -1 ||
	    mkdir_private(path, err, sizeof(err)) == -1) {
		fprintf(stderr, "nsctl: %s\n", err);
		return -1;
	}
	return 0;
}

int
cmd_keygen(struct nsctl *n, int argc, char **argv)
{
	char spub[CURVE_Z85_LEN + 1], ssec[CURVE_Z85_LEN + 1];
	char cpub[CURVE_Z85_LEN + 1], csec[CURVE_Z85_LEN + 1];
	const char *dir;
	int rc = EXIT_INVALID;

	(void)n;
	if (argc != 2 || argv[1][0] == '-')
		nsctl_usage();
	dir = argv[1];
	if (!zmq_has("curve")) {
		fprintf(stderr, "nsctl: this libzmq has no CURVE "
				"(zmq_has(\"curve\") is false): use one built "
				"with libsodium\n");
		return EXIT_INVALID;
	}
	if (check_new(dir) == -1 || make_dirs(dir) == -1)
		return EXIT_INVALID;
	if (zmq_curve_keypair(spub, ssec) == -1 ||
	    zmq_curve_keypair(cpub, csec) == -1) {
		fprintf(stderr, "nsctl: zmq_curve_keypair: %s\n",
		    zmq_strerror(zmq_errno()));
		goto done;
	}
	if (write_key(dir, CURVE_SERVER_SECRET, ssec, 0600) == -1 ||
	    write_key(dir, CURVE_SERVER_PUBLIC, spub, 0644) == -1 ||
	    write_key(dir, CURVE_CLIENT_SECRET, csec, 0600) == -1 ||
	    write_key(dir, CURVE_CLIENT_PUBLIC, cpub, 0644) == -1 ||
	    write_key(dir, AUTHORIZED_CLIENT, cpub, 0644) == -1)
		goto done;
	/* what the other hosts' configs and authorized/ need of this one */
	printf("CURVE keys of this host in %s (run keygen on every host: no "
	       "host holds another's secret key).\n"
	       "server.key/.pub: the sockets this host binds; its public "
	       "key, for the config\n"
	       "  (endpoints.server_key on cfgd's and exportd's host, a "
	       "slot's server_key on a slot's):\n"
	       "    server_key = \"%s\";\n"
	       "client.key/.pub: the sockets this host connects; copy "
	       "client.pub into authorized/\n"
	       "  of every host it connects to (docs/multihost.md):\n"
	       "    %s\n"
	       "Point endpoints.curve_dir (or NETSTREAMD_CURVE_DIR) at %s.\n",
	    dir, spub, cpub, dir);
	rc = 0;
done:
	explicit_bzero(ssec, sizeof(ssec));
	explicit_bzero(csec, sizeof(csec));
	return rc;
}
