/*
 * stats_proxy.c: the XSUB/XPUB proxy every process publishes its stats
 * through, so users watch one endpoint; and cfgd's own counters.
 */
#include <stdio.h>
#include <zmq.h>

#include "cfgd.h"
#include "curve.h"
#include "stats.h"

/* Forwards one whole multipart message (or subscription) from -> to. */
void
stats_forward(void *from, void *to, uint64_t *count)
{
	zmq_msg_t m;
	int more;
	size_t sz = sizeof(more);

	do {
		zmq_msg_init(&m);
		if (zmq_msg_recv(&m, from, ZMQ_DONTWAIT) == -1) {
			zmq_msg_close(&m);
			return;
		}
		zmq_getsockopt(from, ZMQ_RCVMORE, &more, &sz);
		zmq_msg_send(&m, to, more ? ZMQ_SNDMORE : 0);
		zmq_msg_close(&m);
	} while (more);
	(*count)++;
}

void
cfgd_publish_stats(struct cfgd *c)
{
	static const char *names[C_MAX] = { "control_requests", "commits",
		"commits_rejected", "rollbacks", "plans_published",
		"store_errors", "stats_forwarded" };
	Netstream__Stats s;
	int i;

	stats_begin(&s, "cfgd", 0, c->plan ? c->plan->generation : 0);
	for (i = 0; i < C_MAX; i++)
		stats_add(&s, names[i], c->counters[i], NULL, NULL, NULL, NULL);
	/* tcp:// clients the ZAP handler turned away (lib/zap.c) */
	stats_add(&s, "curve_refused", zap_refused(), NULL, NULL, NULL, NULL);
	for (i = BUS_TOO_BIG; i < BUS_ERR_MAX; i++)
		stats_add(&s, "bad_requests", c->bad[i], "reason",
		    bus_err_name((enum bus_err)i), NULL, NULL);
	stats_publish(c->xpub, &s);
	stats_clear(&s);
}
