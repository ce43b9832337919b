/*
 * flowgen: pushes synthetic IPv6 5-tuple flow records to exportd, as a
 * sampled process would, and prints the totals it sent, for the exportd
 * tests and benchmark. Values are deterministic and every record distinct.
 *   flowgen [-r RUN_DIR] -n RECORDS [-b BATCH] [-H host:port[,...]]
 *	     [--ipfix] [--slot N] [--seq-flow] [--final] [--rate BATCHES/S]
 *	     [--first N] [--template ID] [--vpn NAME] [--dscp N] [--pace PPS]
 *	     [--tcp] [--file PATH]   (IPFIX over TCP; or into a file alone)
 */
#include <arpa/inet.h>
#include <getopt.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zmq.h>

#include "bus.h"
#include "handover.h"
#include "fields.h"
#include "util.h"
#include "wbuf.h"

#define ROW_LEN (16 + 16 + 1 + 2 + 2 + 8 + 8 + 4 + 4)
#define MAX_HOSTS 8
#define BOOT_AGO_MS 3600000 /* sysUpTime of the first record: one hour */

static const struct {
	uint32_t type, len;
} tfields[] = {
	{ F_SRC_ADDR, 16 }, { F_DST_ADDR, 16 }, { F_PROTOCOL, 1 },
	{ F_SRC_PORT, 2 }, { F_DST_PORT, 2 }, { F_PACKETS, 8 },
	{ F_BYTES, 8 }, { F_FIRST_SWITCHED, 4 }, { F_LAST_SWITCHED, 4 },
};

struct gen {
	uint64_t n, batch, first;
	unsigned slot, tmpl, rate, dscp, pace;
	char *vpn;
	int ipfix, seq_flow, final, tcp;
	char *file;
	Netstream__Host hosts[MAX_HOSTS];
	Netstream__Host *hostp[MAX_HOSTS];
	char *addrs[MAX_HOSTS];
	size_t n_hosts;
	uint64_t packets, bytes;
};

static _Noreturn void
usage(void)
{
	fprintf(stderr, "usage: flowgen [-r RUN_DIR] -n RECORDS [-b BATCH] "
	    "[-H host:port[,host:port...]] [--ipfix] [--slot N]\n"
	    "               [--seq-flow] [--final] [--rate BATCHES_PER_S] "
	    "[--first N] [--template ID]\n"
	    "               [--vpn NAME] [--dscp N] [--pace PPS] [--tcp] "
	    "[--file PATH]\n");
	exit(2);
}

/* "[2001:db8::1]:9995", "::1:9995" is refused, "127.0.0.1:9995" */
static void
add_host(struct gen *g, char *s)
{
	char *colon = strrchr(s, ':'), *addr = s;
	Netstream__Host *h;

	if (colon == NULL || g->n_hosts == MAX_HOSTS)
		usage();
	*colon = '\0';
	if (addr[0] == '[') {
		addr++;
		if (colon[-1] == ']')
			colon[-1] = '\0';
	}
	h = &g->hosts[g->n_hosts];
	netstream__host__init(h);
	g->addrs[g->n_hosts] = xstrdup(addr);
	h->address = g->addrs[g->n_hosts];
	h->port = (uint32_t)atoi(colon + 1);
	h->ipfix = g->ipfix;
	h->dscp = g->dscp;
	h->pace_pps = g->pace; /* 0: exportd's default */
	h->tcp = g->tcp;
	if (g->vpn != NULL)
		h->vpn_instance = g->vpn;
	g->hostp[g->n_hosts] = h;
	g->n_hosts++;
}

static void
parse_hosts(struct gen *g, const char *list)
{
	char *copy = xstrdup(list), *save = NULL, *tok;

	for (tok = strtok_r(copy, ",", &save); tok != NULL;
	    tok = strtok_r(NULL, ",", &save))
		add_host(g, tok);
	free(copy);
}

