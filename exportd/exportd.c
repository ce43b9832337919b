/*
 * exportd: turns the flow batches that sampled processes push into NetFlow
 * v9 / IPFIX packets and sends them to their hosts. Export parameters come
 * from the plan cfgd publishes; everything else a batch carries itself.
 */
#include <getopt.h>
#include <linux/capability.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zmq.h>

#include "conf.h"
#include "exportd.h"
#include "handover.h"
#include "log.h"
#include "monitor.h"
#include "privs.h"
#include "plan.h"
#include "stats.h"
#include "util.h"
#include "paths.h"

#define BATCHES_PER_WAKE 256 /* then timers and sends get their turn */
#define DRAIN_QUIET_MS 200   /* at exit: the PULL stayed empty this long,
				 unless every sender said it ended */
#define EXIT_SEND_MS 2000    /* at exit: how long blocked sends may retry */
#define EXIT_ERRORS_MS 100   /* at exit: how long ICMP errors may come */
#define POLL_UDP 5 /* the first UDP socket's item; before: PULL, SUB,
			  the XPUBs, the signals' pipe */
#define MAX_POLL (POLL_UDP + 64)

static volatile sig_atomic_t quit;

static void
on_signal(int sig)
{
	(void)sig;
	quit = 1;
	wake_signal(); /* ends the poll it may have come just before */
}

/* -h/--help: to stdout, exit 0; a bad command line: to stderr, exit 2 */
static _Noreturn void
usage(int code)
{
	fprintf(code ? stderr : stdout,
	    "usage: exportd [-c FILE] [-r RUN_DIR]\n"
	    "  -c FILE      the config whose run_dir and endpoints apply\n"
	    "  -r RUN_DIR   the bus sockets (default: the config's run_dir,\n"
	    "               /run/netstreamd, or NETSTREAMD_RUN_DIR)\n"
	    "  -V, --version  the version\n"
	    "  -h, --help   this help\n"
	    "Takes flow batches from sampled and exports NetFlow v9 / IPFIX\n"
	    "to the hosts of the running plan. See exportd(8).\n");
	exit(code);
}

static enum xd_bad
bus_bad(enum bus_err e)
{
	switch (e) {
	case BUS_TOO_BIG:
		return BAD_BUS_TOO_BIG;
	case BUS_DECODE:
		return BAD_BUS_DECODE;
	case BUS_VERSION:
		return BAD_BUS_VERSION;
	case BUS_EMPTY:
		return BAD_BUS_EMPTY;
	default:
		return BAD_BUS_FRAMES;
	}
}

/* One message from the PULL socket; 0 when none was waiting. */
static int
recv_batch(struct exportd *xd)
{
	Netstream__Envelope *env;
	enum bus_err e;

	e = bus_recv(xd->pull, BUS_MAX_FLOWS, 0, ZMQ_DONTWAIT, &env);
	if (e == BUS_AGAIN)
		return 0;
	if (e != BUS_OK) {
		xd_count_bad(xd, bus_bad(e));
		return 1;
	}
	if (env->msg_case != NETSTREAM__ENVELOPE__MSG_BATCH)
		xd_count_bad(xd, BAD_TYPE);
	else if (batch_take(xd, env->batch))
		dest_batch(xd, env->batch);
	bus_free(env);
	return 1;
}

static void
recv_plans(struct exportd *xd)
{
	Netstream__Envelope *env;

	while (bus_recv(xd->sub, BUS_MAX_CONTROL, 1, ZMQ_DONTWAIT, &env) !=
	    BUS_AGAIN) {
		if (env != NULL && env->msg_case == NETSTREAM__ENVELOPE__MSG_PLAN)
			params_take(xd, env->plan);
		bus_free(env);
	}
}

/*
 * The state of the hosts labelled as h (one per source socket and
 * version): failing when one is, since the earliest failing one began,
 * with its error; else ok since the latest change.
 */
static void
stats_host_state(struct exportd *xd, const struct host *h,
    Netstream__Stats *st)
{
	const struct host *pick = NULL;
	size_t j;

	for (j = 0; j < xd->n_hosts; j++) {
		struct host *o = xd->hosts[j];

		if (strcmp(o->label, h->label) != 0)
			continue;
		if (pick == NULL || (o->failing && !pick->failing) ||
		    (o->failing == pick->failing &&
		    (o->failing ? o->since_ms < pick->since_ms :
		    o->since_ms > pick->since_ms)))
			pick = o;
	}
	stats_add(st, "host_failing", (uint64_t)pick->failing, "host",
	    h->label, "error", pick->failing ? xd_err_name(pick->last_err) :
	    "");
	stats_add(st, "host_state_since_seconds",
	    pick->since_ms > 0 ? (uint64_t)(pick->since_ms / 1000) : 0,
	    "host", h->label, NULL, NULL);
}

