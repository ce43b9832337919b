/*
 * validate.c: turns a parsed libconfig tree into struct conf, checking every
 * setting: known names, types, ranges and defaults of DESIGN.md, references,
 * duplicates and limits. It reports every error it finds, not the first.
 * Settings are read with the getters of cfg_get.c; the interfaces list is
 * in validate_if.c.
 */
#include <arpa/inet.h>
#include <libconfig.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "bus.h"
#include "conf.h"
#include "fields.h"
#include "netstream.pb-c.h"
#include "plan.h"
#include "routes.h"
#include "util.h"
#include "validate.h"

const char *const direction_names[3] = { "inbound", "outbound", NULL };

static int
addr_family(const char *a)
{
	unsigned char buf[16];

	if (inet_pton(AF_INET6, a, buf) == 1)
		return 6;
	if (inet_pton(AF_INET, a, buf) == 1)
		return 4;
	return 0;
}

static void parse_host_opts(config_setting_t *, int, struct conf_host *,
    struct diags *);

static void
parse_host(config_setting_t *h, const char *view, int version_ipfix,
    struct conf_host *out, struct diags *d)
{
	static const char *const known[] = { "address", "port", "version",
		"dscp", "vpn_instance", "pace_pps", "transport", "file", NULL };
	static const char *const transports[] = { "udp", "tcp", NULL };
	int tr;

	memset(out, 0, sizeof(*out));
	out->line = LINE(h);
	out->ipfix = version_ipfix;
	if (config_setting_type(h) != CONFIG_TYPE_GROUP) {
		diag_add(d, DIAG_ERROR, LINE(h),
		    "a host in %s must be a group { address; port; }", view);
		return;
	}
	check_known(h, "a host", known, d);
	/* a file host: IPFIX messages written to a file (RFC 5655) */
	if (get_str(h, "file", out->file, sizeof(out->file) - 1, d) == 1) {
		if (get_member(h, "address") != NULL ||
		    get_member(h, "port") != NULL ||
		    get_member(h, "transport") != NULL)
			diag_add(d, DIAG_ERROR, LINE(h),
			    "host in %s: a file host has no address, port or "
			    "transport", view);
		parse_host_opts(h, version_ipfix, out, d);
		if (!out->ipfix)
			diag_add(d, DIAG_ERROR, LINE(get_member(h, "file")),
			    "host in %s: a file holds IPFIX (RFC 5655): set "
			    "version = \"ipfix\"", view);
		return;
	}
	if (get_enum(h, "transport", transports, &tr, d) == 1)
		out->tcp = tr == 1;
	if (get_str(h, "address", out->address, CONF_ADDR_MAX - 1, d) == 0)
		diag_add(d, DIAG_ERROR, LINE(h),
		    "host in %s needs an address (or a file)", view);
	else if (out->address[0] && addr_family(out->address) == 0)
		diag_add(d, DIAG_ERROR, LINE(get_member(h, "address")),
		    "host address \"%s\" is not an IPv4 or IPv6 address",
		    out->address);
	if (get_uint(h, "port", 1, 65535, &out->port, d) == 0)
		diag_add(d, DIAG_ERROR, LINE(h),
		    "host in %s needs a port (1..65535)", view);
	parse_host_opts(h, version_ipfix, out, d);
	if (out->tcp && !out->ipfix)
		diag_add(d, DIAG_ERROR, LINE(get_member(h, "transport")),
		    "host %s port %u in %s: transport \"tcp\" is IPFIX's "
		    "(RFC 7011 10.4): set version = \"ipfix\"", out->address,
		    out->port, view);
}

/* version, dscp, vpn_instance, pace_pps: of any host */
static void
parse_host_opts(config_setting_t *h, int version_ipfix,
    struct conf_host *out, struct diags *d)
{
	static const char *const versions[] = { "9", "ipfix", NULL };
	config_setting_t *v;
	int ver;

	out->ipfix = version_ipfix;
	if ((v = get_member(h, "version")) != NULL &&
	    config_setting_type(v) == CONFIG_TYPE_INT) {
		if (config_setting_get_int(v) == 9)
			out->ipfix = 0;
		else
			diag_add(d, DIAG_ERROR, LINE(v),
			    "version must be \"9\" or \"ipfix\"");
	} else if (get_enum(h, "version", versions, &ver, d) == 1)
		out->ipfix = ver == 1;
	get_uint(h, "dscp", 0, 63, &out->dscp, d);
	if (get_str(h, "vpn_instance", out->vpn, CONF_NAME_MAX, d) == 1)
		out->vpn_line = LINE(get_member(h, "vpn_instance"));
	out->pace_pps = PLAN_PACE_DEFAULT;
	get_uint(h, "pace_pps", PLAN_PACE_MIN, PLAN_PACE_MAX, &out->pace_pps,
	    d);
}

