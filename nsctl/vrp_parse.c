/*
 * vrp_parse.c: one VRP command line, as tokens, into a struct cmd: the
 * syntax of the vendor's command reference (keywords case-insensitive,
 * a unique prefix of one accepted, as VRP does), each alternative
 * offered only in the views that have it, so that an error lists what is
 * allowed there. Nothing here changes the config: vrp_apply.c does.
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "bus.h"
#include "curve.h"
#include "plan.h"
#include "util.h"
#include "vrp_int.h"

struct alt {
	const char *kw;
	unsigned views;
};

const unsigned vrp_kind_views[K_N] = {
	[K_SLOT] = V_SYS,
	[K_IFACE] = V_SYS,
	[K_MONITOR] = V_SYS,
	[K_RECORD] = V_SYS,
	[K_VERSION] = V_SYS,
	[K_SOURCE] = V_SYS | V_MON,
	[K_HOST] = V_HOSTS,
	[K_TEMPLATE] = V_SYS,
	[K_APPLY] = V_SYS,
	[K_ACTIVE] = V_SYS,
	[K_INACTIVE] = V_SYS,
	[K_SAMPLER] = V_SYS | V_IF,
	[K_NETSTREAM] = V_IF,
	[K_BIND] = V_IF,
	[K_SEQMODE] = V_SLOT,
	[K_MON_APPLY] = V_MON,
	[K_MATCH] = V_REC,
	[K_COLLECT] = V_REC,
	[K_EXT] = V_CFG,
};

/* the alternatives more than one command offers */
static const struct alt versions[] = { { "9", V_CFG }, { "ipfix", V_CFG } };
static const struct alt directions[] = { { "inbound", V_CFG },
	{ "outbound", V_CFG } };

static const char *
peek(const struct imp *im)
{
	return im->i < im->n ? im->tok[im->i] : NULL;
}

/* the words read so far, for messages */
static const char *
so_far(const struct imp *im, char *buf, size_t len)
{
	size_t o = 0;
	int k;

	buf[0] = '\0';
	for (k = 0; k < im->i && o < len; k++)
		o += (size_t)snprintf(buf + o, len - o, "%s%s", k ? " " : "",
		    im->tok[k]);
	return buf;
}

static void
list_alts(const struct imp *im, const struct alt *a, size_t n, char *buf,
    size_t len)
{
	size_t k, o = 0, m = 0;

	buf[0] = '\0';
	for (k = 0; k < n && o < len; k++)
		if (a[k].views & im->mask)
			o += (size_t)snprintf(buf + o, len - o, "%s%s",
			    m++ ? ", " : "", a[k].kw);
}

/*
 * The next token as one of a (those of the views this parse accepts):
 * its index, or -1 (an error saying what was expected).
 */
static int
pick(struct imp *im, const struct alt *a, size_t n)
{
	const char *t = peek(im);
	char exp[512], seen[512];
	size_t k, len;
	int found = -1, many = 0;

	list_alts(im, a, n, exp, sizeof(exp));
	so_far(im, seen, sizeof(seen));
	if (t == NULL)
		return vrp_perr(im, "incomplete command \"%s\": expected %s",
		    seen, exp);
	len = strlen(t);
	for (k = 0; k < n; k++) {
		if (!(a[k].views & im->mask))
			continue;
		if (strcasecmp(a[k].kw, t) == 0) {
			im->i++;
			return (int)k;
		}
		if (strncasecmp(a[k].kw, t, len) == 0)
			many += found >= 0, found = (int)k;
	}
	if (found >= 0 && !many) {
		im->i++;
		return found;
	}
	if (im->ext && im->i == 0)
		return vrp_perr(im, "\"# netstreamd: %s\": expected %s", t,
		    exp);
	if (im->i == 0 || (im->i == 1 && strcasecmp(im->tok[0], "undo") == 0))
		return vrp_view_error(im, "unknown command \"%s\"", t);
	return vrp_perr(im, "\"%s\"%s after \"%s\": expected %s", t,
	    many ? " is ambiguous" : "", seen, exp);
}

/* one keyword, in the views of the parse */
static int
keyword(struct imp *im, const char *kw)
{
	const struct alt a[] = { { kw, V_CFG } };

	return pick(im, a, 1);
}

