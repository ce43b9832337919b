/*
 * statsview.c: `nsctl stats`: the counters every process publishes
 * through cfgd's proxy, as a table with rates, refreshed in place with
 * --watch, or one JSON object per sample with --json (--prometheus:
 * prometheus.c).
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zmq.h>

#include "display.h"
#include "nsctl.h"
#include "stats.h"
#include "util.h"

#define MAX_PROCS 64

struct seen {
	char key[48];
	Netstream__Stats *last, *prev;
};

void
stats_print_json(const Netstream__Stats *s)
{
	size_t i, j;

	printf("{\"process\":\"%s\",\"slot\":%u,\"pid\":%d,\"time_ms\":%lld,"
	    "\"generation\":%llu,\"counters\":[",
	    s->process, s->slot, s->pid, (long long)s->time_ms,
	    (unsigned long long)s->generation);
	for (i = 0; i < s->n_counters; i++) {
		const Netstream__Counter *c = s->counters[i];

		printf("%s{\"name\":", i ? "," : "");
		json_string(c->name);
		printf(",\"value\":%llu", (unsigned long long)c->value);
		for (j = 0; j < c->n_labels; j++) {
			putchar(',');
			json_string(c->labels[j]->key);
			putchar(':');
			json_string(c->labels[j]->value);
		}
		putchar('}');
	}
	printf("]}\n");
}

static uint64_t
prev_value(const Netstream__Stats *p, const Netstream__Counter *c)
{
	size_t i, j;

	if (p == NULL)
		return c->value;
	for (i = 0; i < p->n_counters; i++) {
		const Netstream__Counter *q = p->counters[i];

		if (strcmp(q->name, c->name) != 0 || q->n_labels != c->n_labels)
			continue;
		for (j = 0; j < c->n_labels; j++)
			if (strcmp(q->labels[j]->value, c->labels[j]->value))
				break;
		if (j == c->n_labels)
			return q->value;
	}
	return c->value;
}

/* NAME{key=value,...}: every label, in the order the process gave them */
static void
counter_name(const Netstream__Counter *c, char *out, size_t size)
{
	size_t len, j;

	len = (size_t)snprintf(out, size, "%s", c->name);
	for (j = 0; j < c->n_labels && len < size; j++)
		len += (size_t)snprintf(out + len, size - len, "%s%s=%s",
		    j ? "," : "{", c->labels[j]->key, c->labels[j]->value);
	if (c->n_labels && len < size)
		snprintf(out + len, size - len, "}");
}

static void
print_table(struct seen *v, size_t n, int watch)
{
	size_t i, k;

	if (watch)
		printf("\033[H\033[J");
	printf("%-10s %-5s %-46s %14s %12s\n", "process", "slot", "counter",
	    "value", "per second");
	for (i = 0; i < n; i++) {
		const Netstream__Stats *s = v[i].last;
		double dt = v[i].prev ?
		    (double)(s->time_ms - v[i].prev->time_ms) / 1000.0 : 0;

		for (k = 0; k < s->n_counters; k++) {
			const Netstream__Counter *c = s->counters[k];
			char name[512];

			/* the slots' states: in words below the table */
			if (c->value == 0 ||
			    strcmp(c->name, "slot_connected") == 0 ||
			    strcmp(c->name, "slot_last_seen_seconds") == 0)
				continue;
			counter_name(c, name, sizeof(name));
			printf("%-10s %-5u %-46s %14llu", s->process, s->slot,
			    name, (unsigned long long)c->value);
			if (dt > 0)
				printf(" %12.1f",
				    (double)(c->value - prev_value(v[i].prev,
				    c)) / dt);
			printf("\n");
		}
	}
	for (i = 0; i < n; i++)
		if (strcmp(v[i].key, "cfgd.0") == 0)
			stats_slots_print(v[i].last);
	fflush(stdout);
}

static size_t
remember(struct seen *v, size_t n, Netstream__Stats *s)
{
	char key[48];
	size_t i;

	snprintf(key, sizeof(key), "%s.%u", s->process, s->slot);
	for (i = 0; i < n; i++)
		if (strcmp(v[i].key, key) == 0)
			break;
	if (i == n) {
		if (n == MAX_PROCS) {
			netstream__stats__free_unpacked(s, NULL);
			return n;
		}
		memset(&v[n], 0, sizeof(v[n]));
		ns_strlcpy(v[n].key, key, sizeof(v[n].key));
		n++;
	}
	if (v[i].prev)
		netstream__stats__free_unpacked(v[i].prev, NULL);
	v[i].prev = v[i].last;
	v[i].last = s;
	return n;
}

