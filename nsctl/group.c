/*
 * group.c: `nsctl up` supervises the process group (cfgd, exportd, one
 * sampled per slot of the running plan) in the foreground: restarts what
 * dies, with backoff, follows commits that add or remove slots, and stops
 * the group cleanly. `nsctl run` does the same over capture files and
 * stops once every flow is exported, with a summary.
 */
#include <errno.h>
#include <getopt.h>
#include <libgen.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>
#include <zmq.h>

#include "conf.h"
#include "log.h"
#include "nsctl.h"
#include "plan.h"
#include "stats.h"
#include "util.h"

/* cfgd, exportd and a sampled for every slot id the validator allows */
#define MAX_CHILDREN (2 + CONF_SLOT_MAX + 1)
#define BACKOFF_MAX_MS 30000
#define READY_WAIT_MS 2000 /* sampled waits this long for exportd's sockets */
#define IDLE_WAKE_MS 1000  /* no event: the loop still runs this often */

struct child {
	char name[32];
	char slot[8]; /* "" for cfgd and exportd */
	pid_t pid;
	int wanted;
	unsigned restarts;
	int64_t next_start, started;
};

struct group {
	struct nsctl *n;
	void *pub;		 /* the group's own stats */
	uint64_t restarts[MAX_CHILDREN];
	int64_t next_stats;
	char bindir[1024];
	struct child c[MAX_CHILDREN];
	int nc;
	void *ctx, *plan_sub, *stats_sub;
	Netstream__Plan *plan;
	/* run: the latest stats of each process */
	Netstream__Stats *st[MAX_CHILDREN];
	int run_mode;
	unsigned exportd_restarts;
	/*
	 * Events instead of sleeps: a child's death and a stop signal
	 * write to a pipe (wake_signal); sockwatch.c says when cfgd has
	 * bound; exportd's first stats say it listens.
	 */
	struct sockwatch sw;
	int exportd_heard; /* stats from the exportd last started */
	/* run: batches the ended captures wait on, and since when (mono
	 * ms) that number has not moved */
	uint64_t unacked;
	int64_t unacked_since;
};

static volatile sig_atomic_t stop_flag, hup_flag;

static void
on_signal(int sig)
{
	if (sig == SIGHUP)
		hup_flag = 1;
	else if (sig != SIGCHLD)
		stop_flag = 1;
	wake_signal();
}

/*
 * Sleeps until an event: a child died, a signal, a socket was made, a
 * message on one of socks (n of them), or ms passed. Returns at once
 * when a wake is already pending.
 */
static void
wait_event(struct group *g, void **socks, int n, long ms)
{
	zmq_pollitem_t it[4];
	int k = 0, i;

	for (i = 0; i < n && i < 2; i++)
		it[k++] = (zmq_pollitem_t){ socks[i], 0, ZMQ_POLLIN, 0 };
	it[k++] = (zmq_pollitem_t){ NULL, wake_open(), ZMQ_POLLIN, 0 };
	if (g->sw.ino != -1)
		it[k++] = (zmq_pollitem_t){ NULL, g->sw.ino, ZMQ_POLLIN, 0 };
	if (!stop_flag)
		zmq_poll(it, k, ms < 0 ? 0 : ms);
	wake_drain();
	sockwatch_read(&g->sw);
}

static struct child *
child_find(struct group *g, const char *name, const char *slot)
{
	int i;

	for (i = 0; i < g->nc; i++)
		if (strcmp(g->c[i].name, name) == 0 &&
		    strcmp(g->c[i].slot, slot) == 0)
			return &g->c[i];
	return NULL;
}

static struct child *
child_want(struct group *g, const char *name, const char *slot)
{
	struct child *c = child_find(g, name, slot);

	if (c == NULL && g->nc < MAX_CHILDREN) {
		c = &g->c[g->nc++];
		memset(c, 0, sizeof(*c));
		ns_strlcpy(c->name, name, sizeof(c->name));
		ns_strlcpy(c->slot, slot, sizeof(c->slot));
	}
	if (c != NULL)
		c->wanted = 1;
	return c;
}

/*
 * SIGHUP (a reload, or the terminal gone): handed to cfgd, which commits
 * its file again; the group goes on.
 */