static int
number(struct imp *im, const char *what, unsigned long lo, unsigned long hi,
    unsigned *out)
{
	const char *t = peek(im);
	unsigned long long v = 0;
	size_t k;

	if (t == NULL)
		return vrp_perr(im, "incomplete command: expected %s (%lu..%lu)",
		    what, lo, hi);
	for (k = 0; t[k]; k++) {
		if (!isdigit((unsigned char)t[k]) || k > 12)
			return vrp_perr(im, "%s \"%s\" is not a number "
			    "(%lu..%lu)", what, t, lo, hi);
		v = v * 10 + (unsigned)(t[k] - '0');
	}
	if (v < lo || v > hi)
		return vrp_perr(im, "%s %s is out of range %lu..%lu", what, t,
		    lo, hi);
	im->i++;
	*out = (unsigned)v;
	return 0;
}

static int
word(struct imp *im, const char *what, size_t max, char *out)
{
	const char *t = peek(im);

	if (t == NULL)
		return vrp_perr(im, "incomplete command: expected %s", what);
	if (t[0] == '\0' || strlen(t) > max)
		return vrp_perr(im, "%s \"%s\": 1..%zu characters", what, t,
		    max);
	ns_strlcpy(out, t, max + 1);
	im->i++;
	return 0;
}

static int
end(struct imp *im)
{
	if (im->i < im->n)
		return vrp_perr(im, "unexpected \"%s\" at the end of the "
		    "command", im->tok[im->i]);
	return 0;
}

/* a word, or a number, that ends the command */
static int
word_end(struct imp *im, const char *what, size_t max, char *out)
{
	return word(im, what, max, out) < 0 ? -1 : end(im);
}

static int
number_end(struct imp *im, const char *what, unsigned long lo,
    unsigned long hi, unsigned *out)
{
	return number(im, what, lo, hi, out) < 0 ? -1 : end(im);
}

/* undo with nothing after it: the whole setting back to its default */
static int
undo_all(const struct imp *im, const struct cmd *cmd)
{
	return cmd->undo && peek(im) == NULL;
}

static int
is_number(const char *t)
{
	return t != NULL && isdigit((unsigned char)t[0]);
}

/* [ipv6] ADDRESS: an IPv4 address, or ipv6 and an IPv6 one */
static int
address(struct imp *im, char *out, int *fam)
{
	static const struct alt a[] = { { "ipv6", V_CFG } };
	unsigned char buf[16];
	const char *t = peek(im);
	int v6 = 0;

	if (t != NULL && strcasecmp(t, "ipv6") == 0 && pick(im, a, 1) == 0)
		v6 = 1;
	if ((t = peek(im)) == NULL)
		return vrp_perr(im, "incomplete command: expected %s",
		    v6 ? "an IPv6 address" : "an IPv4 address, or ipv6 and an "
		    "IPv6 address");
	if (inet_pton(v6 ? AF_INET6 : AF_INET, t, buf) != 1) {
		if (!v6 && inet_pton(AF_INET6, t, buf) == 1)
			return vrp_perr(im, "\"%s\" is an IPv6 address: write "
			    "ipv6 %s", t, t);
		return vrp_perr(im, "\"%s\" is not an %s address", t,
		    v6 ? "IPv6" : "IPv4");
	}
	ns_strlcpy(out, t, CONF_ADDR_MAX);
	*fam = v6 ? CONF_IPV6 : CONF_IPV4;
	im->i++;
	return 0;
}

/* vpn-instance NAME, version {9|ipfix}, dscp N: each once, any order */
static int
host_options(struct imp *im, struct conf_host *h)
{
	static const struct alt a[] = { { "vpn-instance", V_CFG },
		{ "version", V_CFG }, { "dscp", V_CFG } };
	int seen[3] = { 0, 0, 0 }, k;

	while (peek(im) != NULL) {
		if ((k = pick(im, a, NELEM(a))) < 0)
			return -1;
		if (seen[k]++)
			return vrp_perr(im, "%s given twice", a[k].kw);
		if (k == 0 && word(im, "vpn-instance name", CONF_NAME_MAX,
		    h->vpn) < 0)
			return -1;
		if (k == 1 && (h->ipfix = pick(im, versions, 2)) < 0)
			return -1;
		if (k == 2 && number(im, "dscp", 0, 63, &h->dscp) < 0)
			return -1;
	}
	return 0;
}

