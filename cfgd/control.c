/*
 * control.c: the control socket (REP): one dispatch over the verbs nsctl
 * sends. A request that fails the bus checks gets a "bad request" reply and
 * is counted; cfgd keeps serving.
 */
#include <errno.h>
#include <fcntl.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zmq.h>

#include "cfgd.h"
#include "conf.h"
#include "log.h"
#include "plan.h"
#include "util.h"

static void
reply_text(Netstream__ControlReply *r, int status, const char *text)
{
	r->status = status;
	free(r->text != protobuf_c_empty_string ? r->text : NULL);
	r->text = pstrdup(text);
}

void
cfgd_publish(struct cfgd *c)
{
	Netstream__Envelope env = NETSTREAM__ENVELOPE__INIT;

	if (c->plan == NULL)
		return;
	env.msg_case = NETSTREAM__ENVELOPE__MSG_PLAN;
	env.plan = c->plan;
	if (bus_send(c->pub, "plan", &env, ZMQ_DONTWAIT) == 0)
		c->counters[C_PUBLISHED]++;
}

/*
 * Compiles the request's config text; NULL plan when it has errors. cfgd
 * runs on the exporter: what the config relies on in this machine is
 * checked too (warnings, the commit goes ahead).
 */
static Netstream__Plan *
compile(const Netstream__ControlRequest *rq, struct sbuf *out)
{
	Netstream__Plan *plan = NULL;
	struct diags d;
	struct conf cf;
	const char *path = rq->config_path[0] ? rq->config_path : "(config)";

	diags_init(&d, path);
	if (conf_load_text(rq->config_text, strlen(rq->config_text), rq->cwd,
	    &cf, &d) == 0)
		plan = plan_compile(&cf, &d);
	if (plan != NULL)
		conf_host_checks(&cf, &d);
	diags_render(&d, out);
	diags_free(&d);
	conf_free(&cf);
	return plan;
}

/*
 * The generation high-water mark, RUN_DIR/cfgd.generation: written (and
 * synced) before a plan of that generation can be published. It lives in
 * RUN_DIR, beside the processes that compare generations, not in the
 * database: a database deleted or restored from an old copy starts its
 * revisions again at 1, and without the mark its plans would be older
 * than what sampled and exportd run, and ignored.
 */
int
cfgd_reserve_generation(struct cfgd *c, uint64_t gen, char *err,
    size_t errlen)
{
	char path[512], tmp[520], buf[32];
	int fd, n;

	if (gen <= c->gen_high)
		return 0;
	snprintf(path, sizeof(path), "%s/%s", c->ep.run_dir, CFGD_GEN_FILE);
	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	n = snprintf(buf, sizeof(buf), "%llu\n", (unsigned long long)gen);
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC,
	    0600);
	if (fd == -1 || write(fd, buf, (size_t)n) != n || fsync(fd) == -1 ||
	    close(fd) == -1 || rename(tmp, path) == -1) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		if (fd != -1)
			close(fd);
		unlink(tmp);
		return -1;
	}
	c->gen_high = gen;
	return 0;
}

/* The smallest generation the next plan may have (reserved on disk). */
static int
next_generation(struct cfgd *c, uint64_t *gen, char *err, size_t errlen)
{
	uint64_t rev;

	if (store_latest(&c->st, &rev, err, errlen) == -1)
		return -1;
	rev++;
	*gen = rev > c->gen_high + 1 ? rev : c->gen_high + 1;
	return cfgd_reserve_generation(c, *gen, err, errlen);
}

static void
switch_plan(struct cfgd *c, Netstream__Plan *plan)
{
	char err[600];

	/*
	 * above what next_generation() reserved only when revisions were
	 * added behind cfgd's back; stored already, so it runs either way
	 */
	if (cfgd_reserve_generation(c, plan->generation, err,
	    sizeof(err)) == -1) {
		log_warnx("generation %llu: %s",
		    (unsigned long long)plan->generation, err);
		c->gen_high = plan->generation;
	}
	if (c->plan != NULL)
		netstream__plan__free_unpacked(c->plan, NULL);
	c->plan = plan;
	cfgd_publish(c);
}

/*
 * A read that failed for another reason than a missing revision (a
 * damaged file) is logged and counted, as a failed commit is.
 */
static void
store_failed(struct cfgd *c, const char *err)
{
	if (strncmp(err, "no revision ", 12) == 0)
		return;
	c->counters[C_STORE_ERRORS]++;
	log_warnx("%s", err);
}