static void
pass_hup(struct group *g)
{
	struct child *c = child_find(g, "cfgd", "");

	if (!hup_flag)
		return;
	hup_flag = 0;
	if (c == NULL || c->pid <= 0) {
		log_warnx("SIGHUP: cfgd is not running: not handed on");
		return;
	}
	log_info("SIGHUP: handed to cfgd (pid %d)", (int)c->pid);
	kill(c->pid, SIGHUP);
}

/*
 * Where the daemons are: beside nsctl (the build tree), or, installed,
 * nsctl in PREFIX/bin and they in PREFIX/sbin.
 */
static void
daemon_dir(const char *nsctl_dir, char *out, size_t len)
{
	char path[1100];

	snprintf(path, sizeof(path), "%s/cfgd", nsctl_dir);
	if (access(path, X_OK) == -1) {
		snprintf(path, sizeof(path), "%s/../sbin/cfgd", nsctl_dir);
		if (access(path, X_OK) == 0) {
			snprintf(out, len, "%s/../sbin", nsctl_dir);
			return;
		}
	}
	ns_strlcpy(out, nsctl_dir, len);
}

static void
child_start(struct group *g, struct child *c)
{
	char path[1200];
	pid_t pid, parent = getpid();

	snprintf(path, sizeof(path), "%s/%s", g->bindir, c->name);
	if ((pid = fork()) == -1) {
		log_warn("fork %s", c->name);
		return;
	}
	if (pid == 0) {
		setpgid(0, 0);
		/* a supervisor killed outright takes its group down cleanly:
		 * no orphan keeps the bus, and flows are aged and exported */
		prctl(PR_SET_PDEATHSIG, SIGTERM);
		if (getppid() != parent)
			_exit(0);
		signal(SIGPIPE, SIG_DFL); /* an ignored signal outlives exec */
		if (strcmp(c->name, "sampled") == 0)
			execl(path, "sampled", "--slot", c->slot, "-r",
			    g->n->ep.run_dir, (char *)NULL);
		else if (strcmp(c->name, "cfgd") == 0)
			execl(path, "cfgd", "-r", g->n->ep.run_dir, "-c",
			    g->n->config, (char *)NULL);
		else
			execl(path, c->name, "-r", g->n->ep.run_dir,
			    (char *)NULL);
		fprintf(stderr, "nsctl: exec %s: %s\n", path, strerror(errno));
		_exit(127);
	}
	c->pid = pid;
	c->started = mono_ms();
	if (strcmp(c->name, "cfgd") == 0)
		sockwatch_reset(&g->sw);
	if (strcmp(c->name, "exportd") == 0)
		g->exportd_heard = 0;
	log_info("started %s%s%s (pid %d)", c->name, c->slot[0] ? " --slot " : "",
	    c->slot, (int)pid);
}

/* Logs why a child died and schedules its restart with backoff. */
static void
reap(struct group *g)
{
	int status, i;
	pid_t pid;

	while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
		for (i = 0; i < g->nc; i++) {
			struct child *c = &g->c[i];
			int64_t delay;

			if (c->pid != pid)
				continue;
			c->pid = 0;
			if (WIFSIGNALED(status))
				log_warnx("%s%s%s died: killed by signal %d",
				    c->name, c->slot[0] ? " slot " : "", c->slot,
				    WTERMSIG(status));
			else
				log_warnx("%s%s%s exited with status %d", c->name,
				    c->slot[0] ? " slot " : "", c->slot,
				    WEXITSTATUS(status));
			/*
			 * What its cache held is not told here: the sampled
			 * that takes its place counts it from the state the
			 * dead one left (resume.h), exactly, and says it, once.
			 * The last stats sample was an estimate, and a second
			 * account that could only contradict that one.
			 */
			if (strcmp(c->name, "sampled") == 0 &&
			    (WIFSIGNALED(status) || WEXITSTATUS(status) != 0)) {
				netstream__stats__free_unpacked(g->st[i], NULL);
				g->st[i] = NULL;
				if (!c->wanted || stop_flag)
					log_warnx("sampled slot %s is not "
					    "restarted: the next sampled of slot "
					    "%s will say what it held", c->slot,
					    c->slot);
			}
			if (!c->wanted || stop_flag)
				break;
			g->restarts[i]++;
			if (strcmp(c->name, "exportd") == 0)
				g->exportd_restarts++;
			/* a child that ran a while starts again at once */
			if (mono_ms() - c->started > 10000)
				c->restarts = 0;
			delay = c->restarts ? 500LL << (c->restarts < 6 ?
			    c->restarts : 6) : 200;
			if (delay > BACKOFF_MAX_MS)
				delay = BACKOFF_MAX_MS;
			c->restarts++;
			c->next_start = mono_ms() + delay;
			log_info("restarting %s in %lld ms", c->name,
			    (long long)delay);
		}
	}
}

