/* exportd.h: the export process: hosts, (host, domain) state, sockets. */
#ifndef NS_EXPORTD_H
#define NS_EXPORTD_H

#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "bus.h"
#include "netstream.pb-c.h"
#include "plan.h"
#include "xpkt.h"

#define XD_MAX_ROWS 100000     /* rows of one batch */
#define XD_MAX_HOSTS 8	       /* hosts of one batch */
#define XD_FIELD_MAX_LEN 32    /* bytes of one field of a batch */
#define XD_OPEN_MS 100	       /* a packet stays open at most this long */
#define XD_SEND_BATCH 64       /* packets per sendmmsg */
#define XD_HOST_QUEUE 512      /* queued to a host: exportd stops pulling */
#define XD_HOST_QUEUE_MAX 65536 /* ... and past this drops (queue-full) */
#define XD_PACE_BURST 32       /* packets a paced host may get at once */
#define XD_SOCK_RETRY_MS 5000  /* a socket that failed to open is retried */
#define XD_PKT_TMPLS 8	       /* data templates counted per packet */
#define XD_TSTATS_MAX 4096     /* (template, record) pairs counted */
#define XD_ERRS 8	       /* distinct errors counted per host */
#define XD_SENT_KEY 24	       /* bytes of a packet that tell it apart */
#define XD_CONFIRM_MS 5000     /* a packet no error came back for in this
				  long is sent: an ICMP error comes a round
				  trip after, a failed neighbour resolution
				  3 s after */
#define XD_SENT_MIN 256	       /* packets in flight a host remembers, */
#define XD_SENT_MAX 32768      /* ... growing to this; past it, the oldest
				  is taken as sent early */
#define XD_TMPL_OPT_SAMPLER 256 /* options templates (cfgd starts at 258) */
#define XD_TMPL_OPT_IFNAME 257
/* IPFIX selector reports, one template per algorithm (RFC 5477): 256 is
 * the systematic count-based one; cfgd hands out ids up to 65279 */
#define XD_TMPL_OPT_RANDOM 65280
#define XD_TMPL_OPT_TIME 65281
#define XD_IFNAME_MAX 63	/* bytes of an interface name (the config's) */
#define XD_PATH_MAX 1024	/* a file host's path */
#define XD_IFDESC_MAX 255	/* ... and of its description */

/*
 * Times a batch may carry, unix ms: far past any format (IPFIX's 64-bit
 * ms included), near enough that no sum of two overflows.
 */
#define XD_CLOCK_MAX (INT64_C(1) << 53)
/* the uptime going back by more than this: a new sender, timers restart */
#define XD_UP_BACK_MS 2000

/* Why a batch was refused: bad_batches{reason}. */

enum xd_bad {
	BAD_BUS_TOO_BIG,
	BAD_BUS_DECODE,
	BAD_BUS_VERSION,
	BAD_BUS_EMPTY,
	BAD_BUS_FRAMES,
	BAD_TYPE,
	BAD_TEMPLATE_ID,
	BAD_FIELDS,
	BAD_FIELD,
	BAD_ROW_LEN,
	BAD_N_ROWS,
	BAD_ROWS,
	BAD_HOSTS,
	BAD_ADDRESS,
	BAD_PORT,
	BAD_DSCP,
	BAD_SOURCE,
	BAD_CLOCK,
	BAD_SEQ,
	BAD_SLOT,
	BAD_STRING, /* an interface name or description: too long, not UTF-8 */
	BAD_MAX
};

/* Export parameters from the plan (defaults until one arrives). */
struct xd_params {
	uint64_t generation;
	unsigned tmpl_timeout_min;
	unsigned tmpl_refresh_pkts; /* 0: timer only */
	unsigned opt_timeout_s;
	unsigned mtu; /* bytes of UDP payload */
	unsigned stats_ms;
};

/* A finished export packet on its way to a host. */
struct out {
	struct out *next;
	struct host *host;
	uint8_t *buf;
	size_t len, cap;
	/* the data templates it carries: indices in exportd.tstats */
	uint32_t tst[XD_PKT_TMPLS];
	unsigned n_tst;
	unsigned n_flows; /* flow records in it */
	unsigned n_tmpl, n_opt; /* template and options records in it */
	/* the hand-over (ack.c): the dest whose rows it holds, the mark of
	 * its last row and the dest's sequence counters after it */
	struct dest *dest;
	uint64_t epoch, mark;
	uint64_t seq_packets, seq_flows, seq_records;
};