/* CONF_IPV4 or CONF_IPV6: the index of an address's source in a view */
int
conf_family(const char *address)
{
	switch (addr_family(address)) {
	case 4:
		return CONF_IPV4;
	case 6:
		return CONF_IPV6;
	default:
		return -1;
	}
}

int
conf_has_source(const struct conf_view_export *ex)
{
	return ex->source[CONF_IPV4].address[0] != '\0' ||
	    ex->source[CONF_IPV6].address[0] != '\0';
}

/* One { address; port; } of a view's source, in its family's place. */
static void
parse_source_one(config_setting_t *s, const char *view,
    struct conf_view_export *ex, struct diags *d)
{
	static const char *const known[] = { "address", "port", NULL };
	struct conf_source src;
	int f;

	if (config_setting_type(s) != CONFIG_TYPE_GROUP) {
		diag_add(d, DIAG_ERROR, LINE(s),
		    "a source in %s must be a group { address; port; }", view);
		return;
	}
	check_known(s, "source", known, d);
	memset(&src, 0, sizeof(src));
	src.line = LINE(s);
	if (get_str(s, "address", src.address, CONF_ADDR_MAX - 1, d) != 1) {
		if (get_member(s, "address") == NULL)
			diag_add(d, DIAG_ERROR, LINE(s),
			    "source in %s needs an address", view);
		return;
	}
	if ((f = conf_family(src.address)) < 0) {
		diag_add(d, DIAG_ERROR, LINE(get_member(s, "address")),
		    "source address \"%s\" is not an IPv4 or IPv6 address",
		    src.address);
		return;
	}
	get_uint(s, "port", 1, 65535, &src.port, d);
	if (ex->source[f].address[0] != '\0') {
		diag_add(d, DIAG_ERROR, src.line,
		    "a second IPv%d source %s in %s (the first, %s, at line "
		    "%d): at most one export source per address family",
		    f == CONF_IPV4 ? 4 : 6, src.address, view,
		    ex->source[f].address, ex->source[f].line);
		return;
	}
	ex->source[f] = src;
}

/*
 * source = { ... }, as VRP's one `export source` command; or a list of
 * them, at most one per address family, as VRP's `export source ADDRESS`
 * and `export source ipv6 ADDRESS` side by side.
 */
static void
parse_source(config_setting_t *g, const char *view,
    struct conf_view_export *ex, struct diags *d)
{
	config_setting_t *s = get_member(g, "source");
	int i, n;

	if (s == NULL)
		return;
	if (config_setting_type(s) == CONFIG_TYPE_GROUP) {
		parse_source_one(s, view, ex, d);
		return;
	}
	if (config_setting_type(s) != CONFIG_TYPE_LIST) {
		diag_add(d, DIAG_ERROR, LINE(s),
		    "source must be a group { address; port; } or a list "
		    "( { ... }, { ... } ) of at most one per address family");
		return;
	}
	if ((n = config_setting_length(s)) == 0)
		diag_add(d, DIAG_ERROR, LINE(s),
		    "source in %s is an empty list: set one source per "
		    "address family, or leave source out",
		    view);
	for (i = 0; i < n; i++)
		parse_source_one(config_setting_get_elem(s, i), view, ex, d);
}

/* hosts = ( ... ) of a view: at most 8, no duplicates. */
static void
parse_hosts(config_setting_t *g, const char *view, int version_ipfix,
    struct conf_view_export *ex, struct diags *d)
{
	config_setting_t *l = get_list(g, "hosts", 0, d);
	int i, j, n;

	if (l == NULL)
		return;
	n = config_setting_length(l);
	if (n > CONF_MAX_HOSTS)
		diag_add(d, DIAG_ERROR, LINE(l),
		    "%d hosts in %s: at most %d export hosts per view", n, view,
		    CONF_MAX_HOSTS);
	for (i = 0; i < n && i < CONF_MAX_HOSTS; i++) {
		struct conf_host *h = &ex->hosts[i];

		parse_host(config_setting_get_elem(l, i), view, version_ipfix,
		    h, d);
		for (j = 0; j < i; j++)
			if (h->file[0] &&
			    strcmp(ex->hosts[j].file, h->file) == 0)
				diag_add(d, DIAG_ERROR, h->line,
				    "duplicate file host %s in %s (first at "
				    "line %d)", h->file, view,
				    ex->hosts[j].line);
		for (j = 0; j < i; j++)
			if (h->address[0] && h->port &&
			    strcmp(ex->hosts[j].address, h->address) == 0 &&
			    ex->hosts[j].port == h->port)
				diag_add(d, DIAG_ERROR, h->line,
				    "duplicate host %s port %u in %s (first at "
				    "line %d)",
				    h->address, h->port, view,
				    ex->hosts[j].line);
		ex->n_hosts++;
	}
}