static void
do_commit(struct cfgd *c, const Netstream__ControlRequest *rq,
    Netstream__ControlReply *r)
{
	Netstream__Plan *plan;
	struct sbuf out;
	char err[1024];
	uint64_t gen;

	sbuf_init(&out);
	if ((plan = compile(rq, &out)) == NULL) {
		c->counters[C_REJECTED]++;
		reply_text(r, 1, out.s);
		goto done;
	}
	if (next_generation(c, &gen, err, sizeof(err)) == -1 ||
	    store_commit(&c->st, plan, gen, rq->config_text,
	    rq->author[0] ? rq->author : "unknown", rq->comment, err,
	    sizeof(err)) == -1) {
		c->counters[C_STORE_ERRORS]++;
		netstream__plan__free_unpacked(plan, NULL);
		sbuf_printf(&out, "commit failed: %s; revision %llu stays the "
		    "running one\n", err,
		    (unsigned long long)(c->plan ? c->plan->revision : 0));
		reply_text(r, 4, out.s);
		goto done;
	}
	c->counters[C_COMMITS]++;
	sbuf_printf(&out, "committed revision %llu\n",
	    (unsigned long long)plan->revision);
	r->revision = plan->revision;
	reply_text(r, 0, out.s);
	log_info("committed revision %llu by %s",
	    (unsigned long long)plan->revision, rq->author);
	switch_plan(c, plan);
done:
	sbuf_free(&out);
}

/* The lines of what a commit says, each to the log. */
static void
log_lines(const char *text, int warn)
{
	const char *nl;

	for (; *text != '\0'; text = *nl ? nl + 1 : nl) {
		nl = strchrnul(text, '\n');
		if (warn)
			log_warnx("%.*s", (int)(nl - text), text);
		else
			log_info("%.*s", (int)(nl - text), text);
	}
}

/*
 * SIGHUP: the config file (-c) committed again, validated as nsctl
 * commit validates it, as bgpd reloads. Relative paths in it resolve
 * from cfgd's directory (nsctl up's, or / under systemd). What the commit
 * says goes to the log: the warnings, or the errors at file:line and
 * that nothing was committed; the running revision then stays.
 */
void
cfgd_reload(struct cfgd *c)
{
	Netstream__ControlRequest rq = NETSTREAM__CONTROL_REQUEST__INIT;
	Netstream__ControlReply r = NETSTREAM__CONTROL_REPLY__INIT;
	char *text, err[512], cwd[1024], comment[1100];
	const char *f = c->config_file;
	size_t len;

	if (f == NULL) {
		log_warnx("SIGHUP: no config file to reload (cfgd -c FILE): "
		    "nothing committed");
		return;
	}
	if (read_file_limited(f, CONFIG_MAX_BYTES, &text, &len, err,
	    sizeof(err)) == -1) {
		log_warnx("SIGHUP: %s: %s; nothing committed", f, err);
		return;
	}
	if (strlen(text) != len || !utf8_valid(f, strlen(f), NULL)) {
		log_warnx("SIGHUP: %s: %s; nothing committed", f,
		    strlen(text) != len ? "binary data (a NUL byte)" :
		    "its name is not UTF-8 text");
		free(text);
		return;
	}
	if (getcwd(cwd, sizeof(cwd)) == NULL)
		ns_strlcpy(cwd, "/", sizeof(cwd));
	snprintf(comment, sizeof(comment), "SIGHUP: %s reloaded", f);
	log_info("SIGHUP: committing %s", f);
	rq.verb = NETSTREAM__VERB__COMMIT;
	rq.config_path = (char *)f;
	rq.config_text = text;
	rq.cwd = cwd;
	rq.author = "cfgd";
	rq.comment = comment;
	do_commit(c, &rq, &r);
	log_lines(r.text, r.status != 0);
	if (r.status != 0 && c->plan != NULL)
		log_warnx("SIGHUP: %s: nothing committed; revision %llu stays "
		    "the running one", f,
		    (unsigned long long)c->plan->revision);
	else if (r.status != 0)
		log_warnx("SIGHUP: %s: nothing committed; no revision runs "
		    "yet", f);
	free(r.text != protobuf_c_empty_string ? r.text : NULL);
	free(text);
}