/*
 * exportd listens: its first stats come after it bound its sockets (a
 * socket file alone does not say so: bind() makes it before listen()).
 */
static int
exportd_ready(struct group *g)
{
	struct child *x = child_find(g, "exportd", "");

	if (x == NULL || g->exportd_heard)
		return 1;
	if (x->started == 0)
		return 0; /* it starts in this round, after the sampled */
	/* not waited on for ever: sampled's sockets reconnect by themselves */
	return mono_ms() - x->started >= READY_WAIT_MS;
}

/*
 * A sampled starts once exportd listens: its batches and acks then
 * connect at once, not after ZeroMQ's reconnect interval (100 ms).
 */
static int
may_start(struct group *g, const struct child *c)
{
	return strcmp(c->name, "sampled") != 0 || exportd_ready(g);
}

/* ms until the next child is due (IDLE_WAKE_MS at most). */
static long
next_due(struct group *g)
{
	int64_t t = mono_ms() + IDLE_WAKE_MS, now = mono_ms();
	int i;

	for (i = 0; i < g->nc; i++) {
		struct child *c = &g->c[i];

		if (!c->wanted || c->pid != 0)
			continue;
		if (c->next_start < t && c->next_start > now)
			t = c->next_start;
		else if (c->next_start <= now && !may_start(g, c)) {
			/* waits for exportd: its socket, or the bound on it */
			struct child *x = child_find(g, "exportd", "");

			if (x != NULL && x->started != 0 &&
			    x->started + READY_WAIT_MS < t)
				t = x->started + READY_WAIT_MS;
		}
	}
	if (g->pub != NULL && g->next_stats < t)
		t = g->next_stats;
	return t > now ? (long)(t - now) : 0;
}

static void
start_due(struct group *g)
{
	int i;

	for (i = 0; i < g->nc; i++) {
		struct child *c = &g->c[i];

		if (c->wanted && c->pid == 0 && mono_ms() >= c->next_start &&
		    !stop_flag && may_start(g, c))
			child_start(g, c);
		else if (!c->wanted && c->pid > 0 && c->next_start >= 0) {
			log_info("stopping %s slot %s (removed from the plan)",
			    c->name, c->slot);
			kill(c->pid, SIGTERM);
			c->next_start = -1;
		}
	}
}

/* One sampled per slot of the plan but remote ones; others are stopped. */
static void
follow_plan(struct group *g, Netstream__Plan *p)
{
	char slot[8];
	size_t i;
	int k;
	char why[256];

	if (plan_check(p, why, sizeof(why)) != PLAN_OK) {
		/* no sampled is started or stopped on its word */
		log_warnx("plan generation %llu refused: %s",
		    (unsigned long long)p->generation, why);
		netstream__plan__free_unpacked(p, NULL);
		return;
	}
	if (g->plan != NULL && p->generation <= g->plan->generation) {
		netstream__plan__free_unpacked(p, NULL);
		return;
	}
	if (g->plan)
		netstream__plan__free_unpacked(g->plan, NULL);
	g->plan = p;
	for (k = 0; k < g->nc; k++)
		if (strcmp(g->c[k].name, "sampled") == 0)
			g->c[k].wanted = 0;
	for (i = 0; i < p->n_slots; i++) {
		/* its sampled runs on its own host (netstreamd-sampled@) */
		if (p->slots[i]->remote) {
			log_info("slot %u is remote: no sampled started here",
			    p->slots[i]->id);
			continue;
		}
		snprintf(slot, sizeof(slot), "%u", p->slots[i]->id);
		child_want(g, "sampled", slot);
	}
}

