/*
 * times.c: the times a batch carries, as each format can carry them.
 *
 * A batch has its export time E and the boot B its rows' times count
 * from (unix ms, the wall clock of sampled as the batch left), and each
 * row's first/last-switched as ms since B mod 2^32 (sampled may be up for
 * more than 49.7 days). A flow's time is never after E and well within
 * 2^31 ms before it, which makes it exact: E - ((E - B) - rel), the
 * difference taken mod 2^32, signed.
 *
 * v9 carries 32-bit seconds in its header (to 2106-02-07 06:28:15) and
 * its flow times as sysUpTime ms, 32 bits: a packet counts them from a
 * boot of its own (pkt_boot), B itself whenever that fits, so sysUpTime
 * is the slot's uptime. IPFIX carries flow times as 64-bit ms (152/153)
 * and its header's export time as 32-bit seconds. A time outside what
 * the format carries is clamped to its nearest end and counted
 * (times_clamped of the host), never a reason to refuse the batch.
 */
#include <stdint.h>
#include <string.h>

#include "exportd.h"
#include "fields.h"

/* a v9 packet's sysUpTime stays this far below 2^32 ms: its header time
 * is taken at its close, up to a second or two after it opened */
#define UP_MAX ((INT64_C(1) << 32) - 10000)

static uint32_t
get32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	    (uint32_t)p[2] << 8 | p[3];
}

static void
put(uint8_t *p, uint64_t v, int len)
{
	for (int k = len - 1; k >= 0; k--, v >>= 8)
		p[k] = (uint8_t)v;
}

/* A row's time (ms since boot, mod 2^32) as unix ms. */
int64_t
times_abs(int64_t export_ms, int64_t boot_ms, uint32_t rel)
{
	uint32_t age = (uint32_t)(uint64_t)(export_ms - boot_ms) - rel;

	return export_ms - (int32_t)age;
}

/*
 * A header's seconds for export clock ms: v9 rounds up (dest_header says
 * why), IPFIX does not. *clamped is set when 32 bits cannot hold them.
 */
uint32_t
times_header_secs(int64_t ms, int ipfix, int *clamped)
{
	int64_t secs = ms / 1000;

	*clamped = 0;
	if (!ipfix && ms % 1000 != 0 && secs < (int64_t)UINT32_MAX)
		secs++; /* in the last second v9 has, flows may be after it */
	if (secs > (int64_t)UINT32_MAX || secs < 0) {
		*clamped = 1;
		return secs < 0 ? 0 : UINT32_MAX;
	}
	return (uint32_t)secs;
}

/*
 * The boot a v9 packet opened at export clock E, for a batch counting
 * from B, counts its sysUpTime from: B, unless B is before the epoch,
 * after the header's time (past 2106), or so long before that 32 bits
 * of ms would not reach the header's time.
 */
int64_t
times_pkt_boot(int64_t export_ms, int64_t boot_ms)
{
	int c;
	int64_t h = (int64_t)times_header_secs(export_ms, 0, &c) * 1000;
	int64_t p = boot_ms < 0 ? 0 : boot_ms;

	if (p > h)
		p = h;
	if (h - p >= UP_MAX)
		p = h - (INT64_C(1) << 31);
	return p;
}

/* 1 when a batch's v9 rows go as they are into a packet counting from pboot. */
int
times_v9_as_is(const Netstream__FlowBatch *b, int64_t pboot)
{
	int c;

	(void)times_header_secs(b->export_time_ms, 0, &c);
	return !c && pboot == b->sys_boot_ms &&
	    b->export_time_ms - b->sys_boot_ms < UP_MAX;
}

/*
 * Row of template in, rewritten: IPFIX (ipfix != 0) takes 152/153 in
 * 8 bytes (ipfix_times() made its template); v9 keeps 21/22 in 4 bytes,
 * counted from pboot. Returns the times clamped.
 */
unsigned
times_row(const struct tmpl *in, const uint8_t *row, int64_t export_ms,
    int64_t boot_ms, int ipfix, int64_t pboot, uint8_t *out)
{
	/* the end of the last second a v9 header carries */
	const int64_t v9_max = (int64_t)UINT32_MAX * 1000 + 999;
	unsigned clamped = 0;

	for (unsigned i = 0; i < in->n_fields; i++) {
		const struct tmpl_field *f = &in->f[i];
		int64_t t;

		if (ipfix && i >= in->n_scope && f->type == F_SAMPLER_ID &&
		    f->len <= 8) {
			/* selectorId, 8 bytes (ipfix_times() made it so) */
			memset(out, 0, 8 - f->len);
			memcpy(out + 8 - f->len, row, f->len);
			out += 8;
			row += f->len;
			continue;
		}
		if (i < in->n_scope || f->len != 4 ||
		    (f->type != F_FIRST_SWITCHED && f->type != F_LAST_SWITCHED)) {
			memcpy(out, row, f->len);
			out += f->len;
			row += f->len;
			continue;
		}
		t = times_abs(export_ms, boot_ms, get32(row));
		row += 4;
		if (ipfix) {
			if (t < 0) {
				t = 0;
				clamped++;
			}
			put(out, (uint64_t)t, 8);
			out += 8;
			continue;
		}
		if (t < pboot || t > v9_max || t - pboot > (int64_t)UINT32_MAX) {
			t = t < pboot ? pboot : t > v9_max ? v9_max : t;
			if (t - pboot > (int64_t)UINT32_MAX)
				t = pboot + UINT32_MAX;
			clamped++;
		}
		put(out, (uint64_t)(t - pboot), 4);
		out += 4;
	}
	return clamped;
}
