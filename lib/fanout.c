/*
 * fanout.c: how the packets of a live device are split between the
 * workers of its slot. A flow must live in exactly one worker, so the
 * split may only depend on what every record bound on the device keys
 * on: the IPv6 source and destination addresses are the fields the
 * kernel can read at a fixed place. (The kernel's own flow hash,
 * PACKET_FANOUT_HASH, takes the ports too: a record that does not match
 * on them, say addresses and destination port, would have one flow's
 * connections from several source ports in several workers; and a first
 * fragment has no ports for the kernel, where the record's key has them.)
 */
#include <string.h>

#include "fields.h"
#include "plan.h"

static unsigned
record_addrs(const Netstream__Record *r)
{
	unsigned m = 0;
	size_t i;

	for (i = 0; i < r->n_match; i++)
		if (r->match[i] == F_SRC_ADDR)
			m |= FANOUT_SRC;
		else if (r->match[i] == F_DST_ADDR)
			m |= FANOUT_DST;
	return m;
}

/*
 * FANOUT_SRC | FANOUT_DST: the addresses every record bound on interface
 * iface matches on, 0 when they share neither. A direction with no
 * record only counts packets and asks nothing.
 */
unsigned
plan_fanout_fields(const Netstream__Plan *p, const char *iface)
{
	unsigned m = FANOUT_SRC | FANOUT_DST;
	size_t i;

	for (i = 0; i < p->n_bindings; i++) {
		const Netstream__Binding *b = p->bindings[i];

		if (strcmp(b->interface, iface) != 0 || b->record < 0 ||
		    (size_t)b->record >= p->n_records)
			continue;
		m &= record_addrs(p->records[b->record]);
	}
	return m;
}

/* The capture threads of a slot: 1 unless the plan says more. */
unsigned
plan_slot_workers(const Netstream__Plan *p, unsigned slot)
{
	size_t i;

	for (i = 0; i < p->n_slots; i++)
		if (p->slots[i]->id == slot)
			return p->slots[i]->workers > 1 ?
			    p->slots[i]->workers : 1;
	return 1;
}