/*
 * Waits until cfgd has bound its sockets: told by inotify (a socket file
 * left by an earlier cfgd is not taken for it), by stat() without
 * inotify. -1 when cfgd died first or ms passed.
 */
static int
wait_cfgd(struct group *g, struct child *c, int ms)
{
	int64_t end = mono_ms() + ms;

	while (mono_ms() < end && !stop_flag) {
		/* all of them: a SUB that connects before its PUB binds
		 * retries only after ZeroMQ's reconnect interval, and misses
		 * what is published meanwhile */
		if (sockwatch_cfgd_bound(&g->sw))
			return 0;
		reap(g);
		if (c->pid == 0)
			return -1;
		wait_event(g, NULL, 0, g->sw.ino == -1 ? 20 : end - mono_ms());
	}
	return -1;
}

static int
request(struct group *g, Netstream__ControlRequest *rq,
    Netstream__Envelope **env)
{
	return nsctl_request(g->n, rq, env);
}

static void open_bus(struct group *g);

/*
 * up: does the file differ from the latest revision's source text? 1
 * when it does (its number in *rev), 0 when it is the same, -1 (said)
 * when the file or the revision cannot be read.
 */
static int
file_differs(struct group *g, uint64_t *rev)
{
	Netstream__ControlRequest rq = NETSTREAM__CONTROL_REQUEST__INIT;
	Netstream__Envelope *env;
	char *text, err[512];
	size_t len;
	int rc;

	if (read_file_limited(g->n->config, CONFIG_MAX_BYTES, &text, &len, err,
	    sizeof(err)) == -1) {
		fprintf(stderr, "%s: error: %s\n", g->n->config, err);
		return -1;
	}
	rq.verb = NETSTREAM__VERB__SHOW;
	if (request(g, &rq, &env) != 0) {
		free(text);
		return -1;
	}
	if (env->reply->status != 0) {
		fprintf(stderr, "nsctl: %s", env->reply->text);
		bus_free(env);
		free(text);
		return -1;
	}
	*rev = env->reply->revision;
	rc = strlen(env->reply->text) != len ||
	    memcmp(env->reply->text, text, len) != 0;
	bus_free(env);
	free(text);
	return rc;
}

/*
 * Commits the file: always for run; for up when nothing is committed,
 * or when the file is not the latest revision's text (the operator
 * named the file to run: running another text would be a lie). A file
 * that does not validate starts nothing.
 */
static int
bootstrap(struct group *g, int always)
{
	Netstream__ControlRequest rq = NETSTREAM__CONTROL_REQUEST__INIT;
	Netstream__Envelope *env;
	char msg[1200];
	char *argv[] = { "commit", "-m", msg, NULL };
	uint64_t rev = 0;
	int rc, differs = 0;

	snprintf(msg, sizeof(msg), "%s", always ? "nsctl run" :
	    "nsctl up: first commit");
	rq.verb = NETSTREAM__VERB__GET_PLAN;
	if ((rc = request(g, &rq, &env)) != 0)
		return rc;
	/* cfgd answers once all its sockets listen: ours connect now, at
	 * once, not after a refused connect and ZeroMQ's reconnect interval */
	open_bus(g);
	if (env->reply->status == 0 && !always &&
	    (differs = file_differs(g, &rev)) == 0) {
		follow_plan(g, env->reply->plan);
		env->reply->plan = NULL;
		bus_free(env);
		return 0;
	}
	bus_free(env);
	if (differs == -1)
		return EXIT_INVALID;
	if (differs) {
		snprintf(msg, sizeof(msg), "nsctl up -c %s: differs from "
		    "revision %llu", g->n->config, (unsigned long long)rev);
		printf("nsctl up: %s differs from revision %llu: committing "
		    "it\n", g->n->config, (unsigned long long)rev);
	}
	optind = 0;
	if ((rc = cmd_commit(g->n, 3, argv)) != 0) {
		fprintf(stderr, "nsctl %s: %s not committed: not started%s\n",
		    always ? "run" : "up", g->n->config, differs ?
		    " (fix the file, or run the latest revision with the "
		    "file it came from: nsctl show running)" : "");
		return rc;
	}
	if ((rc = request(g, &rq, &env)) != 0)
		return rc;
	if (env->reply->status != 0) {
		bus_free(env);
		return EXIT_INVALID;
	}
	follow_plan(g, env->reply->plan);
	env->reply->plan = NULL;
	bus_free(env);
	return 0;
}