/* One UDP socket per (family, source, source port, vpn instance, dscp). */
struct xsock {
	int fd; /* -1: could not be opened (err) */
	int err;
	int64_t tried_ms;
	int family;
	struct sockaddr_storage src; /* family AF_UNSPEC... port 0: any */
	int has_src;
	char vpn[64];
	unsigned dscp;
	struct out *head, *tail; /* waiting to be sent, in order */
	unsigned n_out;
	int blocked; /* the last send said EAGAIN/ENOBUFS */
	int64_t paced_until_us; /* the head waits for its host's pace */
	/* a stream host's own (stream.c): TCP or a file */
	int stream;		      /* 0: UDP; XS_TCP, XS_FILE */
	struct sockaddr_storage dst;  /* TCP: the collector */
	socklen_t dlen;
	char path[1024];	      /* a file */
	size_t off;		      /* bytes of the head written */
	int connecting, fresh, waiting;
	int64_t retry_ms, backoff_ms; /* a closed one is tried again */
	int outq;		      /* TCP: bytes the kernel held, last */
};

#define XS_TCP 1
#define XS_FILE 2

struct errcount {
	int err; /* errno, or one of XD_E* below */
	uint64_t n;
};

#define XD_EQUEUE (-1) /* the host's send queue was full */
#define XD_ETOOBIG (-2) /* a record larger than the MTU */

/*
 * A packet the kernel took for a host, in flight: sent once XD_CONFIRM_MS
 * pass with no error for it; an ICMP error that names it (the error
 * queue) makes it failed instead. So a host's counters only go up.
 */
struct sent {
	uint8_t key[XD_SENT_KEY]; /* its first bytes: header and set id */
	uint8_t klen;
	uint8_t n_tst;
	uint16_t tst[XD_PKT_TMPLS];
	uint16_t n_tmpl, n_opt;
	uint32_t len, n_flows; /* len 0: failed, no longer in flight */
	int64_t at_ms; /* mono */
};

struct host {
	struct sockaddr_storage addr;
	socklen_t alen;
	int ipfix;
	struct xsock *sock;
	char label[80]; /* "[addr]:port" */
	unsigned queued;
	/* pacing: a token bucket of XD_PACE_BURST, pace_pps a second */
	unsigned pace_pps;
	double tokens;
	int64_t pace_us;    /* when tokens were last added */
	uint64_t pace_waits; /* times a packet waited for its turn */
	/* sent: the kernel took them and no error came back for them in
	 * XD_CONFIRM_MS; failed: a send error, an ICMP error, a full queue */
	uint64_t packets, records, bytes, template_sends, options_sends;
	uint64_t failed_packets, failed_records;
	uint64_t times_clamped; /* times its format could not carry */
	/* a stream host (stream.c): waits, connections, breaks */
	uint64_t stream_waits, stream_connects, stream_breaks;
	uint64_t stream_held_bytes; /* what broken connections may have held */
	struct errcount errs[XD_ERRS];
	/* state: failing from a packet's failure until a packet sent after
	 * its last error is sent; each change logged once */
	int failing;
	int last_err;	     /* the error that made it fail, the latest */
	int64_t since_ms;    /* wall clock: the state began */
	int64_t last_err_ms; /* mono: the latest failure */
	uint64_t fail_pkts0, fail_recs0; /* failed counts when it began */
	struct sent *ring; /* in flight, oldest first */
	unsigned ring_cap, ring_head, ring_n, in_flight;
	struct dest **dests;
	size_t n_dests;
};

/* A data template as announced to one (host, domain). */
struct dtmpl {
	struct tmpl t;
	int need; /* to be (re)sent before the next data record */
	int withdraw; /* a stream host: the old one withdrawn first */
};

/* What options records say about one interface. */
struct iface {
	uint32_t ifindex;
	char name[XD_IFNAME_MAX + 1];
	char desc[XD_IFDESC_MAX + 1];
	int has_dir[2];
	unsigned mode[2], value[2], sampler_id[2]; /* per direction */
};

