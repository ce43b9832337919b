/*
 * config_verbs.c: validate, commit, show, history, diff, rollback: the
 * config life cycle, each verb one request to cfgd (validate runs here,
 * so a config can be checked before anything is started).
 */
#include <getopt.h>
#include <pwd.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "conf.h"
#include "nsctl.h"
#include "util.h"

/* -c FILE and -m MSG after the verb; anything else is a usage error. */
static int
verb_opts(struct nsctl *n, int argc, char **argv, const char **msg)
{
	int ch;

	while ((ch = getopt(argc, argv, msg ? "c:m:" : "c:")) != -1) {
		switch (ch) {
		case 'c':
			n->config = optarg;
			break;
		case 'm':
			*msg = optarg;
			break;
		default:
			nsctl_usage();
		}
	}
	if (optind != argc)
		nsctl_usage();
	return 0;
}

/*
 * Checks the file here, without cfgd. Like cfgd's commit, it also checks
 * what the config relies on in this machine (VPN instances, source
 * addresses: warnings); --no-host-checks leaves that out, for a config
 * written for another machine (and for the config table, whose expected
 * output must not depend on the machine it runs on).
 */
int
cmd_validate(struct nsctl *n, int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "no-host-checks", no_argument, NULL, 'H' },
		{ NULL, 0, NULL, 0 },
	};
	Netstream__Plan *plan = NULL;
	struct diags d;
	struct conf c;
	struct sbuf out;
	int ch, host_checks = 1;

	while ((ch = getopt_long(argc, argv, "c:", longopts, NULL)) != -1) {
		if (ch == 'c')
			n->config = optarg;
		else if (ch == 'H')
			host_checks = 0;
		else
			nsctl_usage();
	}
	if (optind != argc)
		nsctl_usage();
	diags_init(&d, n->config);
	if (conf_load_file(n->config, &c, &d) == 0)
		plan = plan_compile(&c, &d);
	if (plan != NULL && host_checks)
		conf_host_checks(&c, &d);
	sbuf_init(&out);
	diags_render(&d, &out);
	fputs(out.s, stdout);
	sbuf_free(&out);
	diags_free(&d);
	conf_free(&c);
	if (plan == NULL)
		return EXIT_INVALID;
	netstream__plan__free_unpacked(plan, NULL);
	return 0;
}

static const char *
author(void)
{
	const char *u = getenv("NETSTREAMD_AUTHOR");
	struct passwd *pw;

	if (u != NULL && u[0])
		return u;
	if ((u = getenv("SUDO_USER")) != NULL && u[0])
		return u;
	pw = getpwuid(getuid());
	return pw ? pw->pw_name : "unknown";
}

/*
 * The strings a commit or rollback stores go on the bus as proto3 strings
 * and into `history`: UTF-8 or refused here, loudly (not replaced: the
 * history would name someone else). 0 when all are.
 */
static int
check_utf8(const Netstream__ControlRequest *rq)
{
	static const struct {
		const char *what;
		size_t off;
	} f[] = {
		{ "the author (NETSTREAMD_AUTHOR, SUDO_USER or the user name)",
		    offsetof(Netstream__ControlRequest, author) },
		{ "the comment (-m)", offsetof(Netstream__ControlRequest, comment) },
		{ "the config file name", offsetof(Netstream__ControlRequest,
		    config_path) },
		{ "the current directory", offsetof(Netstream__ControlRequest,
		    cwd) },
	};
	size_t i;

	for (i = 0; i < NELEM(f); i++) {
		const char *s = *(char *const *)((const char *)rq + f[i].off);

		if (s != NULL && !utf8_valid(s, strlen(s), NULL)) {
			fprintf(stderr, "nsctl: %s is not UTF-8 text: history "
			    "keeps it as a UTF-8 string; nothing committed\n",
			    f[i].what);
			return -1;
		}
	}
	return 0;
}

/* Prints the reply's text and maps its status to an exit code. */
static int
finish(Netstream__Envelope *env)
{
	Netstream__ControlReply *r = env->reply;
	int rc;

	fputs(r->text, r->status == 0 ? stdout : stderr);
	rc = r->status == 0 ? 0 : r->status == 2 ? EXIT_USAGE : EXIT_INVALID;
	bus_free(env);
	return rc;
}

int
cmd_commit(struct nsctl *n, int argc, char **argv)
{
	Netstream__ControlRequest rq = NETSTREAM__CONTROL_REQUEST__INIT;
	Netstream__Envelope *env;
	const char *msg = "";
	char *text, err[512], cwd[1024];
	size_t len;
	int rc;

	verb_opts(n, argc, argv, &msg);
	if (read_file_limited(n->config, CONFIG_MAX_BYTES, &text, &len, err,
	    sizeof(err)) == -1) {
		fprintf(stderr, "%s: error: %s; nothing committed\n", n->config,
		    err);
		return EXIT_INVALID;
	}
	if (strlen(text) != len) {
		/* a NUL would cut the text short on the wire: say so here */
		fprintf(stderr,
		    "%s: error: binary data (a NUL byte): a config file is "
		    "libconfig text; nothing committed\n",
		    n->config);
		free(text);
		return EXIT_INVALID;
	}
	if (getcwd(cwd, sizeof(cwd)) == NULL)
		ns_strlcpy(cwd, "/", sizeof(cwd));
	rq.verb = NETSTREAM__VERB__COMMIT;
	rq.config_path = (char *)n->config;
	rq.config_text = text;
	rq.cwd = cwd;
	rq.author = (char *)author();
	rq.comment = (char *)msg;
	if (check_utf8(&rq) == -1) {
		free(text);
		return EXIT_USAGE;
	}
	rc = nsctl_request(n, &rq, &env);
	free(text);
	return env ? finish(env) : rc;
}