static void
keep_stats(struct group *g, Netstream__Stats *s)
{
	int i;

	for (i = 0; i < g->nc; i++) {
		char slot[8];

		snprintf(slot, sizeof(slot), "%u", s->slot);
		if (strcmp(g->c[i].name, s->process) == 0 &&
		    (g->c[i].slot[0] == '\0' || strcmp(g->c[i].slot, slot) == 0)) {
			if (g->st[i])
				netstream__stats__free_unpacked(g->st[i], NULL);
			g->st[i] = s;
			if (strcmp(s->process, "exportd") == 0 &&
			    s->pid == g->c[i].pid)
				g->exportd_heard = 1;
			log_debug("stats of %s slot %u pid %d kept as #%d",
			    s->process, s->slot, s->pid, i);
			return;
		}
	}
	netstream__stats__free_unpacked(s, NULL);
}

static void
read_bus(struct group *g)
{
	Netstream__Envelope *env;

	while (bus_recv(g->plan_sub, BUS_MAX_CONTROL, 1, ZMQ_DONTWAIT, &env) !=
	    BUS_AGAIN) {
		if (env == NULL)
			continue;
		if (env->msg_case == NETSTREAM__ENVELOPE__MSG_PLAN) {
			follow_plan(g, env->plan);
			env->plan = NULL;
			env->msg_case = NETSTREAM__ENVELOPE__MSG__NOT_SET;
		}
		bus_free(env);
	}
	while (bus_recv(g->stats_sub, BUS_MAX_STATS, 1, ZMQ_DONTWAIT, &env) !=
	    BUS_AGAIN) {
		if (env == NULL)
			continue;
		if (env->msg_case == NETSTREAM__ENVELOPE__MSG_STATS) {
			keep_stats(g, env->stats);
			env->stats = NULL;
			env->msg_case = NETSTREAM__ENVELOPE__MSG__NOT_SET;
		}
		bus_free(env);
	}
}

static uint64_t
sum(const Netstream__Stats *s, const char *name)
{
	uint64_t v = 0;
	size_t i;

	for (i = 0; s != NULL && i < s->n_counters; i++)
		if (strcmp(s->counters[i]->name, name) == 0)
			v += s->counters[i]->value;
	return v;
}

/*
 * run: every capture ended and exportd acknowledged every batch pushed
 * (after a restart of exportd its records_in counts only what it took
 * since, so the acks, not that count, say when all is out). An ack means
 * the export packets left: sampled publishes its stats the moment the
 * last one comes, so this is known at once.
 */
/* sampled's NETSTREAMD_HANDOVER_WAIT_MS (the same rule) */
static int
handover_wait_ms(void)
{
	const char *e = getenv("NETSTREAMD_HANDOVER_WAIT_MS");
	long v = e != NULL ? strtol(e, NULL, 10) : 0;

	return v > 0 && v < 3600000 ? (int)v : 15000;
}

/* ... and 5 s more, for sampled to stop */
static int
sampled_stop_ms(void)
{
	return handover_wait_ms() + 5000;
}

/*
 * run: every capture ended and exportd acknowledged every batch. Or the
 * captures ended and the batches still unacknowledged have not moved for
 * the hand-over wait: then the run ends all the same (sampled counts
 * what stayed unconfirmed), it never waits for ever on exportd.
 */
static int
run_done(struct group *g, uint64_t *pushed, uint64_t *in)
{
	uint64_t unacked = 0;
	int i, slots = 0;

	*pushed = 0;
	*in = 0;
	for (i = 0; i < g->nc; i++) {
		if (strcmp(g->c[i].name, "sampled") == 0 && g->c[i].wanted) {
			if (g->st[i] == NULL ||
			    sum(g->st[i], "captures_done") == 0)
				return 0;
			unacked += sum(g->st[i], "batches_unacked");
			*pushed += sum(g->st[i], "records_pushed");
			slots++;
		}
		if (strcmp(g->c[i].name, "exportd") == 0)
			*in = sum(g->st[i], "records_in");
	}
	if (slots == 0)
		return 0;
	if (unacked == 0)
		return 1;
	if (unacked != g->unacked || g->unacked_since == 0) {
		g->unacked = unacked;
		g->unacked_since = mono_ms();
		return 0;
	}
	if (mono_ms() - g->unacked_since < handover_wait_ms())
		return 0;
	log_warnx("exportd acknowledged none of %llu batches for %d s: "
	    "stopping", (unsigned long long)unacked, handover_wait_ms() / 1000);
	return 1;
}