/* export host [ipv6] ADDRESS PORT [vpn-instance N] [version V] [dscp D] */
static int
p_host(struct imp *im, struct cmd *cmd)
{
	struct conf_host *h = &cmd->host;
	int fam;

	cmd->kind = K_HOST;
	h->ipfix = -1; /* the system's version, whatever it ends up */
	h->pace_pps = PLAN_PACE_DEFAULT;
	if (address(im, h->address, &fam) < 0 ||
	    number(im, "port", 1, 65535, &h->port) < 0)
		return -1;
	return host_options(im, h);
}

/* export source { ADDRESS | ipv6 ADDRESS } [PORT]; undo: all optional */
static int
p_source(struct imp *im, struct cmd *cmd)
{
	cmd->kind = K_SOURCE;
	cmd->fam = -1;
	if (undo_all(im, cmd))
		return 0;
	if (cmd->undo && im->n - im->i == 1 &&
	    strcasecmp(peek(im), "ipv6") == 0) {
		im->i++;
		cmd->fam = CONF_IPV6;
		return 0;
	}
	if (address(im, cmd->src.address, &cmd->fam) < 0)
		return -1;
	if (peek(im) != NULL &&
	    number(im, "source port", 1, 65535, &cmd->src.port) < 0)
		return -1;
	return end(im);
}

/* export version {9|ipfix} [origin-as|peer-as] [bgp-nexthop] */
static int
p_version(struct imp *im, struct cmd *cmd)
{
	static const struct alt o[] = { { "origin-as", V_CFG },
		{ "peer-as", V_CFG }, { "bgp-nexthop", V_CFG } };
	int k;

	cmd->kind = K_VERSION;
	if (undo_all(im, cmd))
		return 0;
	if ((cmd->mode = pick(im, versions, 2)) < 0)
		return -1;
	while (peek(im) != NULL) {
		if ((k = pick(im, o, NELEM(o))) < 0)
			return -1;
		if (k == 2 ? cmd->bgp : cmd->as)
			return vrp_perr(im, "%s: at most one of origin-as and "
			    "peer-as, and bgp-nexthop once", o[k].kw);
		if (k == 2)
			cmd->bgp = 1;
		else
			cmd->as = k + 1;
	}
	return 0;
}

/* the value of a setting; undo takes it or not */
static int
value(struct imp *im, struct cmd *cmd, const char *what, unsigned lo,
    unsigned hi)
{
	if (undo_all(im, cmd))
		return 0;
	if (number(im, what, lo, hi, &cmd->value) < 0)
		return -1;
	cmd->has_value = 1;
	return end(im);
}

static int
p_export(struct imp *im, struct cmd *cmd)
{
	static const struct alt a[] = { { "host", V_HOSTS },
		{ "source", V_SYS | V_MON }, { "version", V_SYS },
		{ "template", V_SYS } };

	switch (pick(im, a, NELEM(a))) {
	case 0:
		return p_host(im, cmd);
	case 1:
		return p_source(im, cmd);
	case 2:
		return p_version(im, cmd);
	case 3:
		cmd->kind = K_TEMPLATE;
		if (keyword(im, "timeout-rate") < 0)
			return -1;
		return value(im, cmd, "template timeout-rate (minutes)", 1,
		    3600);
	}
	return -1;
}

/* aggregation timeout { active { N | interval-second S } | inactive N } */
static int
p_aging(struct imp *im, struct cmd *cmd)
{
	static const struct alt a[] = { { "active", V_SYS },
		{ "inactive", V_SYS } };
	int k;

	if (keyword(im, "timeout") < 0 || (k = pick(im, a, 2)) < 0)
		return -1;
	if (k == 1) {
		cmd->kind = K_INACTIVE;
		return value(im, cmd, "inactive aging time (seconds)", 5, 600);
	}
	cmd->kind = K_ACTIVE;
	if (undo_all(im, cmd))
		return 0;
	if (is_number(peek(im)))
		return value(im, cmd, "active aging time (minutes)", 1, 60);
	if (keyword(im, "interval-second") < 0)
		return -1;
	cmd->mode = 1; /* seconds */
	return value(im, cmd, "active aging interval-second", 15, 59);
}

static int
direction(struct imp *im, int *dir)
{
	return (*dir = pick(im, directions, 2)) < 0 ? -1 : end(im);
}