static void
stats_hosts(struct exportd *xd, Netstream__Stats *st)
{
	/* packets, records, bytes: sent, the kernel took them and no error
	 * came back in XD_CONFIRM_MS; failed_*: a send or ICMP error, a
	 * full queue; packets_in_flight: taken by the kernel, not yet sent.
	 * queued: packets waiting to be sent now (the pacing queue);
	 * pace_waits: times the head of a queue waited for its pace */
	static const char *names[] = { "packets", "records", "bytes",
		"template_sends", "options_sends", "queued", "pace_waits",
		"times_clamped", "failed_packets", "failed_records",
		"packets_in_flight", "stream_waits", "stream_connects",
		"stream_breaks", "stream_held_bytes" };
	int64_t now = mono_ms();
	size_t i, j, k;

	for (i = 0; i < xd->n_hosts; i++)
		send_confirm(xd, xd->hosts[i], now, xd->confirm_all);

	for (i = 0; i < xd->n_hosts; i++) {
		struct host *h = xd->hosts[i];
		uint64_t v[NELEM(names)] = { 0 };

		for (j = 0; j < i; j++)
			if (strcmp(xd->hosts[j]->label, h->label) == 0)
				break;
		if (j < i)
			continue; /* merged into the first with this label */
		stats_host_state(xd, h, st);
		for (j = i; j < xd->n_hosts; j++) {
			struct host *o = xd->hosts[j];

			if (strcmp(o->label, h->label) != 0)
				continue;
			v[0] += o->packets, v[1] += o->records;
			v[2] += o->bytes, v[3] += o->template_sends;
			v[4] += o->options_sends, v[5] += o->queued;
			v[6] += o->pace_waits;
			/* times its format could not carry (times.c) */
			v[7] += o->times_clamped;
			v[8] += o->failed_packets, v[9] += o->failed_records;
			v[10] += o->in_flight;
			/* a TCP or file host (stream.c) */
			v[11] += o->stream_waits, v[12] += o->stream_connects;
			v[13] += o->stream_breaks, v[14] += o->stream_held_bytes;
			for (k = 0; k < XD_ERRS && o->errs[k].n; k++)
				stats_add(st, "send_errors", o->errs[k].n,
				    "host", h->label, "errno",
				    xd_err_name(o->errs[k].err));
		}
		for (k = 0; k < NELEM(names); k++)
			stats_add(st, names[k], v[k], "host", h->label, NULL,
			    NULL);
	}
}

static void
stats_send(struct exportd *xd)
{
	Netstream__Stats st;
	char buf[32];
	size_t i;

	stats_begin(&st, "exportd", 0, xd->prm.generation);
	stats_add(&st, "batches", xd->batches, NULL, NULL, NULL, NULL);
	stats_add(&st, "records_in", xd->records_in, NULL, NULL, NULL, NULL);
	/* the hand-over: batches pushed again that were had already, or
	 * that came after a gap (pushed again later), rows sent before a
	 * restart and not again */
	stats_add(&st, "batches_duplicate", xd->dup_batches, NULL, NULL, NULL,
	    NULL);
	stats_add(&st, "batches_out_of_order", xd->gap_batches, NULL, NULL,
	    NULL, NULL);
	stats_add(&st, "rows_sent_before_restart", xd->rows_skipped, NULL,
	    NULL, NULL, NULL);
	for (i = 0; i < BAD_MAX; i++)
		if (xd->bad[i])
			stats_add(&st, "bad_batches", xd->bad[i], "reason",
			    bad_name((enum xd_bad)i), NULL, NULL);
	plan_bad_stats(&st, xd->bad_plans);
	for (i = 0; i < xd->n_finals; i++) {
		snprintf(buf, sizeof(buf), "%u", xd->finals[i].slot);
		stats_add(&st, "finals", xd->finals[i].n, "slot", buf, NULL,
		    NULL);
	}
	stats_hosts(xd, &st);
	for (i = 0; i < xd->n_tstats; i++) {
		snprintf(buf, sizeof(buf), "%u", xd->tstats[i].id);
		/* per template, labelled with its record: a record's sum
		 * goes on across the templates a commit gives it */
		stats_add(&st, "packets_ok", xd->tstats[i].ok, "template", buf,
		    "record", xd->tstats[i].record);
		stats_add(&st, "packets_failed", xd->tstats[i].failed,
		    "template", buf, "record", xd->tstats[i].record);
	}
	monitor_stats(&st); /* the tcp:// sockets, lib/monitor.c */
	stats_publish(xd->pub, &st);
	stats_clear(&st);
}

