/*
 * nsctl: the one command operators type. Global options, the verb
 * dispatch, and the control-socket client every config verb uses.
 */
#include <getopt.h>
#include <libgen.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <zmq.h>

#include "conf.h"
#include "curve.h"
#include "log.h"
#include "nsctl.h"
#include "util.h"
#include "paths.h"

#define DEFAULT_CONFIG NS_SYSCONFDIR "/netstreamd.conf"
#define NSCTL_MAX_REPLY (64u << 20)

/* A verb, and its lines of the usage (what `nsctl VERB --help` prints). */
struct verb {
	const char *name;
	int (*fn)(struct nsctl *, int, char **);
	const char *help;
};

static const struct verb verbs[] = {
	{ "validate", cmd_validate,
	    "  validate [-c FILE] [--no-host-checks]\n"
	    "                                check a config, commit nothing\n" },
	{ "commit", cmd_commit,
	    "  commit [-c FILE] [-m MSG]     validate, store and apply it\n" },
	{ "show", cmd_show,
	    "  show [running|effective] [--revision N]\n"
	    "                                the committed source, or the "
	    "plan that runs\n" },
	{ "history", cmd_history,
	    "  history                       committed revisions\n" },
	{ "diff", cmd_diff,
	    "  diff A B                      what changed between revisions\n" },
	{ "rollback", cmd_rollback,
	    "  rollback N                    make revision N the running one\n" },
	{ "vrp", cmd_vrp,
	    "  vrp import [--file IFNAME=PCAP]... [--device IFNAME=DEV]... "
	    "FILE|-\n"
	    "                                vendor (VRP) command lines to "
	    "netstreamd.conf\n"
	    "  vrp export [-c FILE | --revision N]\n"
	    "                                a config as vendor command "
	    "lines\n" },
	{ "subscribe", cmd_subscribe,
	    "  subscribe plan [-n COUNT] [-t MS]   print plans as published\n" },
	{ "collect", cmd_collect,
	    "  collect -p PORT [-b ADDR] [--json] [-n N] [-t IDLE_S] "
	    "[--summary]\n"
	    "                                a small v9/IPFIX collector\n" },
	{ "stats", cmd_stats,
	    "  stats [--watch|--json|--prometheus] [--slot N] [-n COUNT] "
	    "[-t MS]\n"
	    "                                the counters every process "
	    "publishes\n" },
	{ "metrics", cmd_metrics,
	    "  metrics --listen ADDR:PORT    serve them as GET /metrics for "
	    "Prometheus\n" },
	{ "display", cmd_display,
	    "  display current-configuration   the running revision as "
	    "vendor lines\n"
	    "  display statistics [slot N] | template | monitor [NAME] |\n"
	    "          interface [NAME] | cache slot N [--record R] "
	    "[--top K] |\n"
	    "          slot [N]   [--json]\n" },
	{ "reset", cmd_reset,
	    "  reset statistics [slot N | interface NAME]   counters from "
	    "zero again\n"
	    "  reset cache [slot N]          age and export every flow of "
	    "the caches now\n" },
	{ "up", cmd_up,
	    "  up [-c FILE]                  run the process group "
	    "(foreground)\n" },
	{ "run", cmd_run,
	    "  run -c FILE                   run it over capture files, then "
	    "stop\n" },
	{ "keygen", cmd_keygen,
	    "  keygen DIR                    CURVE keys for tcp:// endpoints\n" },
};

#define USAGE_HEAD "usage: nsctl [-r RUN_DIR] [-c FILE] VERB ...\n" \
	"       nsctl -V|--version\n"
#define USAGE_TAIL                                                        \
	"  -r RUN_DIR   the group's bus (default: the config's run_dir, or\n" \
	"               NETSTREAMD_RUN_DIR)\n"                                 \
	"  -c FILE      the config (default " DEFAULT_CONFIG ", or\n"        \
	"               NETSTREAMD_CONFIG)\n"                                  \
	"  VERB --help  that verb's usage\n"                                   \
	"exit codes: 0 ok, 1 invalid config or failed check, 2 usage, "     \
	"3 cfgd unreachable\n"                                               \
	"See nsctl(8) and netstreamd.conf(5).\n"

