/* sampled.h: one slot's data plane: capture, sampling, flow caches, aging. */
#ifndef SAMPLED_H
#define SAMPLED_H

#include <pcap/pcap.h>
#include <stdint.h>

#include "bus.h"
#include "handover.h"
#include "decode.h"
#include "layout.h"
#include "netstream.pb-c.h"
#include "pcapng.h"
#include "resume.h"
#include "routes.h"

#define NIL UINT32_MAX
#define BATCH_ROWS 1000
#define BURST 32	   /* packets a replay decodes before the cache work */
#define PREFETCH_AHEAD 8  /* flows fetched this many packets ahead */
#define BURST_KEY_MAX 128 /* longer keys take the one-by-one path */
#define BYTES_OVERFLOW 3435973836ULL
/*
 * Live capture: bytes of a packet kept, enough for Ethernet, two VLAN
 * tags, IPv6, 110 bytes of extension headers and TCP's ports and flags;
 * a ring block is handed over this long after its first packet.
 */
/*
 * A gap in a capture longer than every timer (active 60 min + inactive
 * 10 min) ages every flow whatever its length: the slot clock takes this
 * much of it (clock.c), so no wrap of 32-bit flow times comes of it.
 */
#define CAPTURE_GAP_MS 7200000
#define LIVE_SNAPLEN 192
#define LIVE_BLOCK_MS 20
#define LIVE_QUIET_MS 1000 /* live, nothing to age: the wait (capture_run) */

enum end_reason {
	END_IDLE = 1,
	END_ACTIVE = 2,
	END_FLOW = 3,	/* TCP FIN or RST */
	/* a capture's end (its file, its device gone), a step back,
	 * shutdown, plan change, reset cache, byte overflow */
	END_FORCED = 4,
	END_RESOURCES = 5, /* cache full, evict-oldest */
	END_MAX
};

/*
 * Inactive aging uses a timing wheel of 100 ms ticks, big enough for the
 * longest inactive timeout: a packet only moves last_ms; the wheel moves a
 * flow when its tick comes and it was seen since (at most once per
 * inactive period), so neither packets nor ticks touch other flows.
 */
#define WHEEL_TICK_MS 100
#define WHEEL_SIZE (600000 / WHEEL_TICK_MS + 2)

/*
 * One flow, as a packet needs it: with a key of up to 37 bytes (the
 * 5-tuple's) an entry is one 64-byte cache line, so a packet reads one
 * line of the array. What only aging needs is in struct flow_meta, an
 * array of its own with the same index.
 */
struct flow {
	uint32_t hnext;		    /* links a free entry */
	uint32_t first_ms, last_ms; /* ms since the slot's boot */
	uint32_t packets;	    /* < 2^32: bytes age a flow first */
	uint64_t bytes;
	uint16_t ext;		    /* EXT_* flags, bits 0..10 */
	uint8_t tcp_flags;
	uint8_t key[]; /* the record's match fields, wire format */
};

struct flow_meta {
	uint32_t whl_prev, whl_next; /* in a wheel bucket: inactive aging */
	uint32_t age_prev, age_next; /* by first packet: active aging */
	uint32_t hash;
	uint16_t bucket;
	uint8_t used;
};

/*
 * The hash is groups of HG_SLOTS flows, one cache line each: a slot holds
 * a flow's index and 8 bits of its hash (the tag, never 0: 0 is an empty
 * slot). A lookup reads its group and then only the flows whose tag
 * matches, nearly always the one it looks for, so a burst prefetches
 * exactly the line it will read; an unknown key reads no flow. A full
 * group sends an insert on to the next one (over counts them).
 */
#define HG_SLOTS 12
#define HG_FLOWS 8 /* flows a group at most, before the hash doubles */
struct hgroup {
	uint8_t tag[HG_SLOTS];
	uint8_t over;		/* entries filed past it; sticks at 255 */
	uint8_t pad[3];
	uint32_t ref[HG_SLOTS]; /* the flow's index + 1 */
};
_Static_assert(sizeof(struct hgroup) == 64, "a group is one cache line");