static void
open_bus(struct exportd *xd)
{
	char err[512];

	if (bus_prepare_run_dir(&xd->ep, err, sizeof(err)) == -1)
		fatalx("run directory: %s", err);
	xd->ctx = zmq_ctx_new();
	xd->pull = bus_socket(xd->ctx, ZMQ_PULL, BUS_MAX_FLOWS);
	xd->sub = bus_socket(xd->ctx, ZMQ_SUB, BUS_MAX_CONTROL);
	xd->pub = stats_socket(xd->ctx);
	xd->acks = ack_socket(xd->ctx); /* an XPUB too: senders join */
	zmq_setsockopt(xd->sub, ZMQ_SUBSCRIBE, "plan", 4);
	if (bus_bind(xd->pull, xd->ep.flows) == -1)
		fatalx("cannot bind %s (is another exportd running?)",
		    xd->ep.flows);
	if (bus_bind(xd->acks, xd->ep.acks) == -1)
		fatalx("cannot bind %s", xd->ep.acks);
	if (bus_connect(xd->sub, xd->ep.plan) == -1 ||
	    bus_connect(xd->pub, xd->ep.stats_in) == -1)
		fatalx("cannot connect the bus in %s", xd->ep.run_dir);
}

/*
 * The running plan before the first batch: cfgd republishes it only every
 * 2 s, and a replay can be exported by then with the default timers.
 * Without an answer (no cfgd yet) the defaults stand until a plan comes.
 */
static void
fetch_plan(struct exportd *xd)
{
	Netstream__Envelope env = NETSTREAM__ENVELOPE__INIT, *in;
	Netstream__ControlRequest rq = NETSTREAM__CONTROL_REQUEST__INIT;
	void *req = bus_socket(xd->ctx, ZMQ_REQ, BUS_MAX_CONTROL);
	zmq_pollitem_t it = { req, 0, ZMQ_POLLIN, 0 };

	rq.verb = NETSTREAM__VERB__GET_PLAN;
	env.msg_case = NETSTREAM__ENVELOPE__MSG_REQUEST;
	env.request = &rq;
	if (bus_connect(req, xd->ep.control) == 0 &&
	    bus_send(req, NULL, &env, ZMQ_DONTWAIT) == 0 &&
	    zmq_poll(&it, 1, 2000) == 1 &&
	    bus_recv(req, BUS_MAX_CONTROL, 0, ZMQ_DONTWAIT, &in) == BUS_OK) {
		if (in->msg_case == NETSTREAM__ENVELOPE__MSG_REPLY &&
		    in->reply->status == 0 && in->reply->plan != NULL)
			params_take(xd, in->reply->plan);
		bus_free(in);
	} else
		log_warnx("no plan from cfgd yet: default export timers until "
		    "one is published");
	zmq_close(req);
}

/*
 * zmq_poll items: PULL, SUB, the acks and stats XPUBs, then the UDP
 * sockets (errors, POLLOUT).
 */
static int
poll_items(struct exportd *xd, zmq_pollitem_t *it)
{
	int n = 0;
	size_t i;

	/* a host with a long queue: batches wait in sampled meanwhile */
	it[n++] = (zmq_pollitem_t){ xd->pull, 0,
		(short)(send_backlogged(xd) ? 0 : ZMQ_POLLIN), 0 };
	it[n++] = (zmq_pollitem_t){ xd->sub, 0, ZMQ_POLLIN, 0 };
	/* subscribers that join: a sender's acks, the proxy's stats */
	it[n++] = (zmq_pollitem_t){ xd->acks, 0, ZMQ_POLLIN, 0 };
	it[n++] = (zmq_pollitem_t){ xd->pub, 0, ZMQ_POLLIN, 0 };
	it[n++] = (zmq_pollitem_t){ NULL, wake_open(), ZMQ_POLLIN, 0 };
	for (i = 0; i < xd->n_socks && n < MAX_POLL; i++) {
		struct xsock *s = xd->socks[i];

		if (s->fd == -1)
			continue;
		/* a TCP host: its connection made, and the collector
		 * going away (readable: closed or reset) */
		it[n++] = (zmq_pollitem_t){ NULL, s->fd,
			(short)(ZMQ_POLLERR |
			(s->blocked || s->connecting ? ZMQ_POLLOUT : 0) |
			(s->stream == XS_TCP && !s->connecting ?
			ZMQ_POLLIN : 0)), 0 };
	}
	return n;
}

