/*
 * vrp_import.c: VRP command lines, as a router's configuration or an
 * operator's session has them, read line by line into a struct conf.
 * The views nest as the vendor's: the system view at the top, `slot N`,
 * `interface TYPE NUMBER`, `ipv6 netstream monitor NAME` and `ipv6
 * netstream record NAME` below it; `quit` goes up one view, `return` to
 * the user view, `system-view` back to the system view, a `#` line alone
 * (the separator of `display current-configuration`) to the system view.
 * Each line that cannot be read is an error at its line number.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "util.h"
#include "vrp_int.h"

#define VRP_LINE_MAX 4096

/* The first error of a parse; later ones would be its consequences. */
int
vrp_perr(struct imp *im, const char *fmt, ...)
{
	va_list ap;

	if (!im->failed) {
		va_start(ap, fmt);
		vsnprintf(im->err, sizeof(im->err), fmt, ap);
		va_end(ap);
	}
	im->failed = 1;
	return -1;
}

static const char *
view_name(const struct imp *im, char *buf, size_t len)
{
	const struct conf *c = im->c;

	switch (im->view) {
	case V_USER:
		return "the user view";
	case V_SLOT:
		snprintf(buf, len, "the slot %u view", c->slots[im->cur].id);
		return buf;
	case V_IF:
		snprintf(buf, len, "the interface %s view",
		    c->ifaces[im->cur].name);
		return buf;
	case V_MON:
		snprintf(buf, len, "the monitor %s view",
		    c->monitors[im->cur].name);
		return buf;
	case V_REC:
		snprintf(buf, len, "the record %s view",
		    c->records[im->cur].name);
		return buf;
	default:
		return "the system view";
	}
}

/* what each view allows, for an unknown command */
static const char *
view_help(int view)
{
	switch (view) {
	case V_SLOT:
		return "ip netstream export sequence-mode flow, ipv6 netstream "
		       "export host, undo, quit";
	case V_IF:
		return "ipv6 netstream {inbound|outbound}, ipv6 netstream "
		       "monitor NAME {inbound|outbound}, ipv6 netstream "
		       "sampler, undo, quit";
	case V_MON:
		return "ipv6 netstream export host, ipv6 netstream export "
		       "source, apply record NAME, undo, quit";
	case V_REC:
		return "match ..., collect ..., undo, quit";
	default:
		return "ipv6 netstream export {version|source|host|template "
		       "timeout-rate}, ipv6 netstream apply record, ipv6 "
		       "netstream aggregation timeout, ipv6 netstream sampler, "
		       "ipv6 netstream monitor NAME, ipv6 netstream record "
		       "NAME, slot N, interface TYPE NUMBER, undo, quit, "
		       "return";
	}
}

/* an unknown first word: what this view allows */
int
vrp_view_error(struct imp *im, const char *fmt, ...)
{
	char what[256], view[128];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(what, sizeof(what), fmt, ap);
	va_end(ap);
	return vrp_perr(im, "%s in %s; allowed here: %s", what,
	    view_name(im, view, sizeof(view)), view_help(im->view));
}

/* words, and "double quoted" ones with \" and \\ */
static int
tokenize(struct imp *im, char *s)
{
	char *o;

	im->n = 0;
	while (*s) {
		while (*s == ' ' || *s == '\t')
			s++;
		if (*s == '\0')
			break;
		if (im->n == VRP_MAX_TOKENS)
			return vrp_perr(im, "more than %d words",
			    VRP_MAX_TOKENS);
		im->tok[im->n++] = o = s;
		if (*s != '"') {
			while (*s && *s != ' ' && *s != '\t')
				s++;
			if (*s)
				*s++ = '\0';
			continue;
		}
		for (s++; *s && *s != '"'; *o++ = *s++)
			if (*s == '\\' && (s[1] == '"' || s[1] == '\\'))
				s++;
		if (*s != '"')
			return vrp_perr(im, "a \"quoted\" word does not end");
		s++;
		*o = '\0';
	}
	return 0;
}

static void
report(struct imp *im)
{
	diag_add(im->d, DIAG_ERROR, im->line, "%s", im->err);
	im->failed = 0;
}

/*
 * A command allowed in another view than this one: parse it again in
 * every view, and say which views have it.
 */
static void
wrong_view(struct imp *im, const struct cmd *cmd)
{
	static const struct {
		unsigned v;
		const char *name;
	} names[] = { { V_SYS, "system" }, { V_SLOT, "slot" },
		{ V_IF, "interface" }, { V_MON, "monitor" },
		{ V_REC, "record" } };
	unsigned views = vrp_cmd_views(cmd);
	char list[128] = "", view[128];
	size_t k, o = 0, n = 0, m = 0;

	for (k = 0; k < NELEM(names); k++)
		n += (views & names[k].v) != 0;
	for (k = 0; k < NELEM(names); k++)
		if (views & names[k].v)
			o += (size_t)snprintf(list + o, sizeof(list) - o,
			    "%s%s", m++ == 0 ? "" : m == n ? " or " : ", ",
			    names[k].name);
	im->failed = 0;
	vrp_perr(im, "this is a command of the %s view%s, not of %s%s", list,
	    n > 1 ? "s" : "", view_name(im, view, sizeof(view)),
	    im->view == V_SYS ? "" : " (quit to the system view first)");
}