/* Rollback makes a new revision whose plan and source are those of N. */
static void
do_rollback(struct cfgd *c, const Netstream__ControlRequest *rq,
    Netstream__ControlReply *r)
{
	Netstream__Plan *plan;
	char *source, err[1024], comment[128], msg[1200];
	uint64_t gen;

	if (store_load(&c->st, rq->revision, &plan, &source, err,
	    sizeof(err)) == -1) {
		store_failed(c, err);
		reply_text(r, 1, err);
		return;
	}
	snprintf(comment, sizeof(comment), "rollback to revision %llu%s%s",
	    (unsigned long long)rq->revision, rq->comment[0] ? ": " : "",
	    rq->comment);
	if (next_generation(c, &gen, err, sizeof(err)) == -1 ||
	    store_commit(&c->st, plan, gen, source,
	    rq->author[0] ? rq->author : "unknown", comment, err,
	    sizeof(err)) == -1) {
		c->counters[C_STORE_ERRORS]++;
		snprintf(msg, sizeof(msg), "rollback failed: %s", err);
		reply_text(r, 4, msg);
		netstream__plan__free_unpacked(plan, NULL);
		free(source);
		return;
	}
	free(source);
	c->counters[C_ROLLBACKS]++;
	snprintf(msg, sizeof(msg),
	    "rolled back to revision %llu as revision %llu\n",
	    (unsigned long long)rq->revision,
	    (unsigned long long)plan->revision);
	r->revision = plan->revision;
	reply_text(r, 0, msg);
	log_info("%s", msg);
	switch_plan(c, plan);
}

/* SHOW and DIFF read stored revisions; 0 means the latest. */
static int
load_rev(struct cfgd *c, uint64_t rev, Netstream__Plan **plan, char **src,
    Netstream__ControlReply *r)
{
	char err[1024];

	if (rev == 0 && store_latest(&c->st, &rev, err, sizeof(err)) == -1) {
		c->counters[C_STORE_ERRORS]++;
		log_warnx("%s", err);
		reply_text(r, 4, err);
		return -1;
	}
	if (rev == 0) {
		reply_text(r, 1, "no revision committed yet: run nsctl commit");
		return -1;
	}
	if (store_load(&c->st, rev, plan, src, err, sizeof(err)) == -1) {
		store_failed(c, err);
		reply_text(r, 1, err);
		return -1;
	}
	return 0;
}

static void
do_show(struct cfgd *c, const Netstream__ControlRequest *rq,
    Netstream__ControlReply *r)
{
	Netstream__Plan *plan;
	struct sbuf out;
	char *src;

	if (load_rev(c, rq->revision, &plan, &src, r) == -1)
		return;
	sbuf_init(&out);
	if (rq->effective)
		plan_render(plan, &out);
	else
		sbuf_printf(&out, "%s", src);
	reply_text(r, 0, out.s);
	r->revision = plan->revision;
	/*
	 * the text is the answer (nsctl prints it); the plan beside it
	 * would double the reply, and put a large one over the bus limit
	 */
	netstream__plan__free_unpacked(plan, NULL);
	sbuf_free(&out);
	free(src);
}

static void
do_diff(struct cfgd *c, const Netstream__ControlRequest *rq,
    Netstream__ControlReply *r)
{
	Netstream__Plan *pa, *pb;
	char *sa, *sb;

	if (load_rev(c, rq->revision ? rq->revision : 1, &pa, &sa, r) == -1)
		return;
	if (load_rev(c, rq->revision_b, &pb, &sb, r) == -1) {
		netstream__plan__free_unpacked(pa, NULL);
		free(sa);
		return;
	}
	r->source = sa;
	r->source_b = sb;
	reply_text(r, 0, "");
	netstream__plan__free_unpacked(pa, NULL);
	netstream__plan__free_unpacked(pb, NULL);
}

/*
 * The request's strings that cfgd stores or names: proto3 strings, UTF-8
 * or a protobuf reader of `history` (or of the plan) fails. The config
 * text is checked by the validator (naming the line); these are refused.
 */
static const char *
not_utf8(const Netstream__ControlRequest *rq)
{
	static const struct {
		const char *name;
		size_t off;
	} f[] = {
		{ "config_path", offsetof(Netstream__ControlRequest, config_path) },
		{ "cwd", offsetof(Netstream__ControlRequest, cwd) },
		{ "author", offsetof(Netstream__ControlRequest, author) },
		{ "comment", offsetof(Netstream__ControlRequest, comment) },
	};
	size_t i;

	for (i = 0; i < NELEM(f); i++) {
		const char *s = *(char *const *)((const char *)rq + f[i].off);

		if (s != NULL && !utf8_valid(s, strlen(s), NULL))
			return f[i].name;
	}
	return NULL;
}

