/*
 * clock.c: a slot's clock. Every timer of the slot (aging, pushes,
 * fix-time samplers) runs on a timeline in ms that never steps, and flows
 * keep their times on it: live, CLOCK_MONOTONIC; in a replay, the
 * capture's own time with its steps taken out. Exported times are the
 * timeline plus wall_off, which is live the wall clock's offset from the
 * monotonic one (followed as NTP slews it, re-anchored and counted when
 * it steps) and in a replay the capture's clock. A batch's export time
 * and boot time both take wall_off as it is when the batch leaves, so a
 * v9 header's sysUpTime/unix_secs pair and its records always agree.
 */
#include <stdint.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "log.h"
#include "sampled.h"
#include "util.h"

#define WALL_STEP_MS 128   /* the offset moved this much: a step (ntpd's) */
#define WALL_FOLLOW_MS 2   /* less is reading jitter, not followed */
#define PKT_AGE_MAX_MS 60000 /* a live packet older than this is now */
/* a capture going back by more than this steps its clock; less is
 * packets out of order (a multi-queue capture), held at the latest */
#define CAPTURE_BACK_MS 1000

static int64_t
ts_ms(const struct timespec *ts)
{
	return (int64_t)ts->tv_sec * 1000 + ts->tv_nsec / 1000000;
}

/*
 * The kernel's own wall clock, past any stand-in a library puts in front
 * of clock_gettime(): live packets carry its stamps, and their age must
 * be measured on the clock that stamped them.
 */
static void
kernel_wall(struct timespec *ts)
{
	if (syscall(SYS_clock_gettime, CLOCK_REALTIME, ts) == -1)
		clock_gettime(CLOCK_REALTIME, ts);
}

static void
libc_wall(struct timespec *ts)
{
	clock_gettime(CLOCK_REALTIME, ts);
}

/*
 * The monotonic clock and a wall clock read together: the wall clock
 * between two reads of the monotonic one less than a ms apart, so that a
 * preemption between the reads does not shift one against the other.
 */
static void
clock_pair(void (*wall)(struct timespec *), int64_t *mono, int64_t *real)
{
	struct timespec m0, r, m1;
	int i;

	for (i = 0; i < 4; i++) {
		clock_gettime(CLOCK_MONOTONIC, &m0);
		wall(&r);
		clock_gettime(CLOCK_MONOTONIC, &m1);
		if ((m1.tv_sec - m0.tv_sec) * 1000000000L +
		    (m1.tv_nsec - m0.tv_nsec) < 1000000L)
			break;
	}
	*mono = ts_ms(&m0);
	*real = ts_ms(&r);
}

/*
 * Live: the slot clock is the monotonic one (a slot that was a replay
 * goes on from where its timeline was); the wall clock's offset is read
 * again, and a step is counted and said once.
 */
void
clock_live(struct slot *s)
{
	int64_t mono, real, off, d;

	/* the wall clock's offset as this process sees it */
	clock_pair(libc_wall, &mono, &real);
	off = real - mono;

	if (!s->clock_set || !s->clock_live) {
		if (!s->clock_set) {
			s->boot_ms = s->now_ms = s->clock_ms = mono;
			s->mono_shift = 0;
		} else
			s->mono_shift = s->now_ms - mono;
		s->clock_set = s->clock_live = 1;
		s->wall_off = off - s->mono_shift;
	}
	mono += s->mono_shift;
	/* the kernel's clock is read at the round's first packet: a round
	 * without packets makes no system call for it */
	s->pkt_stale = 1;
	if (mono > s->now_ms)
		s->now_ms = mono;
	d = off - s->mono_shift - s->wall_off;
	if (d >= WALL_STEP_MS || d <= -WALL_STEP_MS) {
		s->clock_steps++;
		if (s->role != SLOT_WORKER)
			log_warnx("slot %u: the wall clock stepped by %+lld ms: "
			    "exported times follow it, aging does not",
			    s->id, (long long)d);
	}
	if (d > WALL_FOLLOW_MS || d < -WALL_FOLLOW_MS)
		s->wall_off += d;
}