/* sampler { fix-packets N | random-packets N | fix-time MS } DIRECTION */
static int
p_sampler(struct imp *im, struct cmd *cmd)
{
	static const struct alt a[] = { { "fix-packets", V_SYS | V_IF },
		{ "random-packets", V_SYS | V_IF }, { "fix-time", V_SYS | V_IF },
		{ "inbound", 0 }, { "outbound", 0 } };
	struct alt u[NELEM(a)];
	size_t k;
	int m;

	cmd->kind = K_SAMPLER;
	memcpy(u, a, sizeof(u));
	for (k = 3; cmd->undo && k < NELEM(u); k++)
		u[k].views = V_SYS | V_IF; /* undo ... sampler inbound */
	if ((m = pick(im, u, NELEM(u))) < 0)
		return -1;
	if (m >= 3) {
		cmd->dir = m - 3;
		return end(im);
	}
	cmd->mode = m + 1; /* Netstream__SamplerMode */
	if (number(im, m == 2 ? "fix-time interval (ms)" : "packet interval",
	    m == 2 ? 5 : 1, m == 2 ? 30000 : 65535, &cmd->value) < 0)
		return -1;
	return direction(im, &cmd->dir);
}

/* monitor NAME: a view (system) or a binding with a direction (interface) */
static int
p_monitor(struct imp *im, struct cmd *cmd)
{
	if (word(im, "monitor name", CONF_NAME_MAX, cmd->name) < 0)
		return -1;
	if (peek(im) == NULL && (im->mask & V_SYS)) {
		cmd->kind = K_MONITOR;
		return 0;
	}
	cmd->kind = K_BIND;
	if (!(im->mask & V_IF))
		return vrp_perr(im, "unexpected \"%s\": a monitor view is "
		    "entered by ipv6 netstream monitor NAME", peek(im));
	return direction(im, &cmd->dir);
}

/* apply record NAME, of the system or of a monitor; undo: NAME optional */
static int
p_apply_record(struct imp *im, struct cmd *cmd, int kind)
{
	cmd->kind = kind;
	if (keyword(im, "record") < 0)
		return -1;
	if (undo_all(im, cmd))
		return 0;
	return word_end(im, "record name", CONF_NAME_MAX, cmd->name);
}

static int
p_netstream(struct imp *im, struct cmd *cmd)
{
	static const struct alt a[] = { { "export", V_HOSTS },
		{ "apply", V_SYS }, { "aggregation", V_SYS },
		{ "sampler", V_SYS | V_IF }, { "monitor", V_SYS | V_IF },
		{ "record", V_SYS }, { "inbound", V_IF }, { "outbound", V_IF } };
	int k;

	if (keyword(im, "netstream") < 0)
		return -1;
	switch ((k = pick(im, a, NELEM(a)))) {
	case 0:
		return p_export(im, cmd);
	case 1:
		return p_apply_record(im, cmd, K_APPLY);
	case 2:
		return p_aging(im, cmd);
	case 3:
		return p_sampler(im, cmd);
	case 4:
		return p_monitor(im, cmd);
	case 5:
		cmd->kind = K_RECORD;
		return word_end(im, "record name", CONF_NAME_MAX, cmd->name);
	case 6:
	case 7:
		cmd->kind = K_NETSTREAM;
		cmd->dir = k - 6;
		return end(im);
	}
	return -1;
}

/* interface TYPE NUMBER, or the two joined (GigabitEthernet1/0/0) */
static int
p_interface(struct imp *im, struct cmd *cmd)
{
	char *name = cmd->text;
	const char *p;

	cmd->kind = K_IFACE;
	if (peek(im) == NULL)
		return vrp_perr(im, "incomplete command: expected interface "
		    "TYPE NUMBER (GigabitEthernet 1/0/0)");
	snprintf(name, 64, "%s%s", im->tok[im->i],
	    im->i + 1 < im->n ? im->tok[im->i + 1] : "");
	im->i += im->i + 1 < im->n ? 2 : 1;
	for (p = name; isalpha((unsigned char)*p) || *p == '-'; p++)
		;
	if (p == name || !isdigit((unsigned char)*p) ||
	    strspn(p, "0123456789/.:") != strlen(p) || strlen(name) > 62)
		return vrp_perr(im, "interface \"%s\": expected TYPE NUMBER, "
		    "like GigabitEthernet 1/0/0 (letters, then digits "
		    "separated by / . :)", name);
	return end(im);
}