static void
dispatch(struct cfgd *c, const Netstream__ControlRequest *rq,
    Netstream__ControlReply *r)
{
	struct sbuf out;
	Netstream__Plan *plan;
	const char *bad;
	char msg[128], err[1024];

	if ((bad = not_utf8(rq)) != NULL) {
		snprintf(msg, sizeof(msg), "bad request: %s is not UTF-8 "
		    "text; nothing done", bad);
		c->counters[C_REJECTED]++;
		reply_text(r, 2, msg);
		return;
	}
	switch (rq->verb) {
	case NETSTREAM__VERB__VALIDATE:
		sbuf_init(&out);
		plan = compile(rq, &out);
		reply_text(r, plan ? 0 : 1, out.s);
		if (plan)
			netstream__plan__free_unpacked(plan, NULL);
		sbuf_free(&out);
		break;
	case NETSTREAM__VERB__COMMIT:
		do_commit(c, rq, r);
		break;
	case NETSTREAM__VERB__ROLLBACK:
		do_rollback(c, rq, r);
		break;
	case NETSTREAM__VERB__SHOW:
		do_show(c, rq, r);
		break;
	case NETSTREAM__VERB__DIFF:
		do_diff(c, rq, r);
		break;
	case NETSTREAM__VERB__HISTORY:
		if (store_history(&c->st, &r->history, &r->n_history, err,
		    sizeof(err)) == -1) {
			c->counters[C_STORE_ERRORS]++;
			log_warnx("history: %s", err);
			reply_text(r, 4, err);
			break;
		}
		reply_text(r, 0, "");
		break;
	case NETSTREAM__VERB__GET_PLAN:
		if (c->plan == NULL) {
			reply_text(r, 1, "no revision committed yet");
			break;
		}
		r->plan = c->plan;
		r->revision = c->plan->revision;
		reply_text(r, 0, "");
		break;
	default:
		c->bad[BUS_EMPTY]++;
		reply_text(r, 2, "bad request: unknown verb");
		break;
	}
}

/* Receives one request and always answers it (REP must). */
void
control_handle(struct cfgd *c)
{
	Netstream__Envelope *in = NULL, out = NETSTREAM__ENVELOPE__INIT;
	Netstream__ControlReply r = NETSTREAM__CONTROL_REPLY__INIT;
	Netstream__ControlReply big = NETSTREAM__CONTROL_REPLY__INIT;
	enum bus_err e;
	char msg[128], big_text[256];
	size_t len;

	e = bus_recv(c->control, BUS_MAX_CONTROL, 0, ZMQ_DONTWAIT, &in);
	if (e == BUS_AGAIN)
		return;
	c->counters[C_REQUESTS]++;
	if (e != BUS_OK || in->msg_case != NETSTREAM__ENVELOPE__MSG_REQUEST) {
		if (e == BUS_OK)
			e = BUS_EMPTY;
		c->bad[e]++;
		snprintf(msg, sizeof(msg), "bad request: %s", bus_err_name(e));
		log_warnx("control: %s", msg);
		reply_text(&r, 2, msg);
	} else
		dispatch(c, in->request, &r);
	out.msg_case = NETSTREAM__ENVELOPE__MSG_REPLY;
	out.reply = &r;
	out.proto_version = PROTO_VERSION;
	len = netstream__envelope__get_packed_size(&out);
	if (len > BUS_MAX_CONTROL) {
		/*
		 * nsctl would never get it (its socket drops what is over
		 * the limit) and report cfgd unreachable: say what it is
		 */
		snprintf(big_text, sizeof(big_text), "reply too large: %zu "
		    "bytes, over the %u bytes a control reply may have on the "
		    "bus (BUS_MAX_CONTROL)%s\n", len, BUS_MAX_CONTROL,
		    r.n_history ? "; the history has too many revisions to "
		    "list in one reply" : "");
		log_warnx("control: %s", big_text);
		big.status = 4;
		big.text = big_text;
		out.reply = &big;
	}
	if (bus_send(c->control, NULL, &out, 0) == -1)
		log_warnx("control reply: %s", zmq_strerror(zmq_errno()));
	/* the reply may point at the running plan: detach before freeing */
	if (r.plan == c->plan)
		r.plan = NULL;
	if (r.plan)
		netstream__plan__free_unpacked(r.plan, NULL);
	r.plan = NULL;
	for (size_t i = 0; i < r.n_history; i++)
		netstream__revision_info__free_unpacked(r.history[i], NULL);
	free(r.history);
	free(r.text != protobuf_c_empty_string ? r.text : NULL);
	free(r.source != protobuf_c_empty_string ? r.source : NULL);
	free(r.source_b != protobuf_c_empty_string ? r.source_b : NULL);
	bus_free(in);
}
