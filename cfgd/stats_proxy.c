/*
 * stats_proxy.c: the XSUB/XPUB proxy every process publishes its stats
 * through, so users watch one endpoint; and cfgd's own counters.
 */
#include <stdio.h>
#include <string.h>
#include <zmq.h>

#include "cfgd.h"
#include "curve.h"
#include "monitor.h"
#include "stats.h"

/*
 * Forwards one whole multipart message (or subscription) from -> to; its
 * first frame (a sample's topic) into first, NUL-terminated, when given.
 */
void
stats_forward(void *from, void *to, uint64_t *count, char *first,
    size_t firstlen)
{
	zmq_msg_t m;
	int more, part = 0;
	size_t sz = sizeof(more), len;

	if (first != NULL && firstlen > 0)
		first[0] = '\0';
	do {
		zmq_msg_init(&m);
		if (zmq_msg_recv(&m, from, ZMQ_DONTWAIT) == -1) {
			zmq_msg_close(&m);
			return;
		}
		zmq_getsockopt(from, ZMQ_RCVMORE, &more, &sz);
		if (part++ == 0 && first != NULL && firstlen > 0) {
			len = zmq_msg_size(&m) < firstlen - 1 ?
			    zmq_msg_size(&m) : firstlen - 1;
			memcpy(first, zmq_msg_data(&m), len);
			first[len] = '\0';
		}
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
	/* which slots of the plan are alive (slots.c), the tcp:// sockets */
	slots_stats(c, &s);
	monitor_stats(&s);
	for (i = BUS_TOO_BIG; i < BUS_ERR_MAX; i++)
		stats_add(&s, "bad_requests", c->bad[i], "reason",
		    bus_err_name((enum bus_err)i), NULL, NULL);
	stats_publish(c->xpub, &s);
	stats_clear(&s);
}