static void
stop_all(struct group *g, const char *name, int ms)
{
	int64_t end = mono_ms() + ms;
	struct pollfd pfd = { wake_open(), POLLIN, 0 };
	int i, alive;

	for (i = 0; i < g->nc; i++)
		if (strcmp(g->c[i].name, name) == 0 && g->c[i].pid > 0) {
			g->c[i].wanted = 0;
			kill(g->c[i].pid, SIGTERM);
		}
	for (;;) {
		reap(g);
		for (alive = 0, i = 0; i < g->nc; i++)
			if (strcmp(g->c[i].name, name) == 0 && g->c[i].pid > 0)
				alive = 1;
		if (!alive || mono_ms() >= end)
			break;
		/* woken by SIGCHLD */
		poll(&pfd, 1, (int)(end - mono_ms()));
		wake_drain();
	}
	for (i = 0; i < g->nc; i++)
		if (strcmp(g->c[i].name, name) == 0 && g->c[i].pid > 0) {
			log_warnx("%s did not stop in time: killed", name);
			kill(g->c[i].pid, SIGKILL);
		}
	reap(g);
}

static void
summary(struct group *g, uint64_t pushed, uint64_t in)
{
	int i;

	printf("\nnsctl run: summary\n");
	printf("  %-8s %-4s %12s %12s %12s %12s %10s\n", "process", "slot",
	    "packets", "ipv6", "sampled", "flows", "lost");
	for (i = 0; i < g->nc; i++) {
		Netstream__Stats *s = g->st[i];

		if (s == NULL || strcmp(g->c[i].name, "sampled") != 0)
			continue;
		printf("  %-8s %-4s %12llu %12llu %12llu %12llu %10llu\n",
		    "sampled", g->c[i].slot,
		    (unsigned long long)sum(s, "packets_received"),
		    (unsigned long long)sum(s, "packets_ipv6"),
		    (unsigned long long)sum(s, "packets_sampled"),
		    (unsigned long long)sum(s, "records_pushed"),
		    (unsigned long long)(sum(s, "records_lost") +
		    sum(s, "restart_lost_flows")));
	}
	for (i = 0; i < g->nc; i++)
		if (strcmp(g->c[i].name, "exportd") == 0 && g->st[i])
			printf("  %-8s %-4s flows received %llu of %llu%s, "
			    "export packets %llu sent, %llu failed, send "
			    "errors %llu, times clamped %llu\n",
			    "exportd", "", (unsigned long long)in,
			    (unsigned long long)pushed,
			    g->exportd_restarts ? " (since its last restart)" :
			    "",
			    (unsigned long long)sum(g->st[i], "packets"),
			    (unsigned long long)sum(g->st[i], "failed_packets"),
			    (unsigned long long)sum(g->st[i], "send_errors"),
			    (unsigned long long)sum(g->st[i], "times_clamped"));
}

static int
lost(struct group *g)
{
	uint64_t l = 0;
	int i;

	/*
	 * What exportd took is not compared with what sampled pushed: it
	 * counts only since it last started, and the acks already say each
	 * batch left (a batch never acknowledged is records_unconfirmed)
	 */
	for (i = 0; i < g->nc; i++) {
		l += sum(g->st[i], "records_lost") +
		    sum(g->st[i], "records_refused") +
		    sum(g->st[i], "records_unconfirmed") +
		    sum(g->st[i], "restart_lost_flows") +
		    sum(g->st[i], "restart_lost_packets");
		if (strcmp(g->c[i].name, "exportd") == 0)
			l += sum(g->st[i], "send_errors") +
			    sum(g->st[i], "bad_batches");
	}
	return l > 0;
}

