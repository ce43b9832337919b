/*
 * test_curve.c: CURVE key files and the ZAP handler (lib/curve.c,
 * lib/zap.c): what a key file may hold, which modes are refused, what a
 * missing key says, and that only an authorized client gets through.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zmq.h>

#include <cmocka.h>

#include "bus.h"
#include "curve.h"

static char tmp[256];

static int
setup(void **state)
{
	(void)state;
	snprintf(tmp, sizeof(tmp), "/tmp/test_curve.XXXXXX");
	return mkdtemp(tmp) == NULL ? -1 : 0;
}

static int
teardown(void **state)
{
	char cmd[300];

	(void)state;
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmp);
	return system(cmd) == 0 ? 0 : -1;
}

static void
put(const char *dir, const char *name, const char *text, mode_t mode)
{
	char path[512];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
	assert_int_equal(chmod(path, mode), 0);
}

static void
test_parse_key(void **state)
{
	char pub[41], sec[41], out[41], text[64];

	(void)state;
	assert_int_equal(zmq_curve_keypair(pub, sec), 0);
	assert_int_equal(curve_parse_key(pub, 40, out), 0);
	assert_string_equal(out, pub);
	snprintf(text, sizeof(text), "%s\r\n", pub);
	assert_int_equal(curve_parse_key(text, strlen(text), out), 0);
	assert_string_equal(out, pub);
	/* one short, one long, a space inside, a NUL inside */
	assert_int_equal(curve_parse_key(pub, 39, out), -1);
	snprintf(text, sizeof(text), "%sA", pub);
	assert_int_equal(curve_parse_key(text, 41, out), -1);
	memcpy(text, pub, 40);
	text[7] = ' ';
	assert_int_equal(curve_parse_key(text, 40, out), -1);
	text[7] = '\0';
	assert_int_equal(curve_parse_key(text, 40, out), -1);
	/* '~' and '"' are not Z85 */
	memcpy(text, pub, 40);
	text[0] = '~';
	assert_int_equal(curve_parse_key(text, 40, out), -1);
	text[0] = '"';
	assert_int_equal(curve_parse_key(text, 40, out), -1);
	assert_int_equal(curve_parse_key("", 0, out), -1);
	/* Z85 characters whose 5-character groups overflow 32 bits */
	memset(text, '#', 40);
	assert_int_equal(curve_parse_key(text, 40, out), -1);
}

static void
test_read_key_modes(void **state)
{
	char pub[41], sec[41], out[41], line[64], path[512], err[1024];

	(void)state;
	assert_int_equal(zmq_curve_keypair(pub, sec), 0);
	snprintf(line, sizeof(line), "%s\n", sec);
	put(tmp, "s.key", line, 0600);
	snprintf(path, sizeof(path), "%s/s.key", tmp);
	assert_int_equal(curve_read_key(path, 1, out, err, sizeof(err)), 0);
	assert_string_equal(out, sec);
	/* a secret key readable by the group is refused, a public one not */
	assert_int_equal(chmod(path, 0640), 0);
	assert_int_equal(curve_read_key(path, 1, out, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "open to group or others (mode 0640)"));
	assert_int_equal(curve_read_key(path, 0, out, err, sizeof(err)), 0);
	assert_int_equal(chmod(path, 0602), 0);
	assert_int_equal(curve_read_key(path, 1, out, err, sizeof(err)), -1);
}

static void
test_read_key_bad_files(void **state)
{
	char out[41], path[512], err[1024];

	(void)state;
	snprintf(path, sizeof(path), "%s/missing.key", tmp);
	assert_int_equal(curve_read_key(path, 0, out, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "missing.key: No such file or directory"));
	/* a FIFO must not hang the reader */
	snprintf(path, sizeof(path), "%s/fifo.key", tmp);
	assert_int_equal(mkfifo(path, 0600), 0);
	assert_int_equal(curve_read_key(path, 1, out, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "not a regular file"));
	put(tmp, "junk.pub", "not a key at all\n", 0644);
	snprintf(path, sizeof(path), "%s/junk.pub", tmp);
	assert_int_equal(curve_read_key(path, 0, out, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "not a CURVE key"));
}