static long
poll_timeout(const struct exportd *xd, int64_t now, int64_t next_stats)
{
	int64_t t = dest_next_deadline(xd), pace;

	if (next_stats < t)
		t = next_stats;
	if (send_pending(xd) && now + 10 < t)
		t = now + 10; /* a blocked socket is retried soon */
	if ((pace = send_next_us(xd)) != INT64_MAX) {
		/* a paced queue: its next token, at least 1 ms on */
		pace = (pace - mono_us() + 999) / 1000;
		if (now + (pace < 1 ? 1 : pace) < t)
			t = now + (pace < 1 ? 1 : pace);
	}
	if (xd->next_beat < t)
		t = xd->next_beat;
	return t <= now ? 0 : (long)(t - now);
}

static void
errqueue_fd(struct exportd *xd, int fd)
{
	size_t i;

	for (i = 0; i < xd->n_socks; i++)
		if (xd->socks[i]->fd == fd && !xd->socks[i]->stream)
			send_errqueue(xd, xd->socks[i]);
}

static void
readable_fd(struct exportd *xd, int fd)
{
	size_t i;

	for (i = 0; i < xd->n_socks; i++)
		if (xd->socks[i]->fd == fd && xd->socks[i]->stream)
			stream_readable(xd, xd->socks[i]);
}

/* Packets in flight long enough with no error: sent (send.c). */
static void
confirm_old(struct exportd *xd)
{
	int64_t now = mono_ms();
	size_t i;

	for (i = 0; i < xd->n_hosts; i++)
		send_confirm(xd, xd->hosts[i], now, 0);
}

static void
run(struct exportd *xd)
{
	zmq_pollitem_t it[MAX_POLL];
	int64_t now, next_stats = mono_ms();
	int i, n;

	while (!quit) {
		monitor_retry(); /* a socket cfgd refused, once let in */
		now = mono_ms();
		if (now >= next_stats || xd->stats_now) {
			xd->stats_now = 0;
			stats_send(xd);
			next_stats = now + xd->prm.stats_ms;
		}
		n = poll_items(xd, it);
		if (quit ||
		    zmq_poll(it, n, poll_timeout(xd, now, next_stats)) == -1)
			continue;
		wake_drain();
		if (it[1].revents & ZMQ_POLLIN)
			recv_plans(xd);
		/* an ack published before a sender's subscription reached
		 * us was lost to it: every slot's ack goes out again now */
		if ((it[2].revents & ZMQ_POLLIN) && xpub_joined(xd->acks))
			xd->next_beat = 0;
		if ((it[3].revents & ZMQ_POLLIN) && xpub_joined(xd->pub))
			xd->stats_now = 1;
		for (i = 0; i < BATCHES_PER_WAKE && !send_backlogged(xd) &&
		    recv_batch(xd); i++)
			;
		for (i = POLL_UDP; i < n; i++) {
			if (it[i].revents & ZMQ_POLLERR)
				errqueue_fd(xd, it[i].fd);
			if (it[i].revents & (ZMQ_POLLIN | ZMQ_POLLERR))
				readable_fd(xd, it[i].fd);
		}
		dest_close_old(xd, mono_ms());
		send_flush_all(xd);
		confirm_old(xd);
		if (xd->stats_now) {
			/* a final batch: the count goes out before its ack,
			 * so whoever ends on the ack has it */
			xd->stats_now = 0;
			stats_send(xd);
		}
		ack_publish(xd, mono_ms());
	}
}

/*
 * At exit the packets in flight are not waited for XD_CONFIRM_MS: the
 * errors that came (on loopback, at once) are read, a moment is left
 * for more, and the rest is taken as sent.
 */