/* Record i: distinct addresses and ports, counters that depend on i. */
static void
make_row(struct gen *g, uint64_t i, uint8_t *row, uint32_t uptime)
{
	uint8_t a[16] = { 0x20, 0x01, 0x0d, 0xb8 };
	uint64_t pk = 1 + i % 97, by = pk * (60 + i % 1400);
	struct wbuf w;

	wbuf_init(&w, row, ROW_LEN);
	a[4] = (uint8_t)g->slot;
	for (int k = 0; k < 8; k++)
		a[15 - k] = (uint8_t)(i >> (8 * k));
	wbuf_put_bytes(&w, a, 16);
	a[5] = 1;
	wbuf_put_bytes(&w, a, 16);
	wbuf_put_u8(&w, i % 2 ? 17 : 6);
	wbuf_put_u16(&w, (uint16_t)(1024 + i % 60000));
	wbuf_put_u16(&w, (uint16_t)(i % 3 ? 443 : 53));
	wbuf_put_u64(&w, pk);
	wbuf_put_u64(&w, by);
	wbuf_put_u32(&w, uptime - 1000);
	wbuf_put_u32(&w, uptime);
	g->packets += pk;
	g->bytes += by;
}

static void
fill_batch(struct gen *g, Netstream__FlowBatch *b, uint64_t start,
    uint64_t count, int64_t now)
{
	size_t i;

	b->slot = g->slot;
	b->template_id = g->tmpl;
	b->record = "flowgen";
	b->interface = "GigabitEthernet1/0/0";
	b->ifindex = 1;
	b->direction = NETSTREAM__DIRECTION__INBOUND;
	b->hosts = g->hostp;
	b->n_hosts = g->n_hosts;
	b->export_time_ms = now;
	b->sys_boot_ms = now - BOOT_AGO_MS;
	b->sequence_flow = g->seq_flow;
	b->row_len = ROW_LEN;
	b->n_rows = (uint32_t)count;
	b->rows.len = count * ROW_LEN;
	for (i = 0; i < count; i++)
		make_row(g, g->first + start + i, b->rows.data + i * ROW_LEN,
		    BOOT_AGO_MS);
}

static void
run(struct gen *g, struct handover *ho)
{
	Netstream__TemplateField f[NELEM(tfields)], *fp[NELEM(tfields)];
	Netstream__Sampler smp = NETSTREAM__SAMPLER__INIT;
	Netstream__FlowBatch b = NETSTREAM__FLOW_BATCH__INIT;
	Netstream__Envelope env = NETSTREAM__ENVELOPE__INIT;
	uint64_t done = 0;
	size_t i;

	for (i = 0; i < NELEM(tfields); i++) {
		netstream__template_field__init(&f[i]);
		f[i].type = tfields[i].type;
		f[i].len = tfields[i].len;
		fp[i] = &f[i];
	}
	smp.mode = NETSTREAM__SAMPLER_MODE__FIX_PACKETS;
	smp.value = 1;
	smp.id = 1;
	b.fields = fp;
	b.n_fields = NELEM(tfields);
	b.sampler = &smp;
	b.rows.data = xmalloc(g->batch * ROW_LEN);
	env.msg_case = NETSTREAM__ENVELOPE__MSG_BATCH;
	env.batch = &b;
	do {
		uint64_t count = g->n - done < g->batch ? g->n - done : g->batch;

		fill_batch(g, &b, done, count, now_ms());
		done += count;
		b.final = g->final && done == g->n;
		ho_send(ho, &env, 1);
		if (g->rate > 0)
			poll(NULL, 0, (int)(1000 / g->rate));
	} while (done < g->n);
	free(b.rows.data);
}