static int
parse(struct imp *im, struct cmd *cmd, int ext)
{
	return ext ? vrp_parse_ext(im, cmd) : vrp_parse_cmd(im, cmd);
}

/*
 * A line this view could not read, read in every view: a command of
 * another one says so; else the error of this view stands.
 */
static void
other_view(struct imp *im, struct cmd *cmd, int ext)
{
	char saved[sizeof(im->err)];

	memcpy(saved, im->err, sizeof(saved));
	im->failed = 0;
	im->mask = V_CFG;
	if (parse(im, cmd, ext) == 0 &&
	    !(vrp_cmd_views(cmd) & (unsigned)im->view))
		wrong_view(im, cmd);
	else {
		memcpy(im->err, saved, sizeof(saved));
		im->failed = 1;
	}
}

/* the line's command, in its view */
static void
command(struct imp *im, int ext)
{
	struct cmd cmd;
	int rc;

	im->mask = (unsigned)im->view;
	im->ext = ext;
	rc = parse(im, &cmd, ext);
	if (rc == 0 && vrp_apply(im, &cmd) == 0)
		return;
	if (rc < 0 && im->view != V_BAD)
		other_view(im, &cmd, ext);
	report(im);
	/*
	 * a view of this one that could not be entered: its lines are not
	 * read (a view command of another view leaves the view as it is)
	 */
	if (cmd.kind >= K_SLOT && cmd.kind <= K_RECORD && !cmd.undo &&
	    (vrp_kind_views[cmd.kind] & (unsigned)im->view))
		im->view = V_BAD;
}

/* quit, return, system-view, commit: 1 when the line was one */
static int
view_line(struct imp *im)
{
	const char *w = im->tok[0];

	if (strcasecmp(w, "quit") == 0)
		im->view = im->view == V_SYS || im->view == V_USER ? V_USER :
		    V_SYS;
	else if (strcasecmp(w, "return") == 0)
		im->view = V_USER;
	else if (strcasecmp(w, "system-view") == 0)
		im->view = im->view == V_USER ? V_SYS : im->view;
	else if (strcasecmp(w, "commit") != 0)
		return 0;
	if (im->n > 1)
		vrp_perr(im, "unexpected \"%s\" after %s", im->tok[1], w);
	return 1;
}

static int
text_ok(struct imp *im, const char *s, size_t len)
{
	size_t k;

	if (len > VRP_LINE_MAX)
		return vrp_perr(im, "line longer than %d bytes", VRP_LINE_MAX);
	if (!utf8_valid(s, len, &k))
		return vrp_perr(im, "not UTF-8 (byte %zu of the line)", k + 1);
	for (k = 0; k < len; k++)
		if (((unsigned char)s[k] < 0x20 && s[k] != '\t') ||
		    s[k] == 0x7f)
			return vrp_perr(im, "control character 0x%02x",
			    (unsigned char)s[k]);
	return 0;
}

/*
 * A line that starts with #: alone, the separator (to the system view);
 * `# netstreamd: KEY VALUE`, what only netstreamd reads (its words are
 * left); else a comment. 1: a # netstreamd: line, 0: no # line, -1: done.
 */
static int
hash_line(struct imp *im)
{
	if (im->tok[0][0] != '#')
		return 0;
	if (im->n == 1 && strcmp(im->tok[0], "#") == 0) {
		if (im->view != V_USER)
			im->view = V_SYS;
		return -1;
	}
	if (strcmp(im->tok[0], "#") != 0 || im->n < 2 ||
	    strcmp(im->tok[1], "netstreamd:") != 0)
		return -1;
	memmove(im->tok, im->tok + 2, (size_t)(im->n - 2) *
	    sizeof(im->tok[0]));
	im->n -= 2;
	return 1;
}

/* one line, of len bytes, without its newline */
static void
line(struct imp *im, char *s, size_t len)
{
	int ext;

	if (len > 0 && s[len - 1] == '\r')
		s[--len] = '\0';
	if (text_ok(im, s, len) < 0 || tokenize(im, s) < 0) {
		report(im);
		return;
	}
	if (im->n == 0 || (ext = hash_line(im)) < 0)
		return;
	if (!ext && view_line(im)) {
		if (im->failed)
			report(im);
		return;
	}
	if (im->view == V_USER)
		vrp_perr(im, "\"%s\": in the user view only system-view, "
		    "return and quit are allowed (run system-view first)",
		    im->tok[0]);
	else if (im->view == V_BAD)
		return;
	else
		command(im, ext);
	if (im->failed)
		report(im);
}

int
vrp_parse(const char *text, size_t len, struct conf *c, int *lines,
    struct diags *d)
{
	struct imp im;
	size_t a = 0, b;
	char *buf;

	memset(&im, 0, sizeof(im));
	im.c = c;
	im.d = d;
	im.lines = lines;
	im.view = V_SYS;
	c->active_seconds = 30 * 60;
	while (a < len) {
		for (b = a; b < len && text[b] != '\n'; b++)
			;
		im.line++;
		buf = xmalloc(b - a + 1);
		memcpy(buf, text + a, b - a);
		buf[b - a] = '\0';
		if (strlen(buf) != b - a) {
			vrp_perr(&im, "a NUL byte: not a text file");
			report(&im);
		} else
			line(&im, buf, b - a);
		free(buf);
		a = b + 1;
	}
	vrp_finish(&im);
	return d->errors ? -1 : 0;
}