static void
parse_sampler_dir(config_setting_t *s, struct conf_sampler *out,
    struct diags *d)
{
	static const char *const known[] = { "mode", "value", NULL };
	static const char *const modes[] = { "fix-packets", "random-packets",
		"fix-time", NULL };
	char label[96];
	int mode;

	if (config_setting_type(s) != CONFIG_TYPE_GROUP) {
		diag_add(d, DIAG_ERROR, LINE(s),
		    "sampler %s must be a group { mode; value; }",
		    config_setting_name(s));
		return;
	}
	check_known(s, "a sampler", known, d);
	out->line = LINE(s);
	if (get_enum(s, "mode", modes, &mode, d) == 0) {
		diag_add(d, DIAG_ERROR, LINE(s),
		    "sampler needs a mode (\"fix-packets\", \"random-packets\" "
		    "or \"fix-time\")");
		return;
	}
	if (get_member(s, "mode") == NULL || mode < 0 || mode > 2)
		return;
	out->mode = mode == 0 ? NETSTREAM__SAMPLER_MODE__FIX_PACKETS :
	    mode == 1 ? NETSTREAM__SAMPLER_MODE__RANDOM_PACKETS :
			NETSTREAM__SAMPLER_MODE__FIX_TIME;
	snprintf(label, sizeof(label), "%s sampler %s value",
	    config_setting_name(s), modes[mode]);
	if (out->mode == NETSTREAM__SAMPLER_MODE__FIX_TIME) {
		if (get_uint_l(s, "value", label, 5, 30000, &out->value, d) == 0)
			diag_add(d, DIAG_ERROR, LINE(s),
			    "fix-time sampler needs a value in ms (5..30000)");
	} else if (get_uint_l(s, "value", label, 1, 65535, &out->value,
	    d) == 0)
		diag_add(d, DIAG_ERROR, LINE(s),
		    "packet sampler needs a value (1..65535)");
}

void
parse_sampler(config_setting_t *g, struct conf_sampler out[2],
    struct diags *d)
{
	static const char *const known[] = { "inbound", "outbound", NULL };
	config_setting_t *s = get_group(g, "sampler", d), *x;
	int i;

	if (s == NULL)
		return;
	check_known(s, "sampler", known, d);
	for (i = 0; i < 2; i++)
		if ((x = get_member(s, direction_names[i])) != NULL)
			parse_sampler_dir(x, &out[i], d);
}

static void
parse_system(config_setting_t *root, struct conf *c, struct diags *d)
{
	static const char *const known[] = { "export", "apply_record", "aging",
		"sampler", NULL };
	static const char *const kexport[] = { "version", "as", "bgp_nexthop",
		"source", "hosts", "template_timeout_rate",
		"template_refresh_packets", "options_timeout_seconds", "mtu",
		"compat", "interface_width", NULL };
	static const char *const kaging[] = { "active_minutes",
		"active_seconds", "inactive_seconds", NULL };
	static const char *const versions[] = { "9", "ipfix", NULL };
	static const char *const as[] = { "none", "origin", "peer", NULL };
	static const char *const compat[] = { "vrp", "extended", NULL };
	static const char *const widths[] = { "16", "32", NULL };
	config_setting_t *sys = get_group(root, "system", d), *ex, *ag, *v;
	unsigned mins = 30;
	int e, has_min, has_sec;

	if (sys == NULL)
		return;
	check_known(sys, "system", known, d);
	if ((ex = get_group(sys, "export", d)) != NULL) {
		check_known(ex, "system.export", kexport, d);
		if ((v = get_member(ex, "version")) != NULL &&
		    config_setting_type(v) == CONFIG_TYPE_INT) {
			if (config_setting_get_int(v) != 9)
				diag_add(d, DIAG_ERROR, LINE(v),
				    "version must be \"9\" or \"ipfix\"");
		} else if (get_enum(ex, "version", versions, &e, d) == 1)
			c->version_ipfix = e == 1;
		if (get_enum(ex, "as", as, &e, d) == 1)
			c->export_as = e;
		get_bool(ex, "bgp_nexthop", &c->bgp_nexthop, d);
		if (get_enum(ex, "compat", compat, &e, d) == 1)
			c->compat_extended = e == 1;
		if (get_enum(ex, "interface_width", widths, &e, d) == 1)
			c->interface_32bit = e == 1;
		get_uint(ex, "template_timeout_rate", 1, 3600,
		    &c->template_timeout, d);
		get_uint(ex, "template_refresh_packets", 0, 65535,
		    &c->template_refresh_packets, d);
		get_uint(ex, "options_timeout_seconds", 1, 3600,
		    &c->options_timeout, d);
		get_uint(ex, "mtu", 576, 9000, &c->mtu, d);
		parse_source(ex, "the system view", &c->sys, d);
		parse_hosts(ex, "the system view", c->version_ipfix, &c->sys,
		    d);
	}
	if ((v = get_member(sys, "apply_record")) != NULL) {
		c->apply_line = LINE(v);
		get_str(sys, "apply_record", c->apply_record, CONF_NAME_MAX, d);
	}
	if ((ag = get_group(sys, "aging", d)) != NULL) {
		check_known(ag, "system.aging", kaging, d);
		has_min = get_uint(ag, "active_minutes", 1, 60, &mins, d);
		has_sec = get_uint(ag, "active_seconds", 15, 59,
		    &c->active_seconds, d);
		if (has_min && has_sec)
			diag_add(d, DIAG_ERROR,
			    LINE(get_member(ag, "active_seconds")),
			    "set one of active_minutes (1..60) or active_seconds "
			    "(15..59), not both");
		get_uint(ag, "inactive_seconds", 5, 600, &c->inactive_seconds,
		    d);
		if (has_sec == 1 && has_min != 1)
			mins = 0;
	}
	if (c->active_seconds == 0 || mins == 0)
		c->active_seconds = c->active_seconds ? c->active_seconds :
		    mins * 60;
	if (c->active_seconds == 0)
		c->active_seconds = 30 * 60;
	parse_sampler(sys, c->sampler, d);
}

