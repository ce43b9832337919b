/*
 * cfgd: the control plane. Stores committed revisions, publishes the
 * effective plan, answers nsctl, and runs the stats proxy. It reads the
 * config file for run_dir and database at start, and commits it on
 * SIGHUP; a plan comes from a commit or from the latest stored revision.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <linux/capability.h>
#include <libgen.h>
#include <signal.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zmq.h>

#include "cfgd.h"
#include "conf.h"
#include "log.h"
#include "monitor.h"
#include "privs.h"
#include "util.h"
#include "paths.h"

#define REPUBLISH_MS 2000

static volatile sig_atomic_t quit, reload;

static void
on_signal(int sig)
{
	if (sig == SIGHUP)
		reload = 1;
	else
		quit = 1;
	wake_signal(); /* ends the poll it may have come just before */
}

/* -h/--help: to stdout, exit 0; a bad command line: to stderr, exit 2 */
static _Noreturn void
usage(int code)
{
	fprintf(code ? stderr : stdout,
	    "usage: cfgd [-c FILE] [-r RUN_DIR] [-d DATABASE]\n"
	    "  -c FILE      the config nsctl commits (its run_dir, database,\n"
	    "               endpoints); SIGHUP commits it again\n"
	    "  -r RUN_DIR   the bus sockets (default /run/netstreamd, or\n"
	    "               NETSTREAMD_RUN_DIR)\n"
	    "  -d DATABASE  the SQLite revisions (default\n"
	    "               /var/lib/netstreamd/config.db)\n"
	    "  -V, --version  the version\n"
	    "  -h, --help   this help\n"
	    "See cfgd(8).\n");
	exit(code);
}

static void
open_store(struct cfgd *c, const char *database)
{
	char err[1024], dir[1024];
	struct stat st;

	/*
	 * a missing directory is made private; an existing one is left as
	 * it is (mkdir_private would chmod it 0700: /tmp, for -d /tmp/x.db)
	 */
	ns_strlcpy(dir, database, sizeof(dir));
	if (stat(dirname(dir), &st) == -1 &&
	    mkdir_private(dir, err, sizeof(err)) == -1)
		fatalx("database directory: %s", err);
	if (store_open(&c->st, database, err, sizeof(err)) == -1)
		fatalx("database: %s", err);
}

/* The latest revision is what runs after a restart. */
static void
load_latest(struct cfgd *c)
{
	uint64_t rev;
	char err[1024];

	if (store_latest(&c->st, &rev, err, sizeof(err)) == -1)
		fatalx("database: %s", err);
	if (rev == 0) {
		log_info("no revision committed yet: waiting for nsctl commit");
		return;
	}
	if (store_load(&c->st, rev, &c->plan, NULL, err, sizeof(err)) == -1)
		fatalx("%s", err);
	if (c->plan->generation < c->gen_high) {
		/* the database went back (deleted, restored): the bus won't */
		log_warnx("revision %llu has generation %llu, but generation "
		    "%llu was published here before: published as %llu",
		    (unsigned long long)rev,
		    (unsigned long long)c->plan->generation,
		    (unsigned long long)c->gen_high,
		    (unsigned long long)c->gen_high + 1);
		c->plan->generation = c->gen_high + 1;
	}
	if (cfgd_reserve_generation(c, c->plan->generation, err,
	    sizeof(err)) == -1)
		fatalx("%s", err);
	log_info("running revision %llu", (unsigned long long)rev);
}

/*
 * One cfgd per run directory: a second one would bind over the first's
 * ipc paths without an error (ipc bind replaces the file), and the group
 * would talk to whichever bound last. The lock is held for the life of
 * the process (the kernel drops it at exit, even on kill -9); the file
 * holds the holder's pid, for the message of the one refused.
 */