static void
usage_print(FILE *fp)
{
	size_t i;

	fputs(USAGE_HEAD, fp);
	for (i = 0; i < NELEM(verbs); i++)
		fputs(verbs[i].help, fp);
	fputs(USAGE_TAIL, fp);
}

void
nsctl_usage(void)
{
	usage_print(stderr);
	exit(EXIT_USAGE);
}

/* `nsctl VERB --help` (or -h): that verb's lines, to stdout. */
static int
wants_help(int argc, char **argv)
{
	int i;

	for (i = 1; i < argc && strcmp(argv[i], "--") != 0; i++)
		if (strcmp(argv[i], "--help") == 0 ||
		    (i == 1 && strcmp(argv[i], "-h") == 0))
			return 1;
	return 0;
}

static int
unreachable(struct nsctl *n, const char *why)
{
	fprintf(stderr,
	    "nsctl: cfgd unreachable at %s (%s).\n"
	    "Start it with `cfgd -c %s` (or the whole group with `nsctl up`),"
	    " or point nsctl at its run directory with -r or "
	    "NETSTREAMD_RUN_DIR.\n",
	    n->ep.control, why, n->config);
	if (strncmp(n->ep.control, "tcp://", 6) == 0)
		fprintf(stderr,
		    "Over tcp:// cfgd answers only the clients whose public "
		    "key is in its authorized/ (this one's is %s/%s).\n",
		    curve_dir(), CURVE_CLIENT_PUBLIC);
	return EXIT_UNREACHABLE;
}

/*
 * One request, one reply, with a timeout: a missing or hung cfgd gives
 * exit code 3, never a hang.
 */
int
nsctl_request(struct nsctl *n, Netstream__ControlRequest *rq,
    Netstream__Envelope **reply)
{
	Netstream__Envelope env = NETSTREAM__ENVELOPE__INIT;
	struct stat st;
	void *ctx, *s;
	enum bus_err e;
	int rc = 0;

	*reply = NULL;
	if (strncmp(n->ep.control, "ipc://", 6) == 0) {
		char dir[BUS_ENDPOINT_MAX], err[1024];

		if (lstat(n->ep.control + 6, &st) == -1)
			return unreachable(n, "no socket");
		/* a socket or directory of another user: not our cfgd */
		ns_strlcpy(dir, n->ep.control + 6, sizeof(dir));
		if (bus_check_ipc(n->ep.control, err, sizeof(err)) == -1 ||
		    bus_check_run_dir(dirname(dir), err, sizeof(err)) == -1) {
			fprintf(stderr, "nsctl: not sent to %s: %s\n",
			    n->ep.control, err);
			return EXIT_INVALID;
		}
	}
	ctx = zmq_ctx_new();
	/* room past the limit, so a reply over it is seen and named */
	s = bus_socket(ctx, ZMQ_REQ, NSCTL_MAX_REPLY);
	zmq_setsockopt(s, ZMQ_RCVTIMEO, &n->timeout_ms, sizeof(int));
	zmq_setsockopt(s, ZMQ_SNDTIMEO, &n->timeout_ms, sizeof(int));
	env.msg_case = NETSTREAM__ENVELOPE__MSG_REQUEST;
	env.request = rq;
	if (bus_connect(s, n->ep.control) == -1 ||
	    bus_send(s, NULL, &env, 0) == -1) {
		rc = unreachable(n, "cannot send");
		goto done;
	}
	e = bus_recv(s, BUS_MAX_CONTROL, 0, 0, reply);
	if (e == BUS_AGAIN)
		rc = unreachable(n, "no answer");
	else if (e == BUS_TOO_BIG) {
		fprintf(stderr, "nsctl: cfgd answered, but its reply is over "
		    "the %u bytes a control reply may have (BUS_MAX_CONTROL): "
		    "not read\n", BUS_MAX_CONTROL);
		rc = EXIT_INVALID;
	} else if (e != BUS_OK ||
	    (*reply)->msg_case != NETSTREAM__ENVELOPE__MSG_REPLY) {
		fprintf(stderr, "nsctl: bad reply from cfgd (%s)\n",
		    bus_err_name(e));
		bus_free(*reply);
		*reply = NULL;
		rc = EXIT_INVALID;
	}
done:
	zmq_close(s);
	zmq_ctx_term(ctx);
	return rc;
}