static uint64_t
parse_rev(const char *s)
{
	char *end;
	unsigned long long v = strtoull(s, &end, 10);

	if (*end != '\0' || v == 0 || s[0] == '-') {
		fprintf(stderr, "nsctl: bad revision \"%s\"\n", s);
		nsctl_usage();
	}
	return v;
}

int
cmd_show(struct nsctl *n, int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "revision", required_argument, NULL, 'R' },
		{ NULL, 0, NULL, 0 },
	};
	Netstream__ControlRequest rq = NETSTREAM__CONTROL_REQUEST__INIT;
	Netstream__Envelope *env;
	int ch, rc;

	rq.verb = NETSTREAM__VERB__SHOW;
	while ((ch = getopt_long(argc, argv, "R:", longopts, NULL)) != -1) {
		if (ch != 'R')
			nsctl_usage();
		rq.revision = parse_rev(optarg);
	}
	if (optind < argc) {
		if (strcmp(argv[optind], "effective") == 0)
			rq.effective = 1;
		else if (strcmp(argv[optind], "running") != 0)
			nsctl_usage();
		optind++;
	}
	if (optind != argc)
		nsctl_usage();
	rc = nsctl_request(n, &rq, &env);
	return env ? finish(env) : rc;
}

int
cmd_history(struct nsctl *n, int argc, char **argv)
{
	Netstream__ControlRequest rq = NETSTREAM__CONTROL_REQUEST__INIT;
	Netstream__Envelope *env;
	Netstream__ControlReply *r;
	size_t i;
	int rc;

	(void)argv;
	if (argc != 1)
		nsctl_usage();
	rq.verb = NETSTREAM__VERB__HISTORY;
	if ((rc = nsctl_request(n, &rq, &env)) != 0)
		return rc;
	r = env->reply;
	if (r->status != 0) /* a failed read is never an empty history */
		return finish(env);
	printf("%-4s %-20s %-12s %s\n", "rev", "time (UTC)", "author",
	    "comment");
	for (i = 0; i < r->n_history; i++) {
		time_t t = (time_t)r->history[i]->time;
		struct tm tm;
		char when[32];

		gmtime_r(&t, &tm);
		strftime(when, sizeof(when), "%Y-%m-%d %H:%M:%S", &tm);
		printf("%-4llu %-20s %-12s %s%s\n",
		    (unsigned long long)r->history[i]->revision, when,
		    r->history[i]->author, r->history[i]->comment,
		    i + 1 == r->n_history ? "  (running)" : "");
	}
	return finish(env);
}

static int
write_tmp(char *path, size_t len, const char *text)
{
	FILE *f;
	int fd;

	snprintf(path, len, "/tmp/nsctl-diff-XXXXXX");
	if ((fd = mkstemp(path)) == -1 || (f = fdopen(fd, "w")) == NULL)
		return -1;
	fputs(text, f);
	fclose(f);
	return 0;
}

/* The source texts of two revisions, compared by diff(1). */
int
cmd_diff(struct nsctl *n, int argc, char **argv)
{
	Netstream__ControlRequest rq = NETSTREAM__CONTROL_REQUEST__INIT;
	Netstream__Envelope *env;
	char pa[64], pb[64], la[64], lb[64];
	pid_t pid;
	int rc, status;

	if (argc != 3)
		nsctl_usage();
	rq.verb = NETSTREAM__VERB__DIFF;
	rq.revision = parse_rev(argv[1]);
	rq.revision_b = parse_rev(argv[2]);
	if ((rc = nsctl_request(n, &rq, &env)) != 0)
		return rc;
	if (env->reply->status != 0)
		return finish(env);
	if (strcmp(env->reply->source, env->reply->source_b) == 0) {
		printf("revisions %s and %s have the same source\n", argv[1],
		    argv[2]);
		bus_free(env);
		return 0;
	}
	if (write_tmp(pa, sizeof(pa), env->reply->source) == -1 ||
	    write_tmp(pb, sizeof(pb), env->reply->source_b) == -1) {
		perror("nsctl: temporary file");
		bus_free(env);
		return EXIT_INVALID;
	}
	snprintf(la, sizeof(la), "revision %s", argv[1]);
	snprintf(lb, sizeof(lb), "revision %s", argv[2]);
	fflush(stdout);
	if ((pid = fork()) == 0) {
		execlp("diff", "diff", "-u", "--label", la, "--label", lb, pa,
		    pb, (char *)NULL);
		_exit(127);
	}
	waitpid(pid, &status, 0);
	unlink(pa);
	unlink(pb);
	bus_free(env);
	return WIFEXITED(status) && WEXITSTATUS(status) <= 1 ? 0 :
								 EXIT_INVALID;
}

int
cmd_rollback(struct nsctl *n, int argc, char **argv)
{
	Netstream__ControlRequest rq = NETSTREAM__CONTROL_REQUEST__INIT;
	Netstream__Envelope *env;
	int rc;

	if (argc != 2)
		nsctl_usage();
	rq.verb = NETSTREAM__VERB__ROLLBACK;
	rq.revision = parse_rev(argv[1]);
	rq.author = (char *)author();
	if (check_utf8(&rq) == -1)
		return EXIT_USAGE;
	rc = nsctl_request(n, &rq, &env);
	return env ? finish(env) : rc;
}