/* Export state of one (host, observation domain). */
struct dest {
	struct host *host;
	uint32_t domain;
	int seq_flow;
	uint64_t packets, records; /* built before the open packet */
	uint64_t flows;		   /* flow records of those */
	int64_t clock, boot;	   /* latest export_time_ms, sys_boot_ms */
	int64_t up;		   /* ... their difference: the sender's uptime */
	int64_t tmpl_up, opt_up;   /* the uptime at the last refresh */
	int64_t pboot;		   /* v9: the open packet's sysUpTime counts
				      from this (times.c) */
	unsigned pkts_since_tmpl;
	struct dtmpl *tmpls;
	size_t n_tmpls;
	struct iface *ifs;
	size_t n_ifs;
	int need_options;
	size_t opt_pos; /* options items already in the open refresh */
	/* the open packet */
	struct out *o;
	struct xpkt x;
	int64_t opened_ms;
	int64_t opened_clock; /* the export clock when it opened */
	unsigned n_flows; /* flow records in it */
	unsigned n_tmpl, n_opt; /* template and options records in it */
	/* the hand-over (ack.c): marks of rows put in packets, of rows
	 * sent, and of rows an earlier exportd had sent */
	struct xslot *xs;
	struct xd_pent *pent;
	uint64_t added, done, skip;
	unsigned inflight; /* closed packets with its rows, not yet sent */
};

/* A mark: how far the rows of a (host, domain) went (ack.c). */
#define MARK_SEQ(m) ((m) >> 24)
#define MARK_ROWS(m) ((uint32_t)((m) >> 1) & 0x7fffffu)
#define XD_SEQ_MAX ((1ULL << 40) - 1) /* what a mark holds */
#define XD_SLOT_MAX 255 /* as the config allows: hand-over state is per slot */
#define PENT_SLOT 1
#define PENT_DEST 2
#define XD_STATE_ENTS 2048

/* One entry of the state file (run dir), mapped shared. */
struct xd_pent {
	uint32_t kind, slot;
	uint64_t epoch;
	uint64_t mark; /* a slot's: its ack; a dest's: its rows sent */
	uint64_t packets, flows, records; /* a dest's sequence counters */
	char host[88];			  /* a dest's "label/v9|ipfix" */
};

/* The batches of one slot (observation domain). */
struct xslot {
	uint32_t slot;
	int known;
	uint64_t epoch;	 /* of its sender */
	uint64_t expect; /* the next seq taken */
	uint64_t acked, published;
	/* nonzero: expect, which exportd lacks (a later batch came first,
	 * or it restarted): every ack asks the sender for it (ack.c) */
	uint64_t resend_from;
	struct xd_pent *pent;
	int ended; /* the last batch taken was its sender's final one */
	/* batches of the epoch taken in order but refused, by reason: the
	 * acks say so (a negative acknowledgement) */
	uint64_t ref_batches[BAD_MAX], ref_rows[BAD_MAX];
	/* a sender whose first batches failed their check (ack.c): not
	 * the slot's sender yet, answered apart */
	uint64_t cand_epoch, cand_next;
	int cand_noted; /* the batch ack_accept just saw was noted so */
	uint64_t cand_batches[BAD_MAX], cand_rows[BAD_MAX];
};

/*
 * Export packets per data template and the record it is of: a record's
 * counters are the sum over its templates, so they go on when a commit
 * changes its fields (and its template id).
 */
struct tstat {
	uint16_t id;
	char record[PLAN_NAME_MAX + 1];
	uint64_t ok, failed;
};

struct slotcount {
	uint32_t slot;
	uint64_t n;
};

struct exportd {
	struct bus_endpoints ep;
	void *ctx, *pull, *sub, *pub;
	struct xd_params prm;
	struct host **hosts;
	size_t n_hosts;
	struct xsock **socks;
	size_t n_socks;
	struct tstat *tstats;
	size_t n_tstats;
	struct slotcount *finals;
	size_t n_finals;
	uint64_t batches, records_in, bad[BAD_MAX];
	uint64_t bad_plans[PLAN_BAD_MAX];
	int stats_now; /* publish at once (a final batch was exported) */
	int untracked; /* batches without a hand-over epoch came */
	/* dest_restart: its packets go before the queue of this socket,
	 * in order, after front_last */
	struct xsock *front;
	struct out *front_last;
	int confirm_all; /* exiting: every packet in flight is sent */
	struct out *spare; /* free packet buffers */
	/* the hand-over (ack.c) */
	void *acks;
	uint64_t instance;
	struct xd_pfile *pf;
	int pf_mapped, state_fresh;
	struct xslot **xslots;
	size_t n_xslots;
	int64_t next_beat;
	uint64_t dup_batches, gap_batches, rows_skipped;
};