/* does f start with the words chosen[0..depth-1]? */
static int
field_has(const struct vrp_field *f, const char *const *chosen, size_t depth)
{
	size_t j;

	for (j = 0; j < depth; j++)
		if (f->words[j] == NULL || strcmp(f->words[j], chosen[j]) != 0)
			return 0;
	return 1;
}

/* match WORDS / collect WORDS of vrp_fields.c, a word at a time */
static int
p_field(struct imp *im, struct cmd *cmd)
{
	const char *chosen[3];
	const struct vrp_field *f;
	struct alt a[40];
	size_t k, n, depth, j;
	int x;

	for (depth = 0; depth < 3; depth++) {
		for (k = 0, n = 0; (f = vrp_field_at(k)) != NULL; k++) {
			if (!field_has(f, chosen, depth) || depth >= 3 ||
			    f->words[depth] == NULL)
				continue;
			for (j = 0; j < n; j++)
				if (strcmp(a[j].kw, f->words[depth]) == 0)
					break;
			if (j == n && n < NELEM(a))
				a[n++] = (struct alt){ f->words[depth], V_REC };
		}
		if ((x = pick(im, a, n)) < 0)
			return -1;
		chosen[depth] = a[x].kw;
		for (k = 0; (f = vrp_field_at(k)) != NULL; k++)
			if (field_has(f, chosen, depth + 1) &&
			    (depth == 2 || f->words[depth + 1] == NULL)) {
				cmd->field = f;
				return end(im);
			}
	}
	return vrp_perr(im, "incomplete field");
}

static int
p_first(struct imp *im, struct cmd *cmd)
{
	static const struct alt a[] = { { "ipv6", V_SYS | V_SLOT | V_IF |
		V_MON }, { "ip", V_SLOT }, { "slot", V_SYS },
		{ "interface", V_SYS }, { "apply", V_MON }, { "match", V_REC },
		{ "collect", V_REC } };
	static const char *const seq[] = { "netstream", "export",
		"sequence-mode" };
	size_t k;

	switch (pick(im, a, NELEM(a))) {
	case 0:
		return p_netstream(im, cmd);
	case 1:
		cmd->kind = K_SEQMODE;
		for (k = 0; k < NELEM(seq); k++)
			if (keyword(im, seq[k]) < 0)
				return -1;
		if (!undo_all(im, cmd) && keyword(im, "flow") < 0)
			return -1;
		return end(im);
	case 2:
		cmd->kind = K_SLOT;
		return number_end(im, "slot", 0, CONF_SLOT_MAX, &cmd->value);
	case 3:
		return p_interface(im, cmd);
	case 4:
		return p_apply_record(im, cmd, K_MON_APPLY);
	case 5:
		cmd->kind = K_MATCH;
		return p_field(im, cmd);
	case 6:
		cmd->kind = K_COLLECT;
		return p_field(im, cmd);
	}
	return -1;
}

/* A command line: [undo] COMMAND ... */
int
vrp_parse_cmd(struct imp *im, struct cmd *cmd)
{
	memset(cmd, 0, sizeof(*cmd));
	im->i = 0;
	if (im->n > 0 && strcasecmp(im->tok[0], "undo") == 0) {
		cmd->undo = 1;
		im->i = 1;
	}
	return p_first(im, cmd);
}

/* `# netstreamd: KEY VALUE`, in the order of enum ext_key */
static const struct alt ext_keys[X_N] = {
	{ "run-dir", V_SYS }, { "database", V_SYS },
	{ "stats-interval-ms", V_SYS }, { "routes-file", V_SYS },
	{ "cache-entries", V_SYS }, { "cache-full", V_SYS },
	{ "template-refresh-packets", V_SYS },
	{ "options-timeout-seconds", V_SYS }, { "mtu", V_SYS },
	{ "compat", V_SYS }, { "interface-width", V_SYS },
	{ "endpoint", V_SYS }, { "curve-dir", V_SYS },
	{ "host-pace-pps", V_HOSTS }, { "workers", V_SLOT },
	{ "device", V_IF }, { "file", V_IF }, { "replay", V_IF },
	{ "file-direction", V_IF }, { "ifindex", V_IF }, { "buffer-kb", V_IF },
	{ "slot", V_IF }, { "description", V_IF },
	{ "host-tcp", V_HOSTS }, { "host-file", V_HOSTS },
	{ "server-key", V_SYS | V_SLOT }, { "remote", V_SLOT },
	{ "query-endpoint", V_SLOT },
};

