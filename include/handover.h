/*
 * handover.h: the acknowledged hand-over of flow batches to exportd. A
 * sender keeps each batch it pushed until exportd says every host got it;
 * when exportd restarts, the sender pushes again what it still holds.
 */
#ifndef NS_HANDOVER_H
#define NS_HANDOVER_H

#include <signal.h>
#include <stddef.h>
#include <stdint.h>

#include "bus.h"

#define HO_MAX_BYTES (64u << 20) /* batches held unacknowledged */
#define HO_MAX_HELD 65000u	 /* ... and their number (include/resume.h) */
#define HO_ACK_TOPIC "ack"
/* exportd asking again for a batch pushed again already waits this long
 * for it before it is pushed once more (it may still be on its way) */
#define HO_RESEND_MS 1000
/*
 * The ZMQ_MAXMSGSIZE of both ends of the acks: the largest FlowAck (every
 * refusal reason, every number at its widest: ~600 bytes, test_ack
 * checks it fits) and, on tcp://, the CURVE handshake, which the limit
 * applies to as well: HELLO is 200 bytes, INITIATE 257 plus the peer's
 * metadata (285 for sampled's SUB), up to ~540 with a 255-byte routing
 * id. Below that, zmq closes the connection at every try and no ack
 * ever reaches a remote sender (issue 25).
 */
#define HO_ACK_MAX 2048u

struct ho_batch {
	struct ho_batch *next;
	uint64_t seq;
	uint32_t n_rows;
	size_t len;
	uint8_t *buf; /* the packed Envelope, pushed again as it is */
};

/* What exportd refused of this sender's batches, for one reason. */
#define HO_REFUSAL_REASONS 8
struct ho_refusal {
	char reason[24];
	uint64_t batches, rows;		/* in all */
	uint64_t seen_batches, seen_rows; /* as the instance's acks say */
};

struct handover {
	void *push; /* PUSH to exportd's PULL */
	void *acks; /* SUB to exportd's PUB */
	uint32_t slot;
	uint64_t epoch;	   /* this sender's instance */
	uint64_t next_seq; /* of the next batch, from 1 */
	uint64_t acked;	   /* every batch up to this one is exported */
	uint64_t instance; /* the exportd of the latest ack, 0: none yet */
	struct ho_batch *head, *tail;
	struct ho_batch *unsent; /* the first held one not pushed yet */
	size_t held, held_bytes, max_bytes, max_held;
	/* the acks of the sender this one replaces (a sampled that died):
	 * how far exportd took its batches */
	uint64_t prev_epoch, prev_acked;
	int64_t prev_changed; /* mono ms prev_acked last moved */
	int prev_heard;
	/* the last push again an ack's resend_from asked for, and when */
	uint64_t rewind_seq;
	int64_t rewind_ms;
	const volatile sig_atomic_t *quit;
	int64_t deadline; /* mono ms no wait goes past; 0: none (stopping) */
	/* counters */
	uint64_t resent_batches, resends, acks_in, bad_acks;
	/* refused by exportd (acknowledged, not exported), by reason; the
	 * acks count them per exportd instance, from ref_instance on */
	struct ho_refusal refused[HO_REFUSAL_REASONS];
	size_t n_refused;
	uint64_t ref_instance;
};

/* handover.c */
void ho_open(struct handover *h, void *ctx, const struct bus_endpoints *ep,
    uint32_t slot, const volatile sig_atomic_t *quit);
int ho_send(struct handover *h, Netstream__Envelope *env, int wait);
void ho_poll(struct handover *h, int timeout_ms);
void ho_timers(struct handover *h);
void ho_ack(struct handover *h, const Netstream__FlowAck *a);
int ho_drain(struct handover *h, int timeout_ms);
void ho_set_deadline(struct handover *h, int64_t deadline);
uint64_t ho_held_records(const struct handover *h);
uint64_t ho_refused_records(const struct handover *h);
void ho_close(struct handover *h);
uint64_t ho_random64(void);

#endif