static void
test_apply_without_keys(void **state)
{
	char err[2048];
	void *ctx, *s;

	(void)state;
	setenv("NETSTREAMD_CURVE_DIR", tmp, 1);
	ctx = zmq_ctx_new();
	s = bus_socket(ctx, ZMQ_REP, 0);
	assert_int_equal(curve_apply(s, CURVE_SERVER, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "/server.key: No such file"));
	assert_non_null(strstr(err, "nsctl keygen"));
	assert_int_equal(curve_apply(s, CURVE_CLIENT, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "/server.pub: No such file"));
	zmq_close(s);
	zmq_ctx_term(ctx);
}

/* A key directory: server keypair, one client keypair, authorized/. */
static void
make_keys(const char *dir, const char *server_pub, const char *server_sec,
    char client_pub[41], int authorize)
{
	char sec[41], line[64], sub[512];

	assert_int_equal(mkdir(dir, 0700), 0);
	snprintf(sub, sizeof(sub), "%s/authorized", dir);
	assert_int_equal(mkdir(sub, 0700), 0);
	assert_int_equal(zmq_curve_keypair(client_pub, sec), 0);
	snprintf(line, sizeof(line), "%s\n", server_sec);
	put(dir, "server.key", line, 0600);
	snprintf(line, sizeof(line), "%s\n", server_pub);
	put(dir, "server.pub", line, 0644);
	snprintf(line, sizeof(line), "%s\n", sec);
	put(dir, "client.key", line, 0600);
	snprintf(line, sizeof(line), "%s\n", client_pub);
	if (authorize)
		put(sub, "client.pub", line, 0644);
}

/*
 * One request with a 1 s timeout; returns 0 when the reply came. slot -1:
 * a client of cfgd's host, else of that slot's query socket.
 */
static int
ask_as(void *ctx, const char *dir, const char *ep, void *server, int slot)
{
	char err[2048], buf[8];
	int tmo = 1000, got = -1;
	void *c;

	setenv("NETSTREAMD_CURVE_DIR", dir, 1);
	c = bus_socket(ctx, ZMQ_REQ, 0);
	zmq_setsockopt(c, ZMQ_RCVTIMEO, &tmo, sizeof(tmo));
	zmq_setsockopt(server, ZMQ_RCVTIMEO, &tmo, sizeof(tmo));
	if (slot < 0)
		assert_int_equal(curve_apply(c, CURVE_CLIENT, err,
		    sizeof(err)), 0);
	else
		assert_int_equal(curve_apply_slot(c, (unsigned)slot, err,
		    sizeof(err)), 0);
	assert_int_equal(zmq_connect(c, ep), 0);
	assert_int_equal(zmq_send(c, "ping", 4, 0), 4);
	if (zmq_recv(server, buf, sizeof(buf), 0) == 4) {
		zmq_send(server, "pong", 4, 0);
		got = zmq_recv(c, buf, sizeof(buf), 0) == 4 ? 0 : -1;
	}
	zmq_close(c);
	return got;
}

static int
ask(void *ctx, const char *dir, const char *ep, void *server)
{
	return ask_as(ctx, dir, ep, server, -1);
}

static void
test_zap_lets_in_authorized_only(void **state)
{
	char spub[41], ssec[41], cpub[41], opub[41], good[300], bad[300];
	char err[2048], ep[128];
	size_t len = sizeof(ep);
	uint64_t before = zap_refused();
	void *ctx, *server;

	(void)state;
	assert_int_equal(zmq_curve_keypair(spub, ssec), 0);
	snprintf(good, sizeof(good), "%s/good", tmp);
	snprintf(bad, sizeof(bad), "%s/bad", tmp);
	make_keys(good, spub, ssec, cpub, 1);
	make_keys(bad, spub, ssec, opub, 0);
	setenv("NETSTREAMD_CURVE_DIR", good, 1);
	ctx = zmq_ctx_new();
	server = bus_socket(ctx, ZMQ_REP, 0);
	assert_int_equal(curve_apply(server, CURVE_SERVER, err, sizeof(err)),
	    0);
	assert_int_equal(zmq_bind(server, "tcp://127.0.0.1:*"), 0);
	assert_int_equal(zmq_getsockopt(server, ZMQ_LAST_ENDPOINT, ep, &len),
	    0);
	assert_int_equal(ask(ctx, good, ep, server), 0);
	assert_int_equal(zap_refused(), before);
	assert_int_equal(ask(ctx, bad, ep, server), -1);
	assert_true(zap_refused() > before);
	zmq_close(server);
	/* the handler thread ends with the context: this must not hang */
	assert_int_equal(zmq_ctx_term(ctx), 0);
}

