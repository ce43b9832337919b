/* cdecode.h: collector-side NetFlow v9 / IPFIX decoder (collect, fuzz). */
#ifndef NS_CDECODE_H
#define NS_CDECODE_H

#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

/* memory bounds: more is refused and counted, never allocated */
#define CDECODE_MAX_TEMPLATES 4096 /* over every exporter and domain */
#define CDECODE_MAX_SOURCES 1024   /* (exporter, version, domain) */
#define CDECODE_MAX_FIELDS 256	   /* per template */

/* cdecode_init() flags */
#define CDECODE_V9_FLOW_SEQ 0x1 /* v9 Sequence counts records, not packets */

/* Why a packet was malformed; the rest of it is dropped. */
enum cd_reason {
	CD_OK = 0,
	CD_SHORT_HEADER,   /* shorter than the v9 / IPFIX header */
	CD_BAD_VERSION,	   /* neither 9 nor 10 */
	CD_LENGTH,	   /* IPFIX Length is not the datagram's length */
	CD_SET_LENGTH,	   /* set length < 4 or past the end */
	CD_TMPL_ID,	   /* template id < 256 */
	CD_TMPL_NO_FIELDS, /* template with 0 fields */
	CD_TMPL_FIELD_LEN, /* field length 0, or 0xffff in v9 */
	CD_TMPL_SCOPE,	   /* options template scope count / lengths wrong */
	CD_TMPL_SHORT,	   /* template record longer than its set */
	CD_RECORD_LEN,	   /* data record longer than its set */
	CD_NREASONS
};

/* One field of a decoded record; val points into the packet. */
struct cdecode_field {
	uint16_t type; /* v9 field type / IPFIX element id, no enterprise bit */
	uint16_t len;  /* bytes of val (the actual length for IPFIX varlen) */
	uint32_t pen;  /* IPFIX enterprise number, 0 for IANA elements */
	int scope;     /* a scope field; in v9 type is then a scope type */
	const uint8_t *val;
};

/* One decoded data or options record, valid during the callback only. */
struct cdecode_rec {
	const struct sockaddr_storage *from;
	int version;	  /* 9 or 10 */
	uint32_t domain;  /* v9 Source ID / IPFIX Observation Domain ID */
	uint32_t seq;	  /* the header's Sequence Number */
	uint32_t time;	  /* v9 UNIX Secs / IPFIX Export Time */
	uint16_t tmpl_id; /* the set id */
	int options;	  /* an options record (scope fields first) */
	unsigned n_fields;
	const struct cdecode_field *f;
};

typedef void (*cdecode_cb)(const struct cdecode_rec *rec, void *arg);

/* What one (exporter address and port, version, domain) sent. */
struct cdecode_source {
	struct sockaddr_storage addr;
	int version;
	uint32_t domain;
	uint64_t packets;
	uint64_t data_records;	  /* decoded, of data templates */
	uint64_t options_records; /* decoded, of options templates */
	uint64_t templates; /* template records received (refreshes too) */
	uint64_t options_templates;
	uint64_t withdrawals;	 /* IPFIX template withdrawals */
	uint64_t no_template;	 /* data sets skipped: template unknown */
	uint64_t unknown_sets;	 /* reserved set ids, skipped */
	uint64_t count_mismatch; /* v9 Count differs from the records */
	uint64_t seq_gaps;	 /* sequence jumped forward */
	uint64_t seq_lost;	 /* by how much, summed */
	uint64_t seq_ooo;	 /* sequence went backwards */
	uint64_t malformed[CD_NREASONS];
	unsigned active_templates;
	uint32_t next_seq; /* expected Sequence of the next packet */
	int seq_known;	   /* next_seq is meaningful */
};

struct cd_tmpl;

struct cdecode {
	unsigned flags;
	struct cdecode_source *src;
	size_t n_src, cap_src;
	struct cd_tmpl **hash; /* templates by (source, id) */
	unsigned n_templates;
	uint64_t templates_refused; /* over CDECODE_MAX_TEMPLATES or fields */
	uint64_t sources_refused;   /* packets of sources past the limit */
	uint64_t malformed[CD_NREASONS]; /* every source, and headerless */
	size_t last_src;		 /* the last source hit, a cache */
	struct cdecode_field f[CDECODE_MAX_FIELDS];
};

/* cdecode.c */
void cdecode_init(struct cdecode *st, unsigned flags);
void cdecode_free(struct cdecode *st);
int cdecode_packet(struct cdecode *st, const struct sockaddr_storage *from,
		   const uint8_t *p, size_t len, cdecode_cb cb, void *arg);
const char *cdecode_reason_name(int reason);
const struct cdecode_source *
cdecode_find_source(const struct cdecode *st,
		    const struct sockaddr_storage *from, int version,
		    uint32_t domain);

#endif