static void
parse_args(struct gen *g, int argc, char **argv, const char **rdir)
{
	static const struct option lo[] = {
		{ "ipfix", no_argument, NULL, 'I' },
		{ "slot", required_argument, NULL, 's' },
		{ "seq-flow", no_argument, NULL, 'q' },
		{ "final", no_argument, NULL, 'f' },
		{ "rate", required_argument, NULL, 'R' },
		{ "first", required_argument, NULL, 'F' },
		{ "template", required_argument, NULL, 'T' },
		{ "vpn", required_argument, NULL, 'V' },
		{ "dscp", required_argument, NULL, 'D' },
		{ "pace", required_argument, NULL, 'P' },
		{ "tcp", no_argument, NULL, 'C' },
		{ "file", required_argument, NULL, 'W' },
		{ NULL, 0, NULL, 0 },
	};
	const char *hosts = "127.0.0.1:9995";
	int ch;

	while ((ch = getopt_long(argc, argv, "r:n:b:H:h", lo, NULL)) != -1) {
		switch (ch) {
		case 'r': *rdir = optarg; break;
		case 'n': g->n = strtoull(optarg, NULL, 10); break;
		case 'b': g->batch = strtoull(optarg, NULL, 10); break;
		case 'H': hosts = optarg; break;
		case 'I': g->ipfix = 1; break;
		case 's': g->slot = (unsigned)atoi(optarg); break;
		case 'q': g->seq_flow = 1; break;
		case 'f': g->final = 1; break;
		case 'R': g->rate = (unsigned)atoi(optarg); break;
		case 'F': g->first = strtoull(optarg, NULL, 10); break;
		case 'T': g->tmpl = (unsigned)atoi(optarg); break;
		case 'V': g->vpn = optarg; break;
		case 'D': g->dscp = (unsigned)atoi(optarg); break;
		case 'P': g->pace = (unsigned)atoi(optarg); break;
		case 'C': g->tcp = 1; break;
		case 'W': g->file = optarg; break;
		default: usage();
		}
	}
	if (optind != argc || g->n == 0 || g->batch == 0 || g->batch > 100000)
		usage();
	if (g->file != NULL) { /* a file host only (IPFIX, RFC 5655) */
		Netstream__Host *h = &g->hosts[0];

		netstream__host__init(h);
		h->ipfix = 1;
		h->file = g->file;
		g->hostp[0] = h;
		g->n_hosts = 1;
		return;
	}
	parse_hosts(g, hosts);
}

int
main(int argc, char **argv)
{
	struct gen g;
	struct bus_endpoints ep;
	const char *rdir = NULL;
	struct handover ho;
	void *ctx;
	size_t i;
	int rc = 0;

	memset(&g, 0, sizeof(g));
	g.batch = 1000;
	g.slot = 1;
	g.tmpl = 258;
	parse_args(&g, argc, argv, &rdir);
	bus_endpoints_init(&ep, bus_run_dir(rdir));
	ctx = zmq_ctx_new();
	ho_open(&ho, ctx, &ep, g.slot, NULL);
	run(&g, &ho);
	/* wait for a restarting exportd rather than drop what is held */
	if (ho_drain(&ho, 60000) == -1) {
		fprintf(stderr, "flowgen: exportd did not acknowledge %zu "
		    "batches\n", ho.held);
		rc = 1;
	}
	/* acknowledged as refused: never exported (exportd says why) */
	for (i = 0; i < ho.n_refused; i++) {
		fprintf(stderr, "flowgen: exportd refused %llu batches (%llu "
		    "records): %s\n",
		    (unsigned long long)ho.refused[i].batches,
		    (unsigned long long)ho.refused[i].rows,
		    ho.refused[i].reason);
		rc = 1;
	}
	if (ho.resends)
		fprintf(stderr, "flowgen: pushed %llu batches again after "
		    "%llu exportd restarts\n",
		    (unsigned long long)ho.resent_batches,
		    (unsigned long long)ho.resends);
	ho_close(&ho);
	zmq_ctx_term(ctx);
	printf("records %llu packets %llu bytes %llu\n",
	    (unsigned long long)g.n, (unsigned long long)g.packets,
	    (unsigned long long)g.bytes);
	for (i = 0; i < g.n_hosts; i++)
		free(g.addrs[i]);
	return rc;
}