static void
parse_fields(config_setting_t *r, const char *name, int where,
    unsigned *out, int *n, const char *rec, struct diags *d)
{
	config_setting_t *l = get_list(r, name, 1, d), *f;
	const struct field_def *def;
	int i, j;

	if (l == NULL)
		return;
	for (i = 0; i < config_setting_length(l); i++) {
		const char *s;

		f = config_setting_get_elem(l, i);
		if (config_setting_type(f) != CONFIG_TYPE_STRING) {
			diag_add(d, DIAG_ERROR, LINE(f),
			    "record %s: %s entries must be field names", rec,
			    name);
			continue;
		}
		s = config_setting_get_string(f);
		if ((def = field_by_name(s)) == NULL) {
			diag_add(d, DIAG_ERROR, LINE(f),
			    "record %s: unknown field \"%s\" (see the field "
			    "table in etc/netstreamd.conf)",
			    rec, s);
			continue;
		}
		if (!(def->where & where)) {
			diag_add(d, DIAG_ERROR, LINE(f),
			    "record %s: \"%s\" cannot be a %s field", rec, s,
			    where == FIELD_KEY ? "match" : "collect");
			continue;
		}
		for (j = 0; j < *n; j++)
			if (out[j] == def->id)
				break;
		if (j < *n) {
			diag_add(d, DIAG_ERROR, LINE(f),
			    "record %s: field \"%s\" listed twice", rec, s);
			continue;
		}
		if (*n < CONF_MAX_FIELDS)
			out[(*n)++] = def->id;
	}
}

static void
parse_records(config_setting_t *root, struct conf *c, struct diags *d)
{
	static const char *const known[] = { "name", "match", "collect", NULL };
	config_setting_t *l = get_list(root, "records", 0, d), *r;
	struct keyidx names;
	int i, j, k, n;

	if (l == NULL)
		return;
	n = config_setting_length(l);
	if (n > CONF_MAX_RECORDS)
		diag_add(d, DIAG_ERROR, LINE(config_setting_get_elem(l,
		    CONF_MAX_RECORDS)),
		    "%d records: a device holds at most %d records", n,
		    CONF_MAX_RECORDS);
	c->records = xcalloc((size_t)n, sizeof(*c->records));
	keyidx_init(&names, (size_t)n);
	for (i = 0; i < n; i++) {
		struct conf_record *rec = &c->records[c->n_records];

		r = config_setting_get_elem(l, i);
		rec->line = LINE(r);
		if (config_setting_type(r) != CONFIG_TYPE_GROUP) {
			diag_add(d, DIAG_ERROR, LINE(r),
			    "a record must be a group { name; match; collect; }");
			continue;
		}
		check_known(r, "a record", known, d);
		if (get_str(r, "name", rec->name, CONF_NAME_MAX, d) == 0)
			diag_add(d, DIAG_ERROR, LINE(r),
			    "record needs a name (1..%d characters)",
			    CONF_NAME_MAX);
		parse_fields(r, "match", FIELD_KEY, rec->match, &rec->n_match,
		    rec->name, d);
		parse_fields(r, "collect", FIELD_COLLECT, rec->collect,
		    &rec->n_collect, rec->name, d);
		if (rec->n_match == 0)
			diag_add(d, DIAG_ERROR, LINE(r),
			    "record %s needs at least one match field",
			    rec->name);
		for (j = 0; j < rec->n_match; j++)
			for (k = 0; k < rec->n_collect; k++)
				if (rec->match[j] == rec->collect[k])
					diag_add(d, DIAG_ERROR, LINE(r),
					    "record %s: \"%s\" is both a match "
					    "and a collect field",
					    rec->name,
					    field_by_id(rec->match[j])->name);
		/* one error per duplicate: the list may be long (an error) */
		if (rec->name[0] &&
		    (j = keyidx_str(&names, rec->name, c->n_records)) >= 0)
			diag_add(d, DIAG_ERROR, rec->line,
			    "duplicate record %s (first at line %d)",
			    rec->name, c->records[j].line);
		c->n_records++;
	}
	keyidx_free(&names);
}