static const char *
label_of(const Netstream__Counter *c, const char *key)
{
	size_t i;

	for (i = 0; i < c->n_labels; i++)
		if (strcmp(c->labels[i]->key, key) == 0)
			return c->labels[i]->value;
	return "?";
}

/*
 * run: captures a sampled could not open or read to their end, each
 * named with why; what they held was never counted, let alone exported.
 */
static uint64_t
capture_failures(struct group *g)
{
	uint64_t n = 0;
	size_t k;
	int i;

	for (i = 0; i < g->nc; i++) {
		const Netstream__Stats *s = g->st[i];

		if (s == NULL || strcmp(g->c[i].name, "sampled") != 0)
			continue;
		n += sum(s, "capture_errors");
		for (k = 0; k < s->n_counters; k++)
			if (strcmp(s->counters[k]->name, "capture_failed") == 0)
				fprintf(stderr, "nsctl run: slot %s: capture "
				    "%s could not be read: %s\n", g->c[i].slot,
				    label_of(s->counters[k], "source"),
				    label_of(s->counters[k], "error"));
	}
	return n;
}

/* run: batches exportd acknowledged as refused, each reason named. */
static void
refusals(struct group *g)
{
	size_t k;
	int i;

	for (i = 0; i < g->nc; i++) {
		const Netstream__Stats *s = g->st[i];

		if (s == NULL || strcmp(g->c[i].name, "sampled") != 0)
			continue;
		for (k = 0; k < s->n_counters; k++)
			if (strcmp(s->counters[k]->name,
			    "records_refused") == 0 && s->counters[k]->value)
				printf("nsctl run: slot %s: exportd refused "
				    "%llu flow records (%s)\n", g->c[i].slot,
				    (unsigned long long)s->counters[k]->value,
				    label_of(s->counters[k], "reason"));
	}
}

/*
 * The supervisor's own counters: restarts. What a dead sampled held is
 * the next one's restart_lost_packets and restart_lost_flows.
 */
static void
publish_group(struct group *g)
{
	Netstream__Stats st;
	int i;

	if (g->pub == NULL || mono_ms() < g->next_stats)
		return;
	g->next_stats = mono_ms() + 1000;
	stats_begin(&st, "nsctl", 0, g->plan ? g->plan->generation : 0);
	for (i = 0; i < g->nc; i++) {
		stats_add(&st, "restarts", g->restarts[i], "process",
		    g->c[i].name, "slot", g->c[i].slot);
	}
	stats_publish(g->pub, &st);
	stats_clear(&st);
}

static void
open_bus(struct group *g)
{
	g->ctx = zmq_ctx_new();
	g->plan_sub = bus_socket(g->ctx, ZMQ_SUB, BUS_MAX_CONTROL);
	zmq_setsockopt(g->plan_sub, ZMQ_SUBSCRIBE, "plan", 4);
	bus_connect(g->plan_sub, g->n->ep.plan);
	g->pub = bus_socket(g->ctx, ZMQ_PUB, 0);
	bus_connect(g->pub, g->n->ep.stats_in);
	g->stats_sub = bus_socket(g->ctx, ZMQ_SUB, BUS_MAX_STATS);
	zmq_setsockopt(g->stats_sub, ZMQ_SUBSCRIBE, "stats", 5);
	bus_connect(g->stats_sub, g->n->ep.stats);
}