/*
 * Is the group there? cfgd answers a GET_PLAN, with a plan or without
 * one. The verbs that only listen to the bus (stats, subscribe) ask
 * first, and again when the bus went quiet, so that no group is exit 3
 * with the message every other verb gives, never a wait for messages
 * that will not come.
 */
int
nsctl_ping(struct nsctl *n)
{
	Netstream__ControlRequest rq = NETSTREAM__CONTROL_REQUEST__INIT;
	Netstream__Envelope *env;
	int rc;

	rq.verb = NETSTREAM__VERB__GET_PLAN;
	rc = nsctl_request(n, &rq, &env);
	bus_free(env);
	return rc;
}

/*
 * A listening verb heard nothing since *heard: after NSCTL_QUIET_MS, is
 * cfgd still there? 0 while it is (and *heard starts again), else the
 * exit code nsctl_ping() gave.
 */
int
nsctl_quiet(struct nsctl *n, int64_t *heard)
{
	int rc;

	if (mono_ms() - *heard < NSCTL_QUIET_MS)
		return 0;
	if ((rc = nsctl_ping(n)) != 0)
		return rc;
	*heard = mono_ms();
	return 0;
}

static const char *
default_config(void)
{
	const char *env = getenv("NETSTREAMD_CONFIG");

	return env != NULL && env[0] ? env : DEFAULT_CONFIG;
}

int
main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	struct nsctl n;
	struct passwd *pw;
	char run_dir[256] = DEFAULT_RUN_DIR, db[1024], curve_dir[1024] = "";
	const char *rflag = NULL, *tmo;
	size_t i;
	int ch;

	memset(&n, 0, sizeof(n));
	log_init("nsctl", getenv("NETSTREAMD_DEBUG") != NULL);
	/* the group systemd runs is this user's (the units' User=) */
	if ((pw = getpwnam(NS_USER)) != NULL)
		bus_trust_uid(pw->pw_uid);
	n.config = default_config();
	n.timeout_ms = (tmo = getenv("NETSTREAMD_TIMEOUT_MS")) ? atoi(tmo) :
	    5000;
	while ((ch = getopt_long(argc, argv, "+r:c:hV", longopts, NULL)) !=
	    -1) {
		switch (ch) {
		case 'V':
			printf("nsctl (netstreamd) %s\n", NS_VERSION);
			return 0;
		case 'h':
			usage_print(stdout);
			return 0;
		case 'r':
			rflag = optarg;
			break;
		case 'c':
			n.config = optarg;
			break;
		default:
			nsctl_usage();
		}
	}
	if (optind >= argc)
		nsctl_usage();
	for (i = 0; i < NELEM(verbs); i++)
		if (strcmp(argv[optind], verbs[i].name) == 0 &&
		    wants_help(argc - optind, argv + optind)) {
			printf(USAGE_HEAD "%s", verbs[i].help);
			return 0;
		}
	/*
	 * the run dir: -r, then NETSTREAMD_RUN_DIR, then the file's; the
	 * CURVE dir: NETSTREAMD_CURVE_DIR, then the file's, which reaches
	 * lib/curve.c and the processes `nsctl up` starts as that variable
	 */
	conf_bootstrap(n.config, run_dir, sizeof(run_dir), db, sizeof(db),
	    curve_dir, sizeof(curve_dir));
	if (rflag == NULL && getenv("NETSTREAMD_RUN_DIR") == NULL)
		rflag = run_dir;
	if (curve_dir[0] != '\0')
		setenv("NETSTREAMD_CURVE_DIR", curve_dir, 0);
	bus_endpoints_init(&n.ep, bus_run_dir(rflag));
	argc -= optind;
	argv += optind;
	for (i = 0; i < NELEM(verbs); i++)
		if (strcmp(argv[0], verbs[i].name) == 0) {
			optind = 0; /* glibc: re-initialise getopt fully */
			return verbs[i].fn(&n, argc, argv);
		}
	fprintf(stderr, "nsctl: unknown verb \"%s\"\n", argv[0]);
	nsctl_usage();
}