/*
 * Each host its own keys (issue 25, 4): a server bound with a slot
 * host's key is not taken for cfgd by a client that expects cfgd's host's
 * key (NETSTREAMD_SERVER_KEY, endpoints.server_key); the slot's own key
 * (NETSTREAMD_SLOT_<N>_SERVER_KEY) is what a client of its query socket
 * expects; a variable that holds no key stops the client.
 */
static void
test_client_expects_the_server_key(void **state)
{
	char apub[41], asec[41], bpub[41], bsec[41], cpa[41], cpb[41];
	char a[300], b[300], err[2048], ep[128], line[64], sub[512];
	size_t len = sizeof(ep);
	void *ctx, *server, *c;

	(void)state;
	assert_int_equal(zmq_curve_keypair(apub, asec), 0);
	assert_int_equal(zmq_curve_keypair(bpub, bsec), 0);
	snprintf(a, sizeof(a), "%s/central", tmp);
	snprintf(b, sizeof(b), "%s/slot", tmp);
	make_keys(a, apub, asec, cpa, 0);
	make_keys(b, bpub, bsec, cpb, 0);
	/* the slot host lets in the central host's client (nsctl) */
	snprintf(sub, sizeof(sub), "%s/authorized", b);
	snprintf(line, sizeof(line), "%s\n", cpa);
	put(sub, "central.pub", line, 0644);
	unsetenv("NETSTREAMD_SERVER_KEY");
	unsetenv("NETSTREAMD_SLOT_2_SERVER_KEY");
	setenv("NETSTREAMD_CURVE_DIR", b, 1);
	ctx = zmq_ctx_new();
	server = bus_socket(ctx, ZMQ_REP, 0);
	assert_int_equal(curve_apply(server, CURVE_SERVER, err, sizeof(err)),
	    0);
	assert_int_equal(zmq_bind(server, "tcp://127.0.0.1:*"), 0);
	assert_int_equal(zmq_getsockopt(server, ZMQ_LAST_ENDPOINT, ep, &len),
	    0);
	/* the central host's own server.pub: not the slot's server */
	assert_int_equal(ask(ctx, a, ep, server), -1);
	/* cfgd's key named: still not the slot's server */
	setenv("NETSTREAMD_SERVER_KEY", apub, 1);
	assert_int_equal(ask(ctx, a, ep, server), -1);
	assert_int_equal(ask_as(ctx, a, ep, server, 2), -1);
	/* the slot's own key for its query socket: answered */
	setenv("NETSTREAMD_SLOT_2_SERVER_KEY", bpub, 1);
	assert_int_equal(ask_as(ctx, a, ep, server, 2), 0);
	/* ... and only for that slot */
	assert_int_equal(ask_as(ctx, a, ep, server, 3), -1);
	/* a variable that holds no key: the client is not made */
	setenv("NETSTREAMD_SERVER_KEY", "not a key", 1);
	c = bus_socket(ctx, ZMQ_REQ, 0);
	assert_int_equal(curve_apply(c, CURVE_CLIENT, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "NETSTREAMD_SERVER_KEY"));
	zmq_close(c);
	unsetenv("NETSTREAMD_SERVER_KEY");
	unsetenv("NETSTREAMD_SLOT_2_SERVER_KEY");
	zmq_close(server);
	assert_int_equal(zmq_ctx_term(ctx), 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_parse_key),
	    cmocka_unit_test_setup_teardown(test_read_key_modes, setup,
		teardown),
	    cmocka_unit_test_setup_teardown(test_read_key_bad_files, setup,
		teardown),
	    cmocka_unit_test_setup_teardown(test_apply_without_keys, setup,
		teardown),
	    cmocka_unit_test_setup_teardown(test_zap_lets_in_authorized_only,
		setup, teardown),
	    cmocka_unit_test_setup_teardown(test_client_expects_the_server_key,
		setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