static void
confirm_at_exit(struct exportd *xd)
{
	size_t i;

	poll(NULL, 0, EXIT_ERRORS_MS);
	for (i = 0; i < xd->n_socks; i++)
		send_errqueue(xd, xd->socks[i]);
	xd->confirm_all = 1;
}

/* SIGINT/SIGTERM: what already waits on the PULL is exported too. */
static void
drain_and_flush(struct exportd *xd)
{
	int64_t quiet = mono_ms() + DRAIN_QUIET_MS, end;

	while (mono_ms() < quiet) {
		zmq_pollitem_t it = { xd->pull, 0, ZMQ_POLLIN, 0 };

		if (send_backlogged(xd)) { /* pace: let the queues go down */
			send_flush_all(xd);
			poll(NULL, 0, 1);
			quiet = mono_ms() + DRAIN_QUIET_MS;
			continue;
		}
		if (zmq_poll(&it, 1, ack_senders_ended(xd) ? 0 : 20) > 0 &&
		    recv_batch(xd))
			quiet = mono_ms() + DRAIN_QUIET_MS;
		else if (ack_senders_ended(xd))
			break; /* nothing waits, and nothing more comes */
		send_flush_all(xd);
		ack_publish(xd, mono_ms());
	}
	dest_close_all(xd, -1);
	end = mono_ms() + EXIT_SEND_MS;
	do {
		send_flush_all(xd);
		if (!send_pending(xd))
			break;
		poll(NULL, 0, send_next_us(xd) != INT64_MAX ? 1 : 10);
	} while (mono_ms() < end);
	xd->next_beat = 0;
	ack_publish(xd, mono_ms());
	confirm_at_exit(xd);
	stats_send(xd);
}

/*
 * Keeps only what its sockets may need, before any thread exists
 * (lib/privs.c): a source port or a tcp:// endpoint below 1024, and
 * SO_BINDTODEVICE to a vpn_instance (CAP_NET_RAW before Linux 5.7).
 */
static void
drop_privs(void)
{
	char err[256];

	if (privs_drop((1ULL << CAP_NET_BIND_SERVICE) | (1ULL << CAP_NET_RAW), err, sizeof(err)) == -1)
		log_warnx("cannot drop privileges: %s", err);
	else
		log_info("capabilities: only net_bind_service and net_raw kept, no new privileges");
}

int
main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	struct exportd xd;
	const char *rflag = NULL, *file = NULL;
	char run_dir[256];
	struct sigaction sa;
	int ch;

	memset(&xd, 0, sizeof(xd));
	log_init("exportd", getenv("NETSTREAMD_DEBUG") != NULL);
	monitor_enable();
	while ((ch = getopt_long(argc, argv, "c:r:hV", longopts, NULL)) !=
	    -1) {
		if (ch == 'c')
			file = optarg;
		else if (ch == 'r')
			rflag = optarg;
		else if (ch == 'V') {
			printf("exportd (netstreamd) %s\n", NS_VERSION);
			return 0;
		} else
			usage(ch == 'h' ? 0 : 2);
	}
	if (optind != argc)
		usage(2);
	/*
	 * while it is the only thread (lib/privs.c): libzmq's threads and
	 * the socket monitors come later and inherit the drop; every file,
	 * its config as its state, is then opened as its owner lets
	 */
	drop_privs();
	rflag = conf_daemon_run_dir(file, rflag, run_dir, sizeof(run_dir));
	bus_endpoints_init(&xd.ep, bus_run_dir(rflag));
	params_default(&xd.prm);
	if (wake_open() == -1)
		fatal("pipe");
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	/* no file of its own to reload (the plan comes from cfgd): a hangup
	 * or a reload sent to the whole group must not lose what it holds */
	signal(SIGHUP, SIG_IGN);

	open_bus(&xd);
	state_open(&xd);
	xd.instance = ho_random64();
	fetch_plan(&xd);
	log_info("pulling flows on %s", xd.ep.flows);
	run(&xd);
	log_info("exiting: exporting what is left");
	drain_and_flush(&xd);
	dest_free_all(&xd);
	send_free_all(&xd);
	state_close(&xd);
	zmq_close(xd.pull);
	zmq_close(xd.sub);
	zmq_close(xd.pub);
	zmq_close(xd.acks);
	zmq_ctx_term(xd.ctx);
	return 0;
}