static int
group_main(struct nsctl *n, int run_mode)
{
	static struct group g;
	struct sigaction sa;
	char exe[1024], err[256];
	ssize_t len;
	uint64_t pushed = 0, in = 0;
	struct child *c;
	int rc = 0, i;

	memset(&g, 0, sizeof(g));
	g.n = n;
	g.run_mode = run_mode;
	/* to a file or a pipe too, each line as it comes (warnings first) */
	setvbuf(stdout, NULL, _IOLBF, 0);
	if ((len = readlink("/proc/self/exe", exe, sizeof(exe) - 1)) <= 0)
		fatal("readlink /proc/self/exe");
	exe[len] = '\0';
	daemon_dir(dirname(exe), g.bindir, sizeof(g.bindir));
	if (mkdir_private(n->ep.run_dir, err, sizeof(err)) == -1) {
		fprintf(stderr, "nsctl: %s\n", err);
		return EXIT_INVALID;
	}
	if (wake_open() == -1)
		fatal("pipe");
	sockwatch_open(&g.sw, &n->ep);
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sa.sa_flags = SA_RESTART;
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGCHLD, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	/* stdout a closed pipe: the group goes on (child_start gives the
	 * children the default action back; each daemon sets its own) */
	signal(SIGPIPE, SIG_IGN);
	log_init("nsctl", getenv("NETSTREAMD_DEBUG") != NULL);
	child_want(&g, "cfgd", "");
	child_start(&g, &g.c[0]);
	if (wait_cfgd(&g, &g.c[0], 10000) == -1) {
		fprintf(stderr, "nsctl: cfgd did not come up\n");
		rc = EXIT_UNREACHABLE;
		goto out;
	}
	if ((rc = bootstrap(&g, run_mode)) != 0)
		goto out;
	child_want(&g, "exportd", "");
	while (!stop_flag) {
		void *socks[2] = { g.plan_sub, g.stats_sub };

		/* the latest stats first: a child that died is judged by them */
		read_bus(&g);
		reap(&g);
		pass_hup(&g);
		start_due(&g);
		publish_group(&g);
		if (run_mode && run_done(&g, &pushed, &in))
			break;
		wait_event(&g, socks, 2, next_due(&g));
	}
	log_info("stopping the group");
	/* sampled waits up to its hand-over wait for exportd's last acks,
	 * then says what stayed unacknowledged: it is not cut short */
	stop_all(&g, "sampled", sampled_stop_ms());
	read_bus(&g);
	stop_all(&g, "exportd", 15000);
	read_bus(&g); /* exportd's count after its drain, if it came by now */
	/*
	 * cfgd only sets a flag on SIGTERM: one that comes just before its
	 * poll is seen when the poll times out (200 ms). Letting go of our
	 * stats subscription after the signal wakes that poll (its XPUB
	 * gets the unsubscription), so it sees the flag at once.
	 */
	if ((c = child_find(&g, "cfgd", "")) != NULL && c->pid > 0)
		kill(c->pid, SIGTERM);
	if (g.stats_sub != NULL) {
		zmq_close(g.stats_sub);
		g.stats_sub = NULL;
	}
	stop_all(&g, "cfgd", 5000);
	if (run_mode) {
		/* exportd's count after it drained, against what was pushed */
		for (i = 0; i < g.nc; i++)
			if (strcmp(g.c[i].name, "exportd") == 0 && g.st[i])
				in = sum(g.st[i], "records_in");
		summary(&g, pushed, in);
		refusals(&g);
		if (capture_failures(&g) > 0) {
			rc = EXIT_INVALID;
			printf("nsctl run: CAPTURES COULD NOT BE READ (see "
			    "above)\n");
		} else {
			rc = lost(&g) ? EXIT_INVALID : 0;
			printf("nsctl run: %s\n", rc ? "FLOWS WERE LOST" :
			    "every flow was exported");
		}
	}
out:
	for (i = 0; i < g.nc; i++) {
		if (g.c[i].pid > 0)
			kill(g.c[i].pid, SIGKILL);
		if (g.st[i])
			netstream__stats__free_unpacked(g.st[i], NULL);
	}
	reap(&g);
	if (g.plan)
		netstream__plan__free_unpacked(g.plan, NULL);
	if (g.ctx) {
		zmq_close(g.plan_sub);
		if (g.stats_sub != NULL)
			zmq_close(g.stats_sub);
		zmq_close(g.pub);
		zmq_ctx_term(g.ctx);
	}
	sockwatch_close(&g.sw);
	return rc;
}

static void
group_opts(struct nsctl *n, int argc, char **argv)
{
	int ch;

	while ((ch = getopt(argc, argv, "c:")) != -1) {
		if (ch != 'c')
			nsctl_usage();
		n->config = optarg;
	}
	if (optind != argc)
		nsctl_usage();
}

int
cmd_up(struct nsctl *n, int argc, char **argv)
{
	group_opts(n, argc, argv);
	return group_main(n, 0);
}

int
cmd_run(struct nsctl *n, int argc, char **argv)
{
	group_opts(n, argc, argv);
	return group_main(n, 1);
}