/*
 * How the key of a packet is built, field by field: most match fields
 * are bytes of struct pkt, copied as they are or as a big-endian 16-bit
 * number; the rest (route fields, flow label, ...) go through
 * field_put_key.
 */
enum { KOP_FIELD, KOP_COPY16, KOP_COPY1, KOP_BE16 };
struct keyop {
	uint8_t op;
	uint8_t len;   /* bytes in the key */
	uint16_t from; /* offset in struct pkt */
	uint32_t type; /* for KOP_FIELD */
};

/* The secret of the flow key hash (cache.c). */
struct hash_seed {
	uint64_t k0, k1;
};

/* The flows of one interface direction (one record applies to each). */
struct cache {
	struct hash_seed seed; /* the process's, when the cache was made */
	struct tmpl layout;  /* the data template rows follow */
	unsigned key_len;    /* bytes of the match part of a row */
	int off_src, off_dst; /* of the addresses in the key, -1: absent */
	int off_proto, off_dport; /* ... of protocol and destination-port */
	int key_routes;      /* a match field comes from the routes table */
	struct keyop kop[TMPL_MAX_FIELDS];
	unsigned nkop;
	int kop_fields;	     /* some op is KOP_FIELD */
	int uses_routes;     /* a field (match or collect) is the routes' */
	size_t esize;
	uint8_t *pool;	     /* reserved for `reserved` entries */
	struct flow_meta *meta; /* ... and as many of these */
	size_t pool_len, meta_len, groups_len; /* bytes mapped */
	uint64_t reserved;
	uint32_t cap, used, free_head;
	uint32_t hwm;	     /* entries ever handed out: [hwm, cap) untouched */
	uint32_t populated;  /* entries [0, populated) made resident */
	struct hgroup *groups;
	uint32_t gmask;	     /* groups - 1, a power of two */
	uint32_t age_head, age_tail;
	uint32_t *wheel;   /* WHEEL_SIZE bucket heads */
	uint64_t wtick;    /* the next tick to process */
	int wstarted;
	uint64_t created, aged[END_MAX], dropped_full, evicted;
};

struct batch {
	uint8_t *rows;
	uint64_t packets; /* in its rows */
	uint32_t n, cap;
	int64_t first_ms; /* the slot clock at its first row */
};

struct sampler {
	int mode;
	uint32_t value;
	uint64_t count;	    /* packets seen, for fix-packets */
	uint64_t next_ms;   /* for fix-time */
	uint32_t skip;	    /* for random-packets: packets until the next */
	uint64_t rng;
};

/*
 * What an interface direction counts (nsctl display interface, the
 * interface_* stats). A new plan carries them over while the interface
 * direction stays enabled; created and aged hold those of the caches it
 * had before its present one, whose own are added when read.
 */
struct ifcount {
	uint64_t packets, bytes; /* frames captured, their wire length */
	uint64_t ipv6, sampled;
	uint64_t created, aged[END_MAX];
};

/* An enabled interface direction of this slot, as the plan binds it. */
struct binding {
	const Netstream__Binding *pb; /* in the plan this was built from */
	const Netstream__Record *rec;  /* NULL: counted only */
	char key[256];		       /* interface|direction|record key */
	struct cache *cache;
	struct batch batch;
	struct sampler sampler;
	struct ifcount cnt;
};

struct live;