/*
 * A live packet's time on the timeline: its kernel stamp's age, measured
 * on the kernel's clock read with the monotonic one once a round, at its
 * first packet. Never before a packet already counted.
 */
int64_t
clock_live_packet(struct slot *s, const struct pcap_pkthdr *h)
{
	int64_t age, t;

	if (s->pkt_stale) {
		clock_pair(kernel_wall, &t, &s->pkt_real);
		s->pkt_mono = t + s->mono_shift;
		s->pkt_stale = 0;
	}
	age = s->pkt_real - ((int64_t)h->ts.tv_sec * 1000 +
	    h->ts.tv_usec / 1000);
	if (age < 0 || age > PKT_AGE_MAX_MS)
		age = 0;
	t = s->pkt_mono - age;
	if (t < s->clock_ms)
		t = s->clock_ms;
	return s->clock_ms = t;
}

/*
 * A capture file's packet time, unix ms. A pcap file's seconds are 32
 * bits without sign (to 2106), which libpcap hands over signed; a pcapng
 * file's go further.
 */
int64_t
clock_capture_ms(const struct capture *c, const struct pcap_pkthdr *h)
{
	int64_t sec = c->ts32 ? (int64_t)(uint32_t)h->ts.tv_sec :
	    (int64_t)h->ts.tv_sec;

	return sec * 1000 + h->ts.tv_usec / 1000;
}

/* 1 when a capture packet at pt steps the clock (clock_replay would). */
int
clock_replay_jump(const struct slot *s, int64_t pt)
{
	int64_t d = pt - s->cap_last;

	return s->clock_set && !s->clock_live &&
	    (d < -CAPTURE_BACK_MS || d > CAPTURE_GAP_MS);
}

/*
 * A capture packet at unix ms pt: its time on the timeline. The first
 * packet starts it (boot). Packets out of order by up to a second are
 * held at the latest time; a step back re-anchors (counted); a gap past
 * every timer counts as CAPTURE_GAP_MS. The caller settles the flows
 * before a jump (capture.c: jump()), so each is exported on the clock
 * its packets came on.
 */
int64_t
clock_replay(struct slot *s, int64_t pt)
{
	int64_t d;

	if (!s->clock_set) {
		s->clock_set = 1;
		s->boot_ms = s->now_ms = s->clock_ms = 0;
		s->wall_off = s->cap_last = pt;
		return 0;
	}
	if (s->clock_live)
		return s->clock_ms; /* a file in a live slot: read now */
	d = pt - s->cap_last;
	if (d < -CAPTURE_BACK_MS || d > CAPTURE_GAP_MS) {
		if (d < 0) {
			s->clock_steps++;
			log_warnx("slot %u: the capture's clock steps back by "
			    "%lld ms: its flows so far are exported first",
			    s->id, (long long)-d);
		} else {
			s->clock_gaps++;
			s->clock_ms += CAPTURE_GAP_MS;
		}
		s->wall_off = pt - s->clock_ms;
		s->cap_last = pt;
		return s->clock_ms;
	}
	if (d <= 0)
		return s->clock_ms;
	s->cap_last = pt;
	return s->clock_ms += d;
}

/* A timeline time as unix ms. */
int64_t
clock_wall(const struct slot *s, int64_t t)
{
	return t + s->wall_off;
}

/* A worker's clock is the slot's: its flows count from the same boot. */
void
clock_copy(struct slot *to, const struct slot *from)
{
	to->clock_set = from->clock_set;
	to->clock_live = from->clock_live;
	to->boot_ms = from->boot_ms;
	to->now_ms = to->clock_ms = from->now_ms;
	to->wall_off = from->wall_off;
	to->mono_shift = from->mono_shift;
}
