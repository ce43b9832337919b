/* plan_text.c: the effective plan as `nsctl show effective` prints it. */
#include <stdio.h>

#include "fields.h"
#include "plan.h"

const char *
sampler_mode_name(int mode)
{
	switch (mode) {
	case NETSTREAM__SAMPLER_MODE__FIX_PACKETS:
		return "fix-packets";
	case NETSTREAM__SAMPLER_MODE__RANDOM_PACKETS:
		return "random-packets";
	case NETSTREAM__SAMPLER_MODE__FIX_TIME:
		return "fix-time";
	default:
		return "none";
	}
}

const char *
direction_name(int dir)
{
	return dir == NETSTREAM__DIRECTION__OUTBOUND ? "outbound" : "inbound";
}

static void
render_fields(struct sbuf *out, const uint32_t *f, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		const struct field_def *d = field_by_id(f[i]);

		sbuf_printf(out, "%s%s", i ? "," : "", d ? d->name : "?");
	}
	if (n == 0)
		sbuf_printf(out, "-");
}

static void
render_host(struct sbuf *out, const Netstream__Host *h)
{
	sbuf_printf(out, "    -> %s port %u %s dscp %u", h->address, h->port,
	    h->ipfix ? "ipfix" : "v9", h->dscp);
	if (h->vpn_instance[0])
		sbuf_printf(out, " vpn-instance %s", h->vpn_instance);
	if (h->pace_pps != 0 && h->pace_pps != PLAN_PACE_DEFAULT)
		sbuf_printf(out, " pace %u pps", h->pace_pps);
	if (h->source_address[0])
		sbuf_printf(out, " from %s port %u", h->source_address,
		    h->source_port);
	else
		sbuf_printf(out, " from (kernel's choice)");
	sbuf_printf(out, "  [%s]\n", h->view);
}

static void
render_binding(struct sbuf *out, const Netstream__Plan *p,
    const Netstream__Binding *b)
{
	sbuf_printf(out, "  %s %s (slot %u, ifindex %u): ", b->interface,
	    direction_name(b->direction), b->slot, b->ifindex);
	if (b->record < 0 || (size_t)b->record >= p->n_records)
		sbuf_printf(out, "no record applies (packets counted only)");
	else if (b->monitor[0])
		sbuf_printf(out, "record %s via monitor %s",
		    p->records[b->record]->name, b->monitor);
	else
		sbuf_printf(out, "record %s via system",
		    p->records[b->record]->name);
	if (b->sampler && b->sampler->mode)
		sbuf_printf(out, ", sampler %s %u",
		    sampler_mode_name(b->sampler->mode), b->sampler->value);
	sbuf_printf(out, "\n");
	for (size_t i = 0; i < b->n_hosts; i++)
		render_host(out, b->hosts[i]);
}

void
plan_render(const Netstream__Plan *p, struct sbuf *out)
{
	static const char *as[] = { "none", "origin", "peer" };
	size_t i;

	sbuf_printf(out, "revision %llu (generation %llu)\n",
	    (unsigned long long)p->revision,
	    (unsigned long long)p->generation);
	sbuf_printf(out,
	    "export: aging active %us inactive %us, template refresh %u min "
	    "or %u packets, options every %us, as %s, bgp-nexthop %s, "
	    "compat %s, mtu %u\n",
	    p->active_seconds, p->inactive_seconds, p->template_timeout_minutes,
	    p->template_refresh_packets, p->options_timeout_seconds,
	    p->export_as < 3 ? as[p->export_as] : "?",
	    p->bgp_nexthop ? "yes" : "no",
	    p->compat_extended ? "extended" : "vrp", p->mtu);
	sbuf_printf(out, "cache: %u entries, when full %s; routes %s\n",
	    p->cache_entries, p->cache_drop_new ? "drop-new" : "evict-oldest",
	    p->routes_file[0] ? p->routes_file : "(none)");
	sbuf_printf(out, "records:\n");
	for (i = 0; i < p->n_records; i++) {
		const Netstream__Record *r = p->records[i];

		sbuf_printf(out, "  %s template %u match ", r->name,
		    r->template_id);
		render_fields(out, r->match, r->n_match);
		sbuf_printf(out, " collect ");
		render_fields(out, r->collect, r->n_collect);
		sbuf_printf(out, "\n");
	}
	sbuf_printf(out, "slots:\n");
	for (i = 0; i < p->n_slots; i++) {
		sbuf_printf(out, "  slot %u sequence-mode %s", p->slots[i]->id,
		    p->slots[i]->sequence_flow ? "flow" : "packet");
		if (p->slots[i]->workers > 1) /* live capture threads */
			sbuf_printf(out, " workers %u", p->slots[i]->workers);
		if (p->slots[i]->remote) /* its sampled runs on another host */
			sbuf_printf(out, " remote");
		sbuf_printf(out, "\n");
	}
	sbuf_printf(out, "interfaces:\n");
	for (i = 0; i < p->n_interfaces; i++) {
		const Netstream__Interface *f = p->interfaces[i];

		sbuf_printf(out, "  %s slot %u ifindex %u ", f->name, f->slot,
		    f->ifindex);
		if (f->device[0])
			sbuf_printf(out, "device %s\n", f->device);
		else
			sbuf_printf(out, "file %s (%s, %s)\n", f->file,
			    f->realtime ? "realtime" : "fast",
			    direction_name(f->file_direction));
	}
	sbuf_printf(out, "bindings:\n");
	for (i = 0; i < p->n_bindings; i++)
		render_binding(out, p, p->bindings[i]);
	if (p->n_not_effective > 0)
		sbuf_printf(out, "not effective:\n");
	for (i = 0; i < p->n_not_effective; i++)
		sbuf_printf(out, "  line %u: %s: %s\n",
		    p->not_effective[i]->line, p->not_effective[i]->item,
		    p->not_effective[i]->reason);
}
