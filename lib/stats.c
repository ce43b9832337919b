/*
 * stats.c: every process builds one Stats message per interval from its
 * counters and publishes it to the proxy, topic "stats.<process>.<slot>".
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zmq.h>

#include "bus.h"
#include "stats.h"
#include "util.h"

void
stats_begin(Netstream__Stats *s, const char *process, unsigned slot,
    uint64_t generation)
{
	netstream__stats__init(s);
	s->process = xstrdup(process);
	s->slot = slot;
	s->pid = (int32_t)getpid();
	s->time_ms = now_ms();
	s->generation = generation;
}

static Netstream__Counter__LabelsEntry *
label(const char *k, const char *v)
{
	Netstream__Counter__LabelsEntry *e = xmalloc(sizeof(*e));

	netstream__counter__labels_entry__init(e);
	e->key = xstrdup(k);
	e->value = xstrdup(v);
	return e;
}

void
stats_add(Netstream__Stats *s, const char *name, uint64_t value,
    const char *k1, const char *v1, const char *k2, const char *v2)
{
	Netstream__Counter *c = xmalloc(sizeof(*c));

	netstream__counter__init(c);
	c->name = xstrdup(name);
	c->value = value;
	c->labels = xcalloc(STATS_LABELS_MAX, sizeof(*c->labels));
	if (k1 != NULL)
		c->labels[c->n_labels++] = label(k1, v1);
	if (k2 != NULL)
		c->labels[c->n_labels++] = label(k2, v2);
	s->counters = xrealloc(s->counters,
	    (s->n_counters + 1) * sizeof(*s->counters));
	s->counters[s->n_counters++] = c;
}

/* One more label on the counter stats_add added last (up to 6 in all). */
void
stats_label(Netstream__Stats *s, const char *k, const char *v)
{
	Netstream__Counter *c;

	if (s->n_counters == 0)
		return;
	c = s->counters[s->n_counters - 1];
	if (c->n_labels < STATS_LABELS_MAX)
		c->labels[c->n_labels++] = label(k, v);
}

int
stats_publish(void *sock, Netstream__Stats *s)
{
	Netstream__Envelope env = NETSTREAM__ENVELOPE__INIT;
	char topic[64];

	snprintf(topic, sizeof(topic), "stats.%s.%u", s->process, s->slot);
	env.msg_case = NETSTREAM__ENVELOPE__MSG_STATS;
	env.stats = s;
	return bus_send(sock, topic, &env, ZMQ_DONTWAIT);
}

/*
 * A publisher that hears its subscribers come: an XPUB, which publishes
 * as a PUB does. What a PUB publishes before the subscription of a new
 * peer reached it is dropped; with this, the publisher publishes again
 * when it comes (xpub_joined), instead of at its next interval. maxmsg
 * bounds what it receives: subscriptions and, on tcp://, the CURVE
 * handshake (see STATS_XPUB_MAX).
 */
void *
xpub_socket(void *ctx, size_t maxmsg)
{
	void *s = bus_socket(ctx, ZMQ_XPUB, maxmsg);

	/* every subscription, also one for a topic another peer has */
	zmq_setsockopt(s, ZMQ_XPUB_VERBOSE, &(int){ 1 }, sizeof(int));
	return s;
}

/* A process's stats publisher (it connects to the proxy's XSUB). */
void *
stats_socket(void *ctx)
{
	return xpub_socket(ctx, STATS_XPUB_MAX);
}

/* Reads the subscription messages of an XPUB: 1 when one subscribed. */
int
xpub_joined(void *xpub)
{
	char buf[256];
	int n, joined = 0;

	while ((n = zmq_recv(xpub, buf, sizeof(buf), ZMQ_DONTWAIT)) >= 0)
		if (n >= 1 && buf[0] == 1)
			joined = 1;
	return joined;
}

void
stats_clear(Netstream__Stats *s)
{
	size_t i;

	for (i = 0; i < s->n_counters; i++)
		netstream__counter__free_unpacked(s->counters[i], NULL);
	free(s->counters);
	free(s->process);
	netstream__stats__init(s);
}

/* The value of the counter name whose label k1 is v1 (0 when absent). */
uint64_t
stats_get(const Netstream__Stats *s, const char *name, const char *k1,
    const char *v1)
{
	size_t i, j;

	for (i = 0; i < s->n_counters; i++) {
		const Netstream__Counter *c = s->counters[i];

		if (strcmp(c->name, name) != 0)
			continue;
		if (k1 == NULL)
			return c->value;
		for (j = 0; j < c->n_labels; j++)
			if (strcmp(c->labels[j]->key, k1) == 0 &&
			    strcmp(c->labels[j]->value, v1) == 0)
				return c->value;
	}
	return 0;
}
