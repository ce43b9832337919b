/* xpkt.h: export packet builder, NetFlow v9 (RFC 3954) and IPFIX (RFC 7011). */
#ifndef NS_XPKT_H
#define NS_XPKT_H

#include <stddef.h>
#include <stdint.h>

#include "wbuf.h"

enum xpkt_format {
	XPKT_V9 = 9,
	XPKT_IPFIX = 10,
};

#define V9_HDR_LEN 20
#define IPFIX_HDR_LEN 16
#define XPKT_SET_HDR_LEN 4
#define V9_SET_TEMPLATE 0
#define V9_SET_OPTIONS 1
#define IPFIX_SET_TEMPLATE 2
#define IPFIX_SET_OPTIONS 3
#define XPKT_MIN_DATA_SET_ID 256
#define XPKT_MAX_LEN 65535 /* v9 and IPFIX lengths are 16 bits */
#define IPFIX_FLOW_START_MS 152 /* flowStartMilliseconds */
#define IPFIX_FLOW_END_MS 153	/* flowEndMilliseconds */

#define TMPL_MAX_FIELDS 48

#define TMPL_VARLEN 0xffff /* IPFIX variable length (RFC 7011 section 7) */

struct tmpl_field {
	uint16_t type; /* IPFIX element id = v9 field type; no enterprise bit */
	uint16_t len;  /* fixed, or TMPL_VARLEN (IPFIX options only) */
};

/*
 * A data template (n_scope 0) or an options template (n_scope > 0: the first
 * n_scope fields are its scope). Fields use IPFIX element ids in both
 * formats; v9 puts the matching scope type on the wire for scope fields
 * (ingressInterface 10 -> Interface 2, see v9.c).
 */
struct tmpl {
	uint16_t id; /* >= 256, and the id of its data sets */
	uint16_t n_fields;
	uint16_t n_scope;
	uint16_t rec_len; /* bytes of one data record: the sum of f[].len;
			     a varlen field counts 1, its shortest */
	struct tmpl_field f[TMPL_MAX_FIELDS];
};

/*
 * One export packet being built in a caller's buffer of at least mtu bytes.
 * Sets are opened as records need them and closed (zero-padded to 4 bytes,
 * Length written) when another set opens or at xpkt_finish(). An add that
 * does not fit leaves the packet as it was.
 */
struct xpkt {
	int format;	    /* enum xpkt_format */
	struct wbuf w;	    /* cap = mtu */
	int set_id;	    /* the open set, -1 when none */
	size_t set_off;	    /* offset of its set header */
	uint16_t n_records; /* templates + options templates + data records */
	uint16_t n_data;    /* data records */
};

/* records in the packet: the v9 header Count */
static inline unsigned
xpkt_records(const struct xpkt *x)
{
	return x->n_records;
}

/* data records in the packet: what IPFIX Sequence counts */
static inline unsigned
xpkt_data_records(const struct xpkt *x)
{
	return x->n_data;
}

/* xpkt.c */
int tmpl_add_field(struct tmpl *t, uint16_t type, uint16_t len);
int tmpl_check(const struct tmpl *t);
void xpkt_begin(struct xpkt *x, int format, uint8_t *buf, size_t mtu,
		uint32_t sys_uptime_ms, uint32_t unix_secs, uint32_t sequence,
		uint32_t domain);
int xpkt_add_template(struct xpkt *x, const struct tmpl *t);
int xpkt_add_data(struct xpkt *x, const struct tmpl *t, const uint8_t *row);
int xpkt_add_withdrawal(struct xpkt *x, uint16_t id, int options);
int xpkt_add_data_len(struct xpkt *x, const struct tmpl *t,
		      const uint8_t *row, size_t len);
size_t xpkt_put_varlen(uint8_t *out, const void *val, size_t len);
size_t xpkt_finish(struct xpkt *x);

/* v9.c: the v9 wire layout, used by xpkt.c */
void v9_header(struct wbuf *w, uint32_t sys_uptime_ms, uint32_t unix_secs,
	       uint32_t sequence, uint32_t source_id);
void v9_template(struct wbuf *w, const struct tmpl *t);
void v9_finish(struct wbuf *w, uint16_t count);

/* ipfix.c: the IPFIX wire layout, used by xpkt.c */
void ipfix_header(struct wbuf *w, uint32_t export_time, uint32_t sequence,
		  uint32_t domain);
void ipfix_template(struct wbuf *w, const struct tmpl *t);
void ipfix_finish(struct wbuf *w);
int ipfix_times(const struct tmpl *in, struct tmpl *out);

#endif
