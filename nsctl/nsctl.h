/* nsctl.h: the operator's command: shared options and the control client. */
#ifndef NSCTL_H
#define NSCTL_H

#include "bus.h"
#include "netstream.pb-c.h"

#define EXIT_INVALID 1
#define EXIT_USAGE 2
#define EXIT_UNREACHABLE 3

struct nsctl {
	const char *config; /* -c, default etc/netstreamd.conf */
	struct bus_endpoints ep;
	int timeout_ms;
};

/* nsctl.c */
#define NSCTL_QUIET_MS 3000 /* a listening verb heard nothing: ask cfgd */
int nsctl_request(struct nsctl *n, Netstream__ControlRequest *rq,
    Netstream__Envelope **reply);
int nsctl_ping(struct nsctl *n);
int nsctl_quiet(struct nsctl *n, int64_t *heard);
_Noreturn void nsctl_usage(void);

/* config_verbs.c */
int cmd_validate(struct nsctl *n, int argc, char **argv);
int cmd_commit(struct nsctl *n, int argc, char **argv);
int cmd_show(struct nsctl *n, int argc, char **argv);
int cmd_history(struct nsctl *n, int argc, char **argv);
int cmd_diff(struct nsctl *n, int argc, char **argv);
int cmd_rollback(struct nsctl *n, int argc, char **argv);

/* vrp.c */
int cmd_vrp(struct nsctl *n, int argc, char **argv);
int vrp_display_current(struct nsctl *n, int argc, char **argv);

/* subscribe.c */
int cmd_subscribe(struct nsctl *n, int argc, char **argv);
int cmd_collect(struct nsctl *n, int argc, char **argv);

/* statsview.c */
int cmd_stats(struct nsctl *n, int argc, char **argv);
void stats_print_json(const Netstream__Stats *s);

/* display.c */
int cmd_display(struct nsctl *n, int argc, char **argv);

/* display_iface.c */
int cmd_reset(struct nsctl *n, int argc, char **argv);

/* prometheus.c */
int cmd_metrics(struct nsctl *n, int argc, char **argv);
int stats_prometheus(struct nsctl *n, int slot, long tmo_ms);

/* keygen.c */
int cmd_keygen(struct nsctl *n, int argc, char **argv);

/* group.c */
int cmd_up(struct nsctl *n, int argc, char **argv);
int cmd_run(struct nsctl *n, int argc, char **argv);

/* sockwatch.c: cfgd's sockets, made (control, plan, stats-in, stats) */
#define SOCKWATCH_EPS 4
struct sockwatch {
	const struct bus_endpoints *ep;
	int ino;       /* inotify, -1: stat() instead */
	unsigned made; /* one bit per endpoint, since the last reset */
};
void sockwatch_open(struct sockwatch *w, const struct bus_endpoints *ep);
void sockwatch_close(struct sockwatch *w);
void sockwatch_reset(struct sockwatch *w);
void sockwatch_read(struct sockwatch *w);
int sockwatch_cfgd_bound(const struct sockwatch *w);

#endif