static void
parse_monitors(config_setting_t *root, struct conf *c, struct diags *d)
{
	static const char *const known[] = { "name", "apply_record", "source",
		"hosts", NULL };
	config_setting_t *l = get_list(root, "monitors", 0, d), *m, *v;
	char view[64];
	int i, j, n;

	if (l == NULL)
		return;
	n = config_setting_length(l);
	c->monitors = xcalloc((size_t)n, sizeof(*c->monitors));
	c->monitor_idx = xcalloc(1, sizeof(*c->monitor_idx));
	keyidx_init(c->monitor_idx, (size_t)n);
	for (i = 0; i < n; i++) {
		struct conf_monitor *mon = &c->monitors[c->n_monitors];

		m = config_setting_get_elem(l, i);
		mon->line = LINE(m);
		if (config_setting_type(m) != CONFIG_TYPE_GROUP) {
			diag_add(d, DIAG_ERROR, LINE(m),
			    "a monitor must be a group { name; apply_record; "
			    "hosts; }");
			continue;
		}
		check_known(m, "a monitor", known, d);
		if (get_str(m, "name", mon->name, CONF_NAME_MAX, d) == 0)
			diag_add(d, DIAG_ERROR, LINE(m),
			    "monitor needs a name (1..%d characters)",
			    CONF_NAME_MAX);
		snprintf(view, sizeof(view), "monitor %s", mon->name);
		if ((v = get_member(m, "apply_record")) != NULL) {
			mon->record_line = LINE(v);
			get_str(m, "apply_record", mon->record, CONF_NAME_MAX,
			    d);
		}
		parse_source(m, view, &mon->ex, d);
		parse_hosts(m, view, c->version_ipfix, &mon->ex, d);
		/* one error per duplicate, naming the first: linear */
		if (mon->name[0] && (j = keyidx_str(c->monitor_idx, mon->name,
		    c->n_monitors)) >= 0)
			diag_add(d, DIAG_ERROR, mon->line,
			    "duplicate monitor %s (first at line %d)",
			    mon->name, c->monitors[j].line);
		c->n_monitors++;
	}
}

/*
 * workers = N: the live capture threads of the slot. More threads than
 * this host has cores only share them and split the flow caches further.
 */
static void
parse_workers(config_setting_t *s, struct conf_slot *sl, struct diags *d)
{
	config_setting_t *w = get_member(s, "workers");
	long cores = sysconf(_SC_NPROCESSORS_ONLN);

	sl->workers = 1;
	if (w == NULL || get_uint(s, "workers", 1, CONF_WORKERS_MAX,
	    &sl->workers, d) != 1)
		return;
	sl->workers_line = LINE(w);
	if (cores > 0 && sl->workers > (unsigned)cores)
		diag_add(d, DIAG_ERROR, LINE(w),
		    "slot %u: workers = %u but this host has %ld cores online "
		    "(at most one capture thread per core)", sl->id,
		    sl->workers, cores);
}

/*
 * ipc:// or tcp://; tcp:// only with curve_dir, the keys of `nsctl keygen`
 * (the processes check the key files themselves when they start, on the
 * hosts they run on).
 */
static void
check_url(const struct conf *c, const char *what, const char *ep, int line,
    struct diags *d)
{
	if (strncmp(ep, "ipc://", 6) == 0)
		return;
	if (strncmp(ep, "tcp://", 6) != 0)
		diag_add(d, DIAG_ERROR, line,
		    "endpoint %s \"%s\": only ipc:// and tcp:// endpoints "
		    "are supported",
		    what, ep);
	else if (c->curve_dir[0] == '\0')
		diag_add(d, DIAG_ERROR, line,
		    "endpoint %s \"%s\": tcp:// needs CURVE keys: make them "
		    "with `nsctl keygen DIR` and set endpoints.curve_dir = "
		    "\"DIR\"",
		    what, ep);
}