/* ack.c */
void state_open(struct exportd *xd);
void state_close(struct exportd *xd);
uint64_t mark_make(uint64_t seq, uint32_t rows, int complete);
struct xslot *xslot_find(struct exportd *xd, uint32_t slot);
void *ack_socket(void *ctx);
int ack_accept(struct exportd *xd, const Netstream__FlowBatch *b);
void ack_refused(struct exportd *xd, const Netstream__FlowBatch *b,
    enum xd_bad why, int taken);
void ack_dest_init(struct exportd *xd, struct dest *d);
void ack_out_done(struct exportd *xd, struct out *o);
void ack_publish(struct exportd *xd, int64_t now);
int ack_senders_ended(const struct exportd *xd);

/* exportd.c */
void xd_count_bad(struct exportd *xd, enum xd_bad why);

/* params.c */
void params_default(struct xd_params *p);
int params_take(struct exportd *xd, const Netstream__Plan *p);

/* dest.c */
enum xd_bad batch_check(const Netstream__FlowBatch *b);
int batch_take(struct exportd *xd, const Netstream__FlowBatch *b);
const char *bad_name(enum xd_bad why);
void dest_batch(struct exportd *xd, const Netstream__FlowBatch *b);
void dest_close_old(struct exportd *xd, int64_t now);
void dest_close_all(struct exportd *xd, int64_t domain);
void dest_free_all(struct exportd *xd);
void dest_restart(struct exportd *xd, struct host *h);
int64_t dest_next_deadline(const struct exportd *xd);
void host_error(struct host *h, int err);
void host_failed(struct host *h, int err);
void host_sent_ok(struct host *h, int64_t sent_at);
const char *xd_err_name(int err);
int xd_parse_addr(const char *s, unsigned port, struct sockaddr_storage *ss,
    socklen_t *len);
struct host *host_by_addr(struct exportd *xd, const struct xsock *s,
    const struct sockaddr_storage *a);

/* times.c */
int64_t times_abs(int64_t export_ms, int64_t boot_ms, uint32_t rel);
uint32_t times_header_secs(int64_t ms, int ipfix, int *clamped);
int64_t times_pkt_boot(int64_t export_ms, int64_t boot_ms);
int times_v9_as_is(const Netstream__FlowBatch *b, int64_t pboot);
unsigned times_row(const struct tmpl *in, const uint8_t *row,
    int64_t export_ms, int64_t boot_ms, int ipfix, int64_t pboot,
    uint8_t *out);

/* options.c */
size_t options_items(const struct dest *d);
size_t options_templates(const struct dest *d);
int options_put(struct xpkt *x, const struct dest *d, size_t i);
int options_note(struct dest *d, const Netstream__FlowBatch *b);

/* stream.c */
struct xsock *stream_get(struct exportd *xd, const Netstream__Host *m,
    int family);
void stream_flush(struct exportd *xd, struct xsock *s);
void stream_readable(struct exportd *xd, struct xsock *s);
int64_t stream_next_ms(const struct exportd *xd);

/* send.c */
void send_pop_sent(struct exportd *xd, struct xsock *s);
struct xsock *sock_get(struct exportd *xd, const Netstream__Host *h,
    int family);
struct out *out_get(struct exportd *xd, size_t cap);
void out_put(struct exportd *xd, struct out *o);
void send_packet(struct exportd *xd, struct out *o);
void send_flush_all(struct exportd *xd);
void send_errqueue(struct exportd *xd, struct xsock *s);
int send_pending(const struct exportd *xd);
int send_backlogged(const struct exportd *xd);
int64_t send_next_us(const struct exportd *xd);
uint32_t tstat_get(struct exportd *xd, uint16_t id, const char *record);
void tstat_count(struct exportd *xd, const struct out *o, int ok);
void send_confirm(struct exportd *xd, struct host *h, int64_t now, int all);
void send_free_all(struct exportd *xd);

#endif