static void
lock_run_dir(struct cfgd *c)
{
	char path[512], buf[32];
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "%s/%s", c->ep.run_dir, CFGD_LOCK_FILE);
	fd = open(path, O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd == -1)
		fatal("%s", path);
	if (flock(fd, LOCK_EX | LOCK_NB) == -1) {
		if (errno != EWOULDBLOCK)
			fatal("flock %s", path);
		n = pread(fd, buf, sizeof(buf) - 1, 0);
		buf[n > 0 ? n : 0] = '\0';
		buf[strcspn(buf, "\n")] = '\0';
		fatalx("another cfgd (pid %s) serves run directory %s (it "
		    "holds %s): stop it first, or give this one another run "
		    "directory with -r", buf[0] ? buf : "unknown",
		    c->ep.run_dir, path);
	}
	snprintf(buf, sizeof(buf), "%ld\n", (long)getpid());
	if (ftruncate(fd, 0) == -1 ||
	    pwrite(fd, buf, strlen(buf), 0) != (ssize_t)strlen(buf))
		fatal("%s", path);
	c->lock_fd = fd;
}

/* The run directory, checked and locked before anything else uses it. */
static void
take_run_dir(struct cfgd *c)
{
	char err[1024], path[512], buf[32];
	ssize_t n;
	int fd;

	if (bus_prepare_run_dir(&c->ep, err, sizeof(err)) == -1)
		fatalx("run directory: %s", err);
	lock_run_dir(c);
	snprintf(path, sizeof(path), "%s/%s", c->ep.run_dir, CFGD_GEN_FILE);
	if ((fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC)) == -1) {
		if (errno != ENOENT)
			fatal("%s", path);
		return;
	}
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	buf[n > 0 ? n : 0] = '\0';
	c->gen_high = strtoull(buf, NULL, 10);
}

static void
open_bus(struct cfgd *c)
{
	c->ctx = zmq_ctx_new();
	c->control = bus_socket(c->ctx, ZMQ_REP, BUS_MAX_CONTROL);
	c->pub = bus_socket(c->ctx, ZMQ_PUB, 0);
	c->xsub = bus_socket(c->ctx, ZMQ_XSUB, BUS_MAX_STATS);
	c->xpub = bus_socket(c->ctx, ZMQ_XPUB, 0);
	if (bus_bind(c->control, c->ep.control) == -1 ||
	    bus_bind(c->pub, c->ep.plan) == -1 ||
	    bus_bind(c->xsub, c->ep.stats_in) == -1 ||
	    bus_bind(c->xpub, c->ep.stats) == -1)
		fatalx("cannot bind the bus in %s (is another cfgd running?)",
		    c->ep.run_dir);
}

static void
run(struct cfgd *c)
{
	zmq_pollitem_t items[4] = {
		{ c->control, 0, ZMQ_POLLIN, 0 },
		{ c->xsub, 0, ZMQ_POLLIN, 0 },
		{ c->xpub, 0, ZMQ_POLLIN, 0 },
		{ NULL, wake_open(), ZMQ_POLLIN, 0 },
	};
	unsigned interval = 1000;
	int64_t next_pub = mono_ms(), next_stats = mono_ms();

	while (!quit) {
		int64_t now = mono_ms(), wait;

		if (now >= next_pub) {
			/* late subscribers and restarted processes catch up */
			cfgd_publish(c);
			next_pub = now + REPUBLISH_MS;
		}
		if (now >= next_stats) {
			cfgd_publish_stats(c);
			if (c->plan && c->plan->stats_interval_ms)
				interval = c->plan->stats_interval_ms;
			next_stats = now + interval;
		}
		/* asleep until a message, a signal or the next timer */
		now = mono_ms();
		wait = (next_pub < next_stats ? next_pub : next_stats) - now;
		if (zmq_poll(items, 4, wait > 0 ? (long)wait : 0) == -1)
			continue;
		wake_drain();
		if (reload) {
			reload = 0;
			cfgd_reload(c);
		}
		if (items[0].revents & ZMQ_POLLIN)
			control_handle(c);
		if (items[1].revents & ZMQ_POLLIN) {
			char topic[64];

			stats_forward(c->xsub, c->xpub,
			    &c->counters[C_STATS_FORWARDED], topic,
			    sizeof(topic));
			slots_seen(c, topic);
		}
		if (items[2].revents & ZMQ_POLLIN) {
			uint64_t subs = 0;

			stats_forward(c->xpub, c->xsub, &subs, NULL, 0);
		}
	}
}