/*
 * A public key as `nsctl keygen` prints it: 40 characters of Z85. A
 * client expects it of the server it connects to, so a server with any
 * other key (another host's) is not taken for it.
 */
static void
get_key(config_setting_t *g, const char *name, char out[CURVE_Z85_LEN + 1],
    struct diags *d)
{
	config_setting_t *s = get_member(g, name);
	const char *v;

	if (s == NULL)
		return;
	if (config_setting_type(s) != CONFIG_TYPE_STRING) {
		diag_add(d, DIAG_ERROR, LINE(s), "%s must be a string", name);
		return;
	}
	v = config_setting_get_string(s);
	if (curve_parse_key(v, strlen(v), out) == -1) {
		out[0] = '\0';
		diag_add(d, DIAG_ERROR, LINE(s),
		    "%s \"%.48s%s\": not a CURVE public key (40 characters "
		    "of Z85: the server.pub that `nsctl keygen` writes on the "
		    "host that binds)",
		    name, v, strlen(v) > 48 ? "..." : "");
	}
}

/*
 * Where a slot's sampled answers nsctl (its query socket), the public key
 * its host binds that socket with, and remote = true: it runs on another
 * host, so `nsctl up` here starts none, and what it connects to must be
 * reachable from there: every endpoint it uses on tcp://.
 */
static void
parse_remote(config_setting_t *s, const struct conf *c, struct conf_slot *sl,
    struct diags *d)
{
	static const int used[] = { 0, 1, 2, 3, 4 }; /* control..stats_in */
	char what[64], local[256] = "";
	size_t i, n = 0;
	int line;

	if (get_str(s, "endpoint", sl->endpoint, sizeof(sl->endpoint) - 1, d) ==
	    1) {
		snprintf(what, sizeof(what), "of slot %u", sl->id);
		check_url(c, what, sl->endpoint,
		    LINE(get_member(s, "endpoint")), d);
	}
	get_key(s, "server_key", sl->server_key, d);
	if (get_bool(s, "remote", &sl->remote, d) != 1 || !sl->remote)
		return;
	line = LINE(get_member(s, "remote"));
	for (i = 0; i < NELEM(used); i++) {
		const char *ep = c->endpoints[used[i]];

		if (strncmp(ep, "tcp://", 6) == 0)
			continue;
		n += (size_t)snprintf(local + n, sizeof(local) - n, "%s%s",
		    n ? ", " : "", bus_endpoint_names[used[i]].key);
		if (n >= sizeof(local))
			n = sizeof(local) - 1;
	}
	if (local[0] != '\0')
		diag_add(d, DIAG_ERROR, line,
		    "slot %u is remote, but its sampled could not reach "
		    "endpoints %s from its host: they are ipc:// (this host "
		    "only); set them to tcp://", sl->id, local);
	if (strncmp(sl->endpoint, "ipc://", 6) == 0)
		diag_add(d, DIAG_ERROR, LINE(get_member(s, "endpoint")),
		    "slot %u is remote: its endpoint \"%s\" is a socket of "
		    "its own host, nsctl here cannot reach it; use tcp://",
		    sl->id, sl->endpoint);
	else if (sl->endpoint[0] == '\0')
		diag_add(d, DIAG_NOTICE, line,
		    "slot %u is remote and has no endpoint: `nsctl display` "
		    "cannot ask its sampled (set endpoint = \"tcp://...\")",
		    sl->id);
	else if (sl->server_key[0] == '\0')
		diag_add(d, DIAG_NOTICE, line,
		    "slot %u is remote and has no server_key: nsctl expects "
		    "its sampled to bind with the key of cfgd's host, which "
		    "its host should not hold (give it keys of its own with "
		    "`nsctl keygen` there, and set server_key to its "
		    "server.pub)", sl->id);
}