struct capture {
	char name[64];	/* the interface */
	char source[1024];	/* file path or device */
	int dir;	/* for a file */
	int is_file, realtime, eof;
	int settled;	/* a file at its end: its flows ended with it */
	int ts32;	/* a pcap file: 32-bit seconds without sign */
	pcap_t *pc;	/* a file */
	struct live *lv; /* a live device: both directions (live.c) */
	char *iobuf; /* a file's stdio buffer */
	int dlt;
	/* one packet of lookahead, to merge several files by time */
	struct pcap_pkthdr *hdr;
	const u_char *data;
	int pending;
	int bidx; /* its binding in the slot (live: inbound), -1: none */
	int bidx_out; /* live: the outbound binding, -1: none */
	/* a pcapng file: the direction flags of its packets; a flagged
	 * packet goes to the binding of its direction */
	struct pcapng_flags ng;
	int pkt_dir;	 /* PCAPNG_DIR_* of the packet in lookahead */
	int bidx_dir[2]; /* the bindings of inbound and outbound */
	/* resume after a crash (include/resume.h), files only */
	int rs_idx;	  /* its entry in the state, -1: none */
	uint64_t nread;	  /* packets of the file read, skipped ones too */
	uint64_t applied; /* ... of which every one is accounted */
	uint64_t skip;	  /* accounted by the sampled before: not again */
	uint64_t received, ipv6, malformed, dropped;
	/*
	 * What the capture is doing, for display interface and the log
	 * (devwatch.c): a live one is capturing, waiting for its device
	 * (missing at the start, or gone since) or failed; a file is being
	 * read, has ended or failed. A state survives plans that keep the
	 * capture.
	 */
	Netstream__CaptureStateKind state;
	char why[256];		/* why it waits or failed */
	int64_t since;		/* unix ms of the last change of state */
	uint64_t starts, stops; /* live: the device opened, gone */
	unsigned buffer_kb;	/* live: its ring, to open it again */
	int gone;		/* devwatch.c: it stopped, not yet logged */
	uint64_t gone_flows;	/* ... and the flows that aged with it */
};

/* A capture that could not be opened or read to its end. */
#define CAPFAIL_MAX 16
struct capfail {
	char source[1024]; /* the file or device */
	char err[256];
};

/* What a slot state captures (workers.c). */
enum slot_role {
	SLOT_ALL,    /* every capture: a slot with one worker */
	SLOT_FILES,  /* the main thread of a slot whose workers take live */
	SLOT_WORKER, /* a capture thread: live devices, its share of them */
};

struct workers;

struct slot {
	unsigned id;
	int no_export, exit_at_eof, live;
	/* workers: each has a slot state of its own, and batches go to the
	 * main thread's hand-over through wk */
	enum slot_role role;
	unsigned worker, nworkers; /* SLOT_WORKER: which one, of how many */
	struct workers *wk;
	Netstream__Plan *plan;
	struct binding *b;
	size_t nb;
	struct capture *cap;
	size_t ncap;
	struct routes routes;
	char routes_file[1024];
	/* the routes file differs from the one the plan validated (or
	 * cannot be read): not used, route fields are 0, and said so */
	int routes_refused;
	uint64_t routes_refusals, records_no_routes;
	/*
	 * The slot clock (clock.c): a timeline in ms that never steps, which
	 * every timer runs on (aging, pushes, fix-time samplers); flows keep
	 * their times relative to boot_ms on it, mod 2^32. Exported times
	 * are the timeline plus wall_off (unix ms).
	 */
	int clock_set;	     /* boot_ms and wall_off are known */
	int clock_live;	     /* live: CLOCK_MONOTONIC; else the capture's */
	int64_t boot_ms;     /* the timeline's ms sysUpTime counts from */
	int64_t now_ms;	     /* the slot clock, on the timeline */
	int64_t clock_ms;    /* ... as far as packets were read */
	int64_t wall_off;    /* unix ms = timeline ms + wall_off */
	int64_t mono_shift;  /* live: timeline = CLOCK_MONOTONIC + this */
	int64_t cap_last;    /* replay: the capture's latest time, unix ms */
	int64_t pkt_mono, pkt_real; /* live: both clocks as a block is read */
	int pkt_stale;		    /* ... to be read at the next packet */
	uint64_t clock_steps, clock_gaps;
	int64_t rt_wall0, rt_pcap0; /* a real-time replay's start */
	int64_t next_age_ms;
	uint64_t flows_total, flows_max;
	int drop_new;
	uint32_t active_ms, inactive_ms;
	struct handover ho; /* to exportd, acknowledged */
	/* what a sampled that dies leaves for the next one (resume.h) */
	struct rs_file *rs;
	struct rs_worker *rs_wk; /* a worker's own entry in the main's rs */
	int resuming;	       /* until the first plan's captures are open */
	struct rs_totals counted, settled, pushed;
	uint64_t *cur_applied; /* the packet being counted: its capture's */
	uint64_t cur_idx;      /* ... applied becomes this once it is */
	struct rs_totals restart_lost; /* never exported by dead sampleds */
	uint64_t resume_skipped;       /* packets they had accounted */
	/* counters */
	uint64_t received, ipv6, ipv4, other, sampled_pkts, unbound;
	uint64_t dropped; /* live: by the kernel, the ring being full */
	/* live: GSO/GRO super-packets split into the segments they stand
	 * for, and those that could not be (counted as one packet) */
	uint64_t gso_frames, gso_segments, gso_unsplit;
	uint64_t truncated_headers; /* counted without what the cut hid */
	uint64_t malformed[DEC_NRESULTS];
	uint64_t lenhist[7];
	uint64_t batches_pushed, records_pushed, batches_lost, records_lost;
	uint64_t lost_at_exit;
	uint64_t records_unconfirmed; /* held at exit, never acknowledged */
	int all_eof;
	int cap_ended; /* a capture file ended: its flows to settle */
	struct capfail capfail[CAPFAIL_MAX];
	unsigned n_capfail;
	uint64_t capture_errors; /* all of them, past CAPFAIL_MAX too */
};