/* the ranges of conf/validate.c */
static const struct {
	int key;
	unsigned long lo, hi;
} ext_ranges[] = {
	{ X_STATS, 100, 60000 }, { X_CACHE_ENTRIES, 1024, 16777216 },
	{ X_REFRESH, 0, 65535 }, { X_OPTIONS, 1, 3600 }, { X_MTU, 576, 9000 },
	{ X_WORKERS, 1, CONF_WORKERS_MAX }, { X_IFINDEX, 1, 4294967295UL },
	{ X_BUFFER, 64, 1048576 }, { X_SLOT, 0, CONF_SLOT_MAX },
	{ X_PACE, PLAN_PACE_MIN, PLAN_PACE_MAX },
};

static int
ext_enum(struct imp *im, int key, struct cmd *cmd)
{
	static const struct alt full[] = { { "evict-oldest", V_CFG },
		{ "drop-new", V_CFG } };
	static const struct alt compat[] = { { "vrp", V_CFG },
		{ "extended", V_CFG } };
	static const struct alt width[] = { { "16", V_CFG }, { "32", V_CFG } };
	static const struct alt replay[] = { { "fast", V_CFG },
		{ "realtime", V_CFG } };
	const struct alt *a = key == X_CACHE_FULL ? full : key == X_COMPAT ?
	    compat : key == X_WIDTH ? width : key == X_REPLAY ? replay :
	    directions;

	return (cmd->mode = pick(im, a, 2)) < 0 ? -1 : end(im);
}

static int
ext_endpoint(struct imp *im, struct cmd *cmd)
{
	struct alt a[BUS_N_ENDPOINTS];
	size_t k;

	for (k = 0; k < BUS_N_ENDPOINTS; k++)
		a[k] = (struct alt){ bus_endpoint_names[k].key, V_SYS };
	if ((cmd->mode = pick(im, a, BUS_N_ENDPOINTS)) < 0)
		return -1;
	return word_end(im, "endpoint", BUS_ENDPOINT_MAX - 1, cmd->text);
}

/* the views a parsed command is allowed in */
unsigned
vrp_cmd_views(const struct cmd *cmd)
{
	if (cmd->kind == K_EXT && cmd->ext >= 0 && cmd->ext < X_N)
		return ext_keys[cmd->ext].views;
	return cmd->kind > 0 && cmd->kind < K_N ? vrp_kind_views[cmd->kind] :
	    0;
}

int
vrp_parse_ext(struct imp *im, struct cmd *cmd)
{
	size_t k;
	int key, fam;

	memset(cmd, 0, sizeof(*cmd));
	cmd->kind = K_EXT;
	im->i = 0;
	if ((key = cmd->ext = pick(im, ext_keys, X_N)) < 0)
		return -1;
	if ((key == X_PACE || key == X_HOST_TCP) &&
	    (address(im, cmd->host.address, &fam) < 0 ||
	    number(im, "port", 1, 65535, &cmd->host.port) < 0))
		return -1;
	if (key == X_HOST_TCP || key == X_REMOTE)
		return end(im);
	for (k = 0; k < NELEM(ext_ranges); k++)
		if (ext_ranges[k].key == key) {
			if (number(im, ext_keys[key].kw, ext_ranges[k].lo,
			    ext_ranges[k].hi, &cmd->value) < 0)
				return -1;
			return end(im);
		}
	switch (key) {
	case X_CACHE_FULL:
	case X_COMPAT:
	case X_WIDTH:
	case X_REPLAY:
	case X_FILE_DIR:
		return ext_enum(im, key, cmd);
	case X_ENDPOINT:
		return ext_endpoint(im, cmd);
	case X_RUN_DIR:
		k = 255;
		break;
	case X_DEVICE:
		k = 63;
		break;
	case X_DESC:
		k = CONF_DESC_MAX;
		break;
	case X_SERVER_KEY:
		k = CURVE_Z85_LEN;
		break;
	case X_SLOT_ENDPOINT:
		k = BUS_ENDPOINT_MAX - 1;
		break;
	default:
		k = CONF_PATH_MAX - 1;
	}
	if (word(im, ext_keys[key].kw, k, cmd->text) < 0)
		return -1;
	return end(im);
}