static void
parse_slots(config_setting_t *root, struct conf *c, struct diags *d)
{
	static const char *const known[] = { "id", "sequence_mode", "hosts",
		"workers", "remote", "endpoint", "server_key", NULL };
	static const char *const modes[] = { "packet", "flow", NULL };
	config_setting_t *l = get_list(root, "slots", 0, d), *s;
	struct keyidx ids;
	char view[32];
	int i, j, n, mode;

	if (l == NULL)
		return;
	n = config_setting_length(l);
	c->slots = xcalloc((size_t)n, sizeof(*c->slots));
	keyidx_init(&ids, (size_t)n);
	for (i = 0; i < n; i++) {
		struct conf_slot *sl = &c->slots[c->n_slots];

		s = config_setting_get_elem(l, i);
		sl->line = LINE(s);
		if (config_setting_type(s) != CONFIG_TYPE_GROUP) {
			diag_add(d, DIAG_ERROR, LINE(s),
			    "a slot must be a group { id; hosts; }");
			continue;
		}
		check_known(s, "a slot", known, d);
		if (get_uint(s, "id", 0, CONF_SLOT_MAX, &sl->id, d) == 0)
			diag_add(d, DIAG_ERROR, LINE(s),
			    "slot needs an id (0..255)");
		if (get_enum(s, "sequence_mode", modes, &mode, d) == 1)
			sl->sequence_flow = mode == 1;
		parse_workers(s, sl, d);
		parse_remote(s, c, sl, d);
		snprintf(view, sizeof(view), "slot %u", sl->id);
		parse_hosts(s, view, c->version_ipfix, &sl->ex, d);
		if ((j = keyidx_num(&ids, sl->id, c->n_slots)) >= 0)
			diag_add(d, DIAG_ERROR, sl->line,
			    "duplicate slot %u (first at line %d)",
			    sl->id, c->slots[j].line);
		c->n_slots++;
	}
	keyidx_free(&ids);
}

/* the index of the record of that name, or -1 */
int
conf_find_record(const struct conf *c, const char *name)
{
	int i;

	for (i = 0; i < c->n_records; i++)
		if (strcmp(c->records[i].name, name) == 0)
			return i;
	return -1;
}


/* References: every record a view applies must exist. */
static void
check_references(struct conf *c, struct diags *d)
{
	int i;

	if (c->apply_record[0] && conf_find_record(c, c->apply_record) < 0)
		diag_add(d, DIAG_ERROR, c->apply_line,
		    "system apply_record: no record named %s", c->apply_record);
	for (i = 0; i < c->n_monitors; i++) {
		struct conf_monitor *m = &c->monitors[i];

		if (m->record[0] && conf_find_record(c, m->record) < 0)
			diag_add(d, DIAG_ERROR, m->record_line,
			    "monitor %s: apply_record: no record named %s",
			    m->name, m->record);
	}
}

/*
 * 2-byte AS fields (interface_width "16") cannot hold a 4-byte AS: it is
 * exported as AS_TRANS (RFC 6793). Say so once, at the first such route
 * (the file is sorted by prefix length here, so the lowest line).
 */
static void
check_routes_as2(const struct conf *c, const struct routes *rt,
    struct diags *d)
{
	const struct route *first = NULL;
	size_t i, n = 0;

	for (i = 0; i < rt->n; i++) {
		const struct route *r = &rt->v[i];
		uint32_t as = c->export_as == 2 ? r->peer_as : r->origin_as;

		if (as <= 0xffff)
			continue;
		n++;
		if (first == NULL || r->line < first->line)
			first = r;
	}
	if (first == NULL)
		return;
	diag_add(d, DIAG_NOTICE, c->routes_line,
	    "%s:%u: %s AS %u does not fit the 2-byte AS fields: exported as "
	    "AS_TRANS 23456 (%zu route%s); set system.export.interface_width "
	    "= \"32\" to export 4-byte AS numbers", c->routes_file,
	    first->line, c->export_as == 2 ? "peer" : "origin",
	    c->export_as == 2 ? first->peer_as : first->origin_as, n,
	    n == 1 ? "" : "s");
}

static void
check_routes(struct conf *c, struct diags *d)
{
	struct routes rt;
	char err[512];

	if (routes_load(c->routes_file, &rt, err, sizeof(err)) == -1) {
		diag_add(d, DIAG_ERROR, c->routes_line, "routes file: %s", err);
		return;
	}
	if (c->export_as != 0 && !c->interface_32bit)
		check_routes_as2(c, &rt, d);
	routes_free(&rt);
}

static void
check_endpoints(config_setting_t *g, struct conf *c, struct diags *d)
{
	char ep[BUS_ENDPOINT_MAX], dir[CONF_PATH_MAX];
	const char *name;
	int has_dir;
	size_t i;

	has_dir = get_str(g, "curve_dir", dir, sizeof(dir) - 1, d) == 1;
	if (has_dir)
		ns_strlcpy(c->curve_dir, dir, sizeof(c->curve_dir));
	if (has_dir && dir[0] != '/')
		diag_add(d, DIAG_ERROR, LINE(get_member(g, "curve_dir")),
		    "curve_dir \"%s\": must be an absolute path (the "
		    "processes do not run in the directory of the file)",
		    dir);
	get_key(g, "server_key", c->server_key, d);
	for (i = 0; i < BUS_N_ENDPOINTS; i++) {
		name = bus_endpoint_names[i].key;
		if (get_str(g, name, ep, sizeof(ep) - 1, d) != 1)
			continue;
		ns_strlcpy(c->endpoints[i], ep, sizeof(c->endpoints[i]));
		check_url(c, name, ep, LINE(get_member(g, name)), d);
	}
}