int
cmd_stats(struct nsctl *n, int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "watch", no_argument, NULL, 'w' },
		{ "json", no_argument, NULL, 'j' },
		{ "slot", required_argument, NULL, 's' },
		{ "count", required_argument, NULL, 'n' },
		{ "time", required_argument, NULL, 't' },
		{ "prometheus", no_argument, NULL, 'P' },
		{ NULL, 0, NULL, 0 },
	};
	static struct seen seen[MAX_PROCS];
	int ch, watch = 0, json = 0, prom = 0, slot = -1, rc = 0, tset = 0;
	long count = -1, got = 0, tmo = 3000;
	int64_t deadline, heard;
	size_t nseen = 0, i;
	void *ctx, *sub;

	while ((ch = getopt_long(argc, argv, "wjs:n:t:", longopts, NULL)) != -1) {
		switch (ch) {
		case 'w':
			watch = 1;
			break;
		case 'j':
			json = 1;
			break;
		case 's':
			slot = atoi(optarg);
			break;
		case 'n':
			count = atol(optarg);
			break;
		case 't':
			tmo = atol(optarg);
			tset = 1;
			break;
		case 'P':
			prom = 1;
			break;
		default:
			nsctl_usage();
		}
	}
	if (optind != argc || (prom && (watch || json)))
		nsctl_usage();
	if (prom) /* one scrape, in Prometheus' text format */
		return stats_prometheus(n, slot, tmo);
	/* stats come through cfgd's proxy: without cfgd, none ever will */
	if ((rc = nsctl_ping(n)) != 0)
		return rc;
	ctx = zmq_ctx_new();
	sub = bus_socket(ctx, ZMQ_SUB, BUS_MAX_STATS);
	zmq_setsockopt(sub, ZMQ_SUBSCRIBE, "stats", 5);
	bus_connect(sub, n->ep.stats);
	setvbuf(stdout, NULL, _IOLBF, 0);
	/*
	 * -t bounds every mode; without it one round is collected for the
	 * table, and --watch, --json and -n go on while cfgd answers
	 */
	deadline = tset || !(watch || json || count > 0) ? mono_ms() + tmo :
	    -1;
	heard = mono_ms();
	while (count < 0 || got < count) {
		zmq_pollitem_t it = { sub, 0, ZMQ_POLLIN, 0 };
		Netstream__Envelope *env;

		if (deadline >= 0 && mono_ms() >= deadline)
			break;
		if (zmq_poll(&it, 1, 200) <= 0) {
			if ((rc = nsctl_quiet(n, &heard)) != 0)
				goto done;
			continue;
		}
		if (bus_recv(sub, BUS_MAX_STATS, 1, 0, &env) != BUS_OK)
			continue;
		heard = mono_ms();
		if (env->msg_case != NETSTREAM__ENVELOPE__MSG_STATS ||
		    (slot >= 0 && env->stats->slot != (unsigned)slot)) {
			bus_free(env);
			continue;
		}
		got++;
		if (json)
			stats_print_json(env->stats);
		else {
			nseen = remember(seen, nseen, env->stats);
			env->stats = NULL;
			env->msg_case = NETSTREAM__ENVELOPE__MSG__NOT_SET;
			if (watch)
				print_table(seen, nseen, 1);
		}
		bus_free(env);
	}
	if (got == 0) {
		fprintf(stderr, "nsctl: no stats received in %ld ms from %s "
		    "(cfgd answers: is the rest of the group running?)\n",
		    tmo, n->ep.stats);
		rc = EXIT_INVALID;
	} else if (count > 0 && got < count) {
		fprintf(stderr, "nsctl: %ld of %ld samples received in %ld "
		    "ms from %s\n", got, count, tmo, n->ep.stats);
		rc = EXIT_INVALID;
	}
	if (!json && !watch && nseen > 0)
		print_table(seen, nseen, 0);
done:
	for (i = 0; i < nseen; i++) {
		netstream__stats__free_unpacked(seen[i].last, NULL);
		if (seen[i].prev)
			netstream__stats__free_unpacked(seen[i].prev, NULL);
	}
	zmq_close(sub);
	zmq_ctx_term(ctx);
	return rc;
}