/* cache.c */
struct cache *cache_new(const Netstream__Plan *p, const Netstream__Record *r);
void cache_free(struct cache *c);
void cache_packet(struct slot *s, struct binding *b, const struct pkt *pk,
    uint32_t now);
uint32_t cache_key(struct slot *s, struct binding *b, const struct pkt *pk,
    uint8_t *key);
void cache_prefetch_bucket(const struct cache *c, uint32_t h);
void cache_prefetch_flow(const struct cache *c, uint32_t h);
void cache_update(struct slot *s, struct binding *b, const struct pkt *pk,
    uint32_t now, const uint8_t *key, uint32_t h);
void cache_age(struct slot *s, struct binding *b, uint64_t up);
void cache_flush(struct slot *s, struct binding *b, int reason);
const struct flow *cache_flow_at(const struct cache *c, uint32_t i);
int cache_seed_init(void);
void cache_seed_set(const struct hash_seed *s);
struct hash_seed cache_seed(void);

/* push.c */
void push_row(struct slot *s, struct binding *b, struct flow *f, int reason);
void push_batch(struct slot *s, struct binding *b, int final);
void push_all(struct slot *s, int final);
void push_due(struct slot *s);
void push_resume_worker(struct slot *s, uint64_t rows, uint64_t packets,
    int sent);
void push_resume_counted(struct slot *s);

/* clock.c */
void clock_live(struct slot *s);
int64_t clock_live_packet(struct slot *s, const struct pcap_pkthdr *h);
int64_t clock_capture_ms(const struct capture *c, const struct pcap_pkthdr *h);
int clock_replay_jump(const struct slot *s, int64_t pt);
int64_t clock_replay(struct slot *s, int64_t pt);
int64_t clock_wall(const struct slot *s, int64_t t);
void clock_copy(struct slot *to, const struct slot *from);

/* sampler.c */
void sampler_init(struct sampler *sm, const Netstream__Sampler *ps,
    uint64_t seed);
int sampler_take(struct sampler *sm, int64_t now_ms);

/* capture.c */
int capture_open(struct capture *c, const Netstream__Interface *pi, int dir,
    char *err, size_t errlen);
void capture_close(struct capture *c);
void capture_failed(struct slot *s, const char *source, const char *err);
int capture_run(struct slot *s, int budget);
int capture_is_open(const struct capture *c);
void capture_live_packet(struct slot *s, struct capture *c,
    const struct pcap_pkthdr *h, const u_char *data, int outbound);
