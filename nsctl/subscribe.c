/*
 * subscribe.c: `nsctl subscribe plan|stats` prints what the bus publishes,
 * one line per message: for scripts, tests and debugging a deployment.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zmq.h>

#include "log.h"
#include "nsctl.h"
#include "util.h"

int
cmd_subscribe(struct nsctl *n, int argc, char **argv)
{
	Netstream__Envelope *env;
	long count = -1, timeout = -1, got = 0;
	int64_t deadline, heard;
	const char *what, *ep, *topic;
	void *ctx, *s;
	enum bus_err e;
	int ch, rc;

	while ((ch = getopt(argc, argv, "n:t:")) != -1) {
		if (ch == 'n')
			count = atol(optarg);
		else if (ch == 't')
			timeout = atol(optarg);
		else
			nsctl_usage();
	}
	if (optind + 1 != argc)
		nsctl_usage();
	what = argv[optind];
	if (strcmp(what, "plan") == 0) {
		ep = n->ep.plan;
		topic = "plan";
	} else if (strcmp(what, "stats") == 0) {
		ep = n->ep.stats;
		topic = "stats";
	} else
		nsctl_usage();
	/* both come from cfgd's sockets: without cfgd, nothing ever will */
	if ((rc = nsctl_ping(n)) != 0)
		return rc;
	ctx = zmq_ctx_new();
	s = bus_socket(ctx, ZMQ_SUB, BUS_MAX_CONTROL);
	zmq_setsockopt(s, ZMQ_SUBSCRIBE, topic, strlen(topic));
	bus_connect(s, ep);
	deadline = timeout < 0 ? -1 : mono_ms() + timeout;
	setvbuf(stdout, NULL, _IOLBF, 0);
	heard = mono_ms();
	rc = 0;
	while (count < 0 || got < count) {
		zmq_pollitem_t it = { s, 0, ZMQ_POLLIN, 0 };
		long wait = deadline < 0 ? 500 : deadline - mono_ms();

		if (deadline >= 0 && wait <= 0)
			break;
		if (zmq_poll(&it, 1, wait < 500 ? wait : 500) <= 0) {
			if ((rc = nsctl_quiet(n, &heard)) != 0)
				break;
			continue;
		}
		heard = mono_ms();
		e = bus_recv(s, BUS_MAX_CONTROL, 1, 0, &env);
		if (e != BUS_OK) {
			fprintf(stderr, "nsctl: dropped a bad message (%s)\n",
			    bus_err_name(e));
			continue;
		}
		if (env->msg_case == NETSTREAM__ENVELOPE__MSG_PLAN)
			printf("plan generation %llu revision %llu records %zu "
			    "bindings %zu\n",
			    (unsigned long long)env->plan->generation,
			    (unsigned long long)env->plan->revision,
			    env->plan->n_records, env->plan->n_bindings);
		else if (env->msg_case == NETSTREAM__ENVELOPE__MSG_STATS)
			printf("stats %s slot %u generation %llu counters %zu\n",
			    env->stats->process, env->stats->slot,
			    (unsigned long long)env->stats->generation,
			    env->stats->n_counters);
		bus_free(env);
		got++;
	}
	zmq_close(s);
	zmq_ctx_term(ctx);
	if (rc != 0)
		return rc;
	return count < 0 || got >= count ? 0 : EXIT_INVALID;
}
