/*
 * bussend: sends raw bytes as one request to a REP endpoint and prints the
 * reply, so tests can throw malformed messages at cfgd over the real bus.
 *   bussend ENDPOINT FILE   (FILE "-" is stdin; "--frames N" sends N parts)
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zmq.h>

#include "bus.h"
#include "util.h"

int
main(int argc, char **argv)
{
	Netstream__Envelope *env;
	char *buf = NULL;
	size_t len = 0, cap = 0, n;
	int frames = 1, tmo = 3000, linger = 0, i;
	void *ctx, *s;
	FILE *f;

	if (argc == 5 && strcmp(argv[3], "--frames") == 0)
		frames = atoi(argv[4]);
	else if (argc != 3) {
		fprintf(stderr, "usage: bussend ENDPOINT FILE [--frames N]\n");
		return 2;
	}
	f = strcmp(argv[2], "-") == 0 ? stdin : fopen(argv[2], "rb");
	if (f == NULL) {
		perror(argv[2]);
		return 2;
	}
	for (;;) {
		if (len == cap)
			buf = xrealloc(buf, cap = cap ? cap * 2 : 65536);
		if ((n = fread(buf + len, 1, cap - len, f)) == 0)
			break;
		len += n;
	}
	ctx = zmq_ctx_new();
	s = zmq_socket(ctx, ZMQ_REQ);
	zmq_setsockopt(s, ZMQ_RCVTIMEO, &tmo, sizeof(tmo));
	zmq_setsockopt(s, ZMQ_SNDTIMEO, &tmo, sizeof(tmo));
	zmq_setsockopt(s, ZMQ_LINGER, &linger, sizeof(linger));
	zmq_connect(s, argv[1]);
	for (i = 0; i < frames; i++)
		zmq_send(s, buf, len, i + 1 < frames ? ZMQ_SNDMORE : 0);
	switch (bus_recv(s, BUS_MAX_CONTROL, 0, 0, &env)) {
	case BUS_OK:
		if (env->msg_case == NETSTREAM__ENVELOPE__MSG_REPLY)
			printf("status %d: %s\n", env->reply->status,
			    env->reply->text);
		bus_free(env);
		break;
	case BUS_AGAIN:
		printf("no reply\n");
		break;
	default:
		printf("bad reply\n");
		break;
	}
	zmq_close(s);
	zmq_ctx_term(ctx);
	free(buf);
	return 0;
}