void capture_live_flush(struct slot *s);
size_t capture_fds(struct slot *s, int *fds, size_t max);
void capture_state(struct slot *s, struct capture *c,
    Netstream__CaptureStateKind state, const char *why);
void capture_carry(struct capture *to, const struct capture *from);
const char *capture_state_name(Netstream__CaptureStateKind state);

/* live.c */
int live_open(struct capture *c, const char *device, unsigned ring_kb,
    char *err, size_t errlen);
void live_close(struct capture *c);
/* bumped when a descriptor the main loop may wait on is opened or closed */
extern unsigned fdset_gen;
void fdset_changed(void);
int live_ifindex(const struct capture *c);
void live_clear_error(int fd);
void live_directions(struct capture *c);
int live_fd(const struct capture *c);
uint64_t live_drops(struct capture *c);
int live_read(struct slot *s, struct capture *c, int budget);
int live_fanout(struct capture *c, int create, uint16_t *id, char *err,
    size_t errlen);
int live_fanout_program(struct capture *c, unsigned fields, char *err,
    size_t errlen);
void live_drain(struct slot *s);

/* gso.c */
struct gso_plan {
	uint32_t l3, l4; /* offsets of the IP and L4 headers */
	uint32_t hdrs;	 /* bytes of headers each segment carries */
	uint32_t payload, size, nseg;
	uint32_t jumbo; /* 8: a BIG TCP jumbo header the segments lack */
	uint8_t proto, v6;
};
int gso_plan(int dlt, const uint8_t *p, uint32_t caplen, uint32_t len,
    uint8_t gso_type, uint16_t gso_size, uint16_t csum_start, int shift,
    struct gso_plan *g);
uint32_t gso_segment(const struct gso_plan *g, const uint8_t *p,
    uint32_t caplen, uint32_t i, uint8_t *seg, uint32_t *segcap);
int live_gso(struct slot *s, struct capture *c, const struct pcap_pkthdr *h,
    const uint8_t *frame, int out, const void *vh, int shift);

/* devwatch.c */
enum devwatch_phase { DW_STOP, DW_START };
int devwatch_open(char *err, size_t errlen);
int devwatch_read(int fd);
void devwatch_rescan(struct slot *s, enum devwatch_phase phase);
void devwatch_log_stops(struct slot **sts, size_t n);
void devwatch_apply(struct slot *s);

/* query.c */
#define QUERY_TOP_DEFAULT 20
#define QUERY_TOP_MAX 1000
#define QUERY_MAX_REQUEST 4096
void *query_open(void *ctx, const struct bus_endpoints *ep, unsigned slot);
/* 1: QUERIES_PER_WAKE served, more may wait (its ZMQ_FD will not tell) */
int query_serve(void *sock, struct slot *s, uint64_t *bad);
void ifcount_read(const struct binding *b, struct ifcount *out);
void ifcount_add(struct ifcount *to, const struct ifcount *v);
void ifcount_sum(struct slot *s, size_t i, struct ifcount *out);
void slot_reset_statistics(struct slot *s, const char *iface);
size_t slot_captures(struct slot *s, const struct capture **out, size_t max);

/* workers.c */
int wk_put(struct workers *wk, Netstream__Envelope *env, uint64_t rows,
    uint64_t packets);
void wk_take(struct slot *s);
void wk_apply(struct slot *s, const Netstream__Plan *p);
void wk_start(struct slot *s);
void wk_stop(struct slot *s);
int wk_fd(const struct slot *s);
void wk_lock(struct slot *s);
void wk_unlock(struct slot *s);
size_t wk_states(struct slot *s, struct slot **out, size_t max);
int wk_fanout_join(struct workers *wk, struct capture *c,
    const Netstream__Plan *p, char *err, size_t errlen);
void wk_fanout_program(struct capture *c, const Netstream__Plan *p);
void wk_fanout_forget(struct workers *wk, const char *device);
void wk_rescan(struct slot *s);

/* plan.c */
void slot_apply(struct slot *s, Netstream__Plan *p);
void slot_close(struct slot *s, int reason);

#endif
