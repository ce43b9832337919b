/*
 * devwatch.c: live devices that come and go. sampled listens to the
 * kernel's link messages (rtnetlink, RTMGRP_LINK, on a raw NETLINK_ROUTE
 * socket) and, on each, looks at its live captures again: a device that
 * went away (deleted, renamed, or another device now has its name) is
 * read to its end, its flows are aged (forced) and handed over, and its
 * capture waits; a device that is there now is opened. So a device
 * missing when the plan came, hot-plugged, renamed to the configured
 * name, a VLAN or PPP device made later, is captured without a commit.
 * The packet sockets are opened after the privileges are dropped: sampled
 * keeps CAP_NET_RAW (privs.c) for this.
 */
#include <errno.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <net/if.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "log.h"
#include "sampled.h"
#include "util.h"

int
devwatch_open(char *err, size_t errlen)
{
	struct sockaddr_nl sa = { .nl_family = AF_NETLINK,
		.nl_groups = RTMGRP_LINK };
	int fd, rcv = 1 << 20;

	if ((fd = socket(AF_NETLINK, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC,
	    NETLINK_ROUTE)) == -1) {
		snprintf(err, errlen, "netlink socket: %s", strerror(errno));
		return -1;
	}
	/* a burst of link messages (many VLANs made at once) fits */
	(void)setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcv, sizeof(rcv));
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) == -1) {
		snprintf(err, errlen, "netlink bind (RTMGRP_LINK): %s",
		    strerror(errno));
		close(fd);
		return -1;
	}
	return fd;
}

/*
 * Reads what waits on the socket. 1 when a device was made, changed or
 * deleted (or messages were lost: the socket's buffer overflowed, so any
 * of those may have happened), 0 otherwise. Which device it was does not
 * matter: every live capture is looked at again, by name.
 */
int
devwatch_read(int fd)
{
	char buf[16384] __attribute__((aligned(NLMSG_ALIGNTO)));
	int changed = 0;
	ssize_t n;

	for (;;) {
		const struct nlmsghdr *h;

		n = recv(fd, buf, sizeof(buf), MSG_DONTWAIT);
		if (n == -1 && errno == ENOBUFS) {
			changed = 1;
			continue;
		}
		if (n <= 0)
			break;
		for (h = (const struct nlmsghdr *)(void *)buf;
		    NLMSG_OK(h, (size_t)n); h = NLMSG_NEXT(h, n))
			if (h->nlmsg_type == RTM_NEWLINK ||
			    h->nlmsg_type == RTM_DELLINK)
				changed = 1;
	}
	return changed;
}

/*
 * c's device went away: what the ring still holds is counted, the flows
 * of its interface are aged (forced) and handed over, the socket closed.
 */
static void
stop(struct slot *s, struct capture *c, int still_there)
{
	int bidx[2] = { c->bidx, c->bidx_out }, k;
	uint64_t flows = 0;

	clock_live(s); /* the ring's packets are timed from now */
	live_read(s, c, INT32_MAX);
	s->dropped += live_drops(c);
	for (k = 0; k < 2; k++) {
		struct binding *b = bidx[k] >= 0 && (size_t)bidx[k] < s->nb ?
		    &s->b[bidx[k]] : NULL;

		if (b == NULL || b->cache == NULL)
			continue;
		flows += b->cache->used;
		cache_flush(s, b, END_FORCED);
	}
	push_all(s, 0);
	if (s->role == SLOT_WORKER)
		wk_fanout_forget(s->wk, c->source);
	live_close(c);
	c->stops++;
	/* logged once all states have stopped it (devwatch_log_stops) */
	c->gone = still_there ? 2 : 1;
	c->gone_flows = flows;
	c->state = NETSTREAM__CAPTURE_STATE_KIND__CAPTURE_WAITING;
	ns_strlcpy(c->why, strerror(ENODEV), sizeof(c->why));
	c->since = now_ms();
}

/* c's device is there: opened, as the plan opened it. */
static void
start(struct slot *s, struct capture *c)
{
	char err[256];

	if (live_open(c, c->source, c->buffer_kb, err, sizeof(err)) == 0 &&
	    (s->role != SLOT_WORKER ||
	    wk_fanout_join(s->wk, c, s->plan, err, sizeof(err)) == 0)) {
		live_directions(c);
		c->starts++;
		capture_state(s, c,
		    NETSTREAM__CAPTURE_STATE_KIND__CAPTURE_CAPTURING, NULL);
		return;
	}
	live_close(c);
	capture_state(s, c, if_nametoindex(c->source) == 0 ?
	    NETSTREAM__CAPTURE_STATE_KIND__CAPTURE_WAITING :
	    NETSTREAM__CAPTURE_STATE_KIND__CAPTURE_FAILED, err);
}

/*
 * The live captures of slot state s, looked at again: in DW_STOP those
 * whose device went away stop, in DW_START those whose device is there
 * open. Every state stops before any starts (with workers, a device
 * deleted and made again between two looks must get one new fanout
 * group, not one per worker).
 */
void
devwatch_rescan(struct slot *s, enum devwatch_phase phase)
{
	size_t i;

	if (s->plan == NULL)
		return;
	for (i = 0; i < s->ncap; i++) {
		struct capture *c = &s->cap[i];
		int idx;

		if (c->is_file)
			continue;
		idx = (int)if_nametoindex(c->source);
		if (phase == DW_STOP && c->lv != NULL &&
		    idx != live_ifindex(c))
			stop(s, c, idx != 0);
		else if (phase == DW_START && c->lv == NULL && idx != 0)
			start(s, c);
	}
}

/*
 * One line per capture that stopped, with the flows it aged in every
 * state (sts: the slot's, or each worker's: theirs are alike, capture by
 * capture).
 */
void
devwatch_log_stops(struct slot **sts, size_t n)
{
	size_t i, k;

	for (i = 0; n > 0 && i < sts[0]->ncap; i++) {
		struct capture *c = &sts[0]->cap[i];
		uint64_t flows = 0;
		int how = c->gone;

		if (how == 0)
			continue;
		for (k = 0; k < n; k++)
			if (i < sts[k]->ncap) {
				flows += sts[k]->cap[i].gone_flows;
				sts[k]->cap[i].gone = 0;
			}
		log_warnx("capture %s (%s): stopped: the device %s (%llu flows "
		    "aged, forced); waiting for it", c->name, c->source,
		    how == 2 ? "was replaced by another of its name" :
		    "went away", (unsigned long long)flows);
	}
}

/* A link message came: the slot's live captures (or its workers'). */
void
devwatch_apply(struct slot *s)
{
	if (s->role == SLOT_ALL) {
		devwatch_rescan(s, DW_STOP);
		devwatch_log_stops(&s, 1);
		devwatch_rescan(s, DW_START);
	}
	wk_rescan(s);
}