static void
parse_misc(config_setting_t *root, const char *cwd, struct conf *c,
    struct diags *d)
{
	static const char *const kroutes[] = { "file", NULL };
	static const char *const kcache[] = { "entries", "full", NULL };
	const char *kep[BUS_N_ENDPOINTS + 3];
	static const char *const full[] = { "evict-oldest", "drop-new", NULL };
	config_setting_t *g;
	char path[CONF_PATH_MAX];
	size_t i;
	int e;

	/* the bus's endpoints, and where the keys of tcp:// ones are */
	for (i = 0; i < BUS_N_ENDPOINTS; i++)
		kep[i] = bus_endpoint_names[i].key;
	kep[i++] = "curve_dir";
	kep[i++] = "server_key";
	kep[i] = NULL;
	get_str(root, "run_dir", c->run_dir, sizeof(c->run_dir) - 1, d);
	get_str(root, "database", c->database, sizeof(c->database) - 1, d);
	get_uint(root, "stats_interval_ms", 100, 60000, &c->stats_interval_ms,
	    d);
	if ((g = get_group(root, "routes", d)) != NULL) {
		check_known(g, "routes", kroutes, d);
		if (get_str(g, "file", path, sizeof(path) - 1, d) == 1) {
			resolve_path(cwd, path, c->routes_file,
			    sizeof(c->routes_file));
			c->routes_line = LINE(get_member(g, "file"));
		}
	}
	if ((g = get_group(root, "cache", d)) != NULL) {
		check_known(g, "cache", kcache, d);
		get_uint(g, "entries", 1024, 16777216, &c->cache_entries, d);
		if (get_enum(g, "full", full, &e, d) == 1)
			c->cache_drop_new = e == 1;
	}
	if ((g = get_group(root, "endpoints", d)) != NULL) {
		check_known(g, "endpoints", kep, d);
		check_endpoints(g, c, d);
	}
}

/* File hosts' paths, relative to the config's directory as captures are. */
static void
resolve_host_files(struct conf_view_export *ex, const char *cwd)
{
	char in[CONF_PATH_MAX];
	int i;

	for (i = 0; i < ex->n_hosts; i++)
		if (ex->hosts[i].file[0] != '\0') {
			ns_strlcpy(in, ex->hosts[i].file, sizeof(in));
			resolve_path(cwd, in, ex->hosts[i].file,
			    sizeof(ex->hosts[i].file));
		}
}

/* What a setting left out means (DESIGN.md's defaults). */
void
conf_defaults(struct conf *c)
{
	memset(c, 0, sizeof(*c));
	ns_strlcpy(c->run_dir, DEFAULT_RUN_DIR, sizeof(c->run_dir));
	ns_strlcpy(c->database, "/var/lib/netstreamd/config.db",
	    sizeof(c->database));
	c->template_timeout = 30;
	c->template_refresh_packets = 20;
	c->options_timeout = 60;
	c->mtu = 1400;
	c->inactive_seconds = 30; /* active: see parse_system() */
	c->cache_entries = 1048576;
	c->stats_interval_ms = 1000;
}

/*
 * Fills c from cfg. Every problem becomes one diagnostic; returns -1 when
 * any of them is an error.
 */
int
conf_from_config(config_t *cfg, const char *cwd, struct conf *c,
    struct diags *d)
{
	static const char *const known[] = { "run_dir", "database", "system",
		"records", "monitors", "slots", "interfaces", "routes", "cache",
		"endpoints", "stats_interval_ms", NULL };
	config_setting_t *root = config_root_setting(cfg);
	int i;

	conf_defaults(c);
	check_known(root, "the top level", known, d);
	parse_misc(root, cwd, c, d);
	parse_system(root, c, d);
	/* no system group at all: the default, not 0 (every flow aged) */
	if (c->active_seconds == 0)
		c->active_seconds = 30 * 60;
	if (c->routes_file[0] != '\0') /* after system: the AS settings */
		check_routes(c, d);
	parse_records(root, c, d);
	parse_monitors(root, c, d);
	parse_slots(root, c, d);
	parse_interfaces(root, cwd, c, d);
	resolve_host_files(&c->sys, cwd);
	for (i = 0; i < c->n_monitors; i++)
		resolve_host_files(&c->monitors[i].ex, cwd);
	for (i = 0; i < c->n_slots; i++)
		resolve_host_files(&c->slots[i].ex, cwd);
	check_references(c, d);
	if (c->n_ifaces == 0)
		diag_add(d, DIAG_NOTICE, 0,
		    "no interfaces: nothing is captured or exported");
	return d->errors ? -1 : 0;
}