/*
 * Keeps only what binds a tcp:// endpoint below port 1024, before any
 * thread exists (lib/privs.c): cfgd parses what the bus sends.
 */
static void
drop_privs(void)
{
	char err[256];

	if (privs_drop((1ULL << CAP_NET_BIND_SERVICE), err, sizeof(err)) == -1)
		log_warnx("cannot drop privileges: %s", err);
	else
		log_info("capabilities: only net_bind_service kept, no new privileges");
}

int
main(int argc, char **argv)
{
	struct stat st;
	static const struct option longopts[] = {
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	struct cfgd c;
	char run_dir[256] = DEFAULT_RUN_DIR;
	char database[1024] = "/var/lib/netstreamd/config.db";
	char curve_dir[1024] = "";
	const char *file = NULL, *rflag = NULL, *dflag = NULL;
	struct sigaction sa;
	int ch;

	memset(&c, 0, sizeof(c));
	log_init("cfgd", getenv("NETSTREAMD_DEBUG") != NULL);
	monitor_enable();
	while ((ch = getopt_long(argc, argv, "c:r:d:hV", longopts, NULL)) !=
	    -1) {
		switch (ch) {
		case 'V':
			printf("cfgd (netstreamd) %s\n", NS_VERSION);
			return 0;
		case 'c':
			file = optarg;
			break;
		case 'r':
			rflag = optarg;
			break;
		case 'd':
			dflag = optarg;
			break;
		case 'h':
			usage(0);
		default:
			usage(2);
		}
	}
	if (optind != argc)
		usage(2);
	/*
	 * while it is the only thread (lib/privs.c): libzmq's threads and
	 * the socket monitors come later and inherit the drop; every file,
	 * this config as the database, is then opened as its owner lets
	 */
	drop_privs();
	/* a FIFO or device is no config: refused, never waited on */
	if (file != NULL && stat(file, &st) == 0 && !S_ISREG(st.st_mode))
		fatalx("%s: not a regular file", file);
	if (file != NULL &&
	    conf_bootstrap(file, run_dir, sizeof(run_dir), database,
	    sizeof(database), curve_dir, sizeof(curve_dir)) == -1)
		log_warnx("%s: unreadable or invalid; using default run_dir "
		    "and database", file);
	/* lib/curve.c reads the variable; a value already set wins */
	if (curve_dir[0] != '\0')
		setenv("NETSTREAMD_CURVE_DIR", curve_dir, 0);
	if (rflag == NULL && getenv("NETSTREAMD_RUN_DIR") == NULL)
		rflag = run_dir;
	bus_endpoints_init(&c.ep, bus_run_dir(rflag));
	if (dflag != NULL)
		ns_strlcpy(database, dflag, sizeof(database));
	else if (getenv("NETSTREAMD_RUN_DIR") != NULL)
		snprintf(database, sizeof(database), "%s/config.db",
		    c.ep.run_dir);

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	if (wake_open() == -1) /* before a signal can come */
		fatal("pipe");
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL); /* reload: commit the file again */
	signal(SIGPIPE, SIG_IGN);
	c.config_file = file;

	take_run_dir(&c);
	open_store(&c, database);
	load_latest(&c);
	open_bus(&c);
	log_info("serving %s, database %s", c.ep.control, database);
	cfgd_publish(&c);
	run(&c);
	log_info("exiting");
	if (c.plan)
		netstream__plan__free_unpacked(c.plan, NULL);
	zmq_close(c.control);
	zmq_close(c.pub);
	zmq_close(c.xsub);
	zmq_close(c.xpub);
	zmq_ctx_term(c.ctx);
	store_close(&c.st);
	return 0;
}
