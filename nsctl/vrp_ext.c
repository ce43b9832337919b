/*
 * vrp_ext.c: the `# netstreamd: KEY VALUE` lines, what netstreamd has and
 * no vendor command sets (capture sources, pacing, compat, the routes
 * file, workers...), applied in their view. To VRP they are comments, so
 * a file with them still reads on a router.
 */
#include <stdio.h>
#include <string.h>

#include "plan.h"
#include "util.h"
#include "vrp_int.h"

static int
ext_system(struct imp *im, const struct cmd *cmd)
{
	struct conf *c = im->c;

	im->lines[CW_MISC] = im->line;
	switch (cmd->ext) {
	case X_RUN_DIR:
		ns_strlcpy(c->run_dir, cmd->text, sizeof(c->run_dir));
		break;
	case X_DATABASE:
		ns_strlcpy(c->database, cmd->text, sizeof(c->database));
		break;
	case X_STATS:
		c->stats_interval_ms = cmd->value;
		break;
	case X_ROUTES:
		ns_strlcpy(c->routes_file, cmd->text, sizeof(c->routes_file));
		c->routes_line = im->line;
		break;
	case X_CACHE_ENTRIES:
		c->cache_entries = cmd->value;
		break;
	case X_CACHE_FULL:
		c->cache_drop_new = cmd->mode == 1;
		break;
	case X_REFRESH:
		c->template_refresh_packets = cmd->value;
		break;
	case X_OPTIONS:
		c->options_timeout = cmd->value;
		break;
	case X_MTU:
		c->mtu = cmd->value;
		break;
	case X_COMPAT:
		c->compat_extended = cmd->mode == 1;
		break;
	case X_WIDTH:
		c->interface_32bit = cmd->mode == 1;
		break;
	case X_ENDPOINT:
		ns_strlcpy(c->endpoints[cmd->mode], cmd->text,
		    sizeof(c->endpoints[0]));
		break;
	case X_CURVE_DIR:
		ns_strlcpy(c->curve_dir, cmd->text, sizeof(c->curve_dir));
		break;
	case X_SERVER_KEY:
		ns_strlcpy(c->server_key, cmd->text, sizeof(c->server_key));
		break;
	}
	return 0;
}

static int
ext_iface(struct imp *im, const struct cmd *cmd)
{
	struct conf_iface *f = &im->c->ifaces[im->cur];

	switch (cmd->ext) {
	case X_DEVICE:
		ns_strlcpy(f->device, cmd->text, sizeof(f->device));
		break;
	case X_FILE:
		ns_strlcpy(f->file, cmd->text, sizeof(f->file));
		break;
	case X_REPLAY:
		f->realtime = cmd->mode == 1;
		break;
	case X_FILE_DIR:
		f->file_dir = cmd->mode;
		break;
	case X_IFINDEX:
		f->ifindex = cmd->value;
		break;
	case X_BUFFER:
		f->buffer_kb = cmd->value;
		break;
	case X_SLOT:
		f->slot = cmd->value;
		break;
	case X_DESC:
		ns_strlcpy(f->description, cmd->text, sizeof(f->description));
		break;
	}
	return 0;
}

/* host-file PATH: a file host of this view (IPFIX, RFC 5655) */
static int
ext_host_file(struct imp *im, const struct cmd *cmd)
{
	struct conf_view_export *ex = vrp_view_ex(im);
	struct conf_host *h;

	if (ex->n_hosts >= CONF_MAX_HOSTS)
		return vrp_perr(im, "at most %d export hosts in a view",
		    CONF_MAX_HOSTS);
	h = &ex->hosts[ex->n_hosts++];
	memset(h, 0, sizeof(*h));
	h->line = im->line;
	h->ipfix = 1;
	h->pace_pps = PLAN_PACE_DEFAULT;
	ns_strlcpy(h->file, cmd->text, sizeof(h->file));
	return 0;
}

/* host-pace-pps [ipv6] ADDRESS PORT PPS, host-tcp [ipv6] ADDRESS PORT:
 * of a host of this view */
static int
ext_pace(struct imp *im, const struct cmd *cmd)
{
	struct conf_view_export *ex = vrp_view_ex(im);
	int i = vrp_find_host(ex, cmd->host.address, cmd->host.port);

	if (i >= 0) {
		if (cmd->ext == X_HOST_TCP)
			ex->hosts[i].tcp = 1;
		else
			ex->hosts[i].pace_pps = cmd->value;
		return 0;
	}
	return vrp_perr(im, "no export host %s port %u in this view (the "
	    "host's line comes first)", cmd->host.address, cmd->host.port);
}

/* a slot on another host: remote, query-endpoint URL, server-key KEY */
static int
ext_slot(struct imp *im, const struct cmd *cmd)
{
	struct conf_slot *s = &im->c->slots[im->cur];

	if (cmd->ext == X_REMOTE)
		s->remote = 1;
	else if (cmd->ext == X_SLOT_ENDPOINT)
		ns_strlcpy(s->endpoint, cmd->text, sizeof(s->endpoint));
	else
		ns_strlcpy(s->server_key, cmd->text, sizeof(s->server_key));
	return 0;
}

int
vrp_apply_ext(struct imp *im, const struct cmd *cmd)
{
	if (cmd->ext == X_PACE || cmd->ext == X_HOST_TCP)
		return ext_pace(im, cmd);
	if (cmd->ext == X_HOST_FILE)
		return ext_host_file(im, cmd);
	if (im->view == V_SLOT && (cmd->ext == X_SERVER_KEY ||
	    cmd->ext == X_REMOTE || cmd->ext == X_SLOT_ENDPOINT))
		return ext_slot(im, cmd);
	if (cmd->ext == X_WORKERS) {
		im->c->slots[im->cur].workers = cmd->value;
		im->c->slots[im->cur].workers_line = im->line;
		return 0;
	}
	if (im->view == V_IF)
		return ext_iface(im, cmd);
	return ext_system(im, cmd);
}

void
vrp_hosts_version(const struct conf *c, struct conf_view_export *ex)
{
	int i;

	for (i = 0; i < ex->n_hosts; i++)
		if (ex->hosts[i].ipfix < 0)
			ex->hosts[i].ipfix = c->version_ipfix;
}
