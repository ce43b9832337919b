/*
 * resume.c: the state a sampled keeps for the one that replaces it after
 * a crash (include/resume.h). The file is mapped shared and its space is
 * reserved when it is opened, so a store never faults and survives the
 * process. The writer is sampled's main thread; the reader, the next
 * sampled, reads it before it writes anything.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "log.h"
#include "resume.h"
#include "util.h"

static void
state_path(const char *run_dir, unsigned slot, char *out, size_t len)
{
	snprintf(out, len, "%s/sampled-%u.state", run_dir, slot);
}

/*
 * Maps the slot's state; dead says what a sampled that did not exit
 * cleanly left in it (dead->found). NULL when the file cannot be had:
 * then nothing is resumed (err says why).
 */
struct rs_file *
resume_open(const char *run_dir, unsigned slot, struct rs_dead *dead,
    char *err, size_t errlen)
{
	char path[1024];
	struct rs_file *rs;
	struct stat st;
	int fd, fresh;
	size_t i;
	void *p;

	memset(dead, 0, sizeof(*dead));
	state_path(run_dir, slot, path, sizeof(path));
	if ((fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW,
	    0600)) == -1 || fstat(fd, &st) == -1 || !S_ISREG(st.st_mode)) {
		snprintf(err, errlen, "%s: %s", path,
		    fd == -1 ? strerror(errno) : "not a regular file");
		if (fd != -1)
			close(fd);
		return NULL;
	}
	fresh = (size_t)st.st_size != sizeof(*rs);
	if (fresh && ftruncate(fd, 0) == -1) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		close(fd);
		return NULL;
	}
	if ((errno = posix_fallocate(fd, 0, (off_t)sizeof(*rs))) != 0) {
		snprintf(err, errlen, "%s: cannot reserve %zu bytes: %s", path,
		    sizeof(*rs), strerror(errno));
		close(fd);
		return NULL;
	}
	p = mmap(NULL, sizeof(*rs), PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	close(fd);
	if (p == MAP_FAILED) {
		snprintf(err, errlen, "mmap %s: %s", path, strerror(errno));
		return NULL;
	}
	rs = p;
	if (fresh || memcmp(rs->magic, RS_MAGIC, 8) != 0 ||
	    rs->version != RS_VERSION || rs->slot != slot) {
		memset(rs, 0, offsetof(struct rs_file, ring));
		memcpy(rs->magic, RS_MAGIC, 8);
		rs->version = RS_VERSION;
		rs->slot = slot;
	} else if (rs->alive) {
		dead->found = 1;
		dead->live = rs->live != 0;
		dead->epoch = rs->epoch;
		dead->acked = rs->acked;
		dead->counted = rs->counted;
		dead->settled = rs->settled;
		dead->lost_before = rs->lost;
		for (i = 0; i < RS_WORKERS; i++) {
			dead->counted.packets += rs->wk[i].counted.packets;
			dead->counted.flows += rs->wk[i].counted.flows;
			dead->settled.packets += rs->wk[i].settled.packets;
			dead->settled.flows += rs->wk[i].settled.flows;
		}
	}
	return rs;
}

/*
 * What the dead sampled had and exportd never exported, once exportd's
 * last word on its batches is acked_final: everything that went into its
 * caches, less what went out through that seq and what needed no export.
 * -1 when that seq is no longer known (then lost is an upper bound: what
 * it knew was acknowledged).
 */
/* What went out through seq, from the ring: -1 when it is not known. */
static int
pushed_through(const struct rs_file *rs, uint64_t seq, struct rs_totals *out)
{
	const struct rs_ent *e = &rs->ring[seq % RS_RING];

	out->packets = out->flows = 0;
	if (seq == 0)
		return 0;
	if (e->seq != seq)
		return -1;
	out->packets = e->packets;
	out->flows = e->flows;
	return 0;
}

int
resume_settle(struct rs_file *rs, const struct rs_dead *dead,
    uint64_t acked_final, struct rs_totals *lost)
{
	struct rs_totals out;
	int exact = 1;

	if (acked_final < dead->acked)
		acked_final = dead->acked;
	if (pushed_through(rs, acked_final, &out) == -1) {
		/* at least what the dead one knew was acknowledged */
		exact = 0;
		if (pushed_through(rs, dead->acked, &out) == -1)
			out.packets = out.flows = 0;
	}
	out.packets += dead->settled.packets;
	out.flows += dead->settled.flows;
	lost->packets = dead->counted.packets > out.packets ?
	    dead->counted.packets - out.packets : 0;
	lost->flows = dead->counted.flows > out.flows ?
	    dead->counted.flows - out.flows : 0;
	if (dead->counted.packets < out.packets ||
	    dead->counted.flows < out.flows)
		exact = 0;
	return exact ? 0 : -1;
}

/*
 * The state is this sampled's from now on: a new sender, nothing counted
 * yet; the captures keep how far they were accounted (this sampled goes
 * on from there). Everything dead is settled before.
 */
void
resume_begin(struct rs_file *rs, uint64_t epoch,
    const struct rs_totals *lost_total)
{
	rs->alive = 0;
	memset(rs->ring, 0, sizeof(rs->ring));
	memset(&rs->counted, 0, sizeof(rs->counted));
	memset(&rs->settled, 0, sizeof(rs->settled));
	memset(&rs->pushed, 0, sizeof(rs->pushed));
	memset(rs->wk, 0, sizeof(rs->wk));
	rs->live = 0;
	rs->lost = *lost_total;
	rs->acked = 0;
	rs->epoch = epoch;
	rs->alive = 1; /* last */
}

/*
 * The entry of a capture file (same interface, path, device, inode, size
 * and modification time), made when new; -1 when the table is full.
 */
int
resume_cap(struct rs_file *rs, const char *name, const char *source,
    const struct stat *st)
{
	int i, free_at = -1;
	uint64_t mt = (uint64_t)st->st_mtim.tv_sec * 1000000000ULL +
	    (uint64_t)st->st_mtim.tv_nsec;

	for (i = 0; i < RS_CAPS; i++) {
		struct rs_cap *c = &rs->cap[i];

		if (!c->used) {
			if (free_at < 0)
				free_at = i;
			continue;
		}
		if (strcmp(c->name, name) == 0 &&
		    strcmp(c->source, source) == 0) {
			if (c->dev == (uint64_t)st->st_dev &&
			    c->ino == (uint64_t)st->st_ino &&
			    c->size == (uint64_t)st->st_size &&
			    c->mtime_ns == mt)
				return i;
			free_at = i; /* another file under that name now */
			break;
		}
	}
	if (free_at < 0)
		return -1;
	rs->cap[free_at].used = 0;
	ns_strlcpy(rs->cap[free_at].name, name, RS_NAME);
	ns_strlcpy(rs->cap[free_at].source, source, RS_SOURCE);
	rs->cap[free_at].dev = (uint64_t)st->st_dev;
	rs->cap[free_at].ino = (uint64_t)st->st_ino;
	rs->cap[free_at].size = (uint64_t)st->st_size;
	rs->cap[free_at].mtime_ns = mt;
	rs->cap[free_at].applied = 0;
	rs->cap[free_at].used = 1;
	return free_at;
}

/*
 * A capture worker's counts go on in the main thread's (its flows were
 * handed over or settled there first): the worker's entry is free for
 * the next one. A kill between the two stores counts them twice (an
 * upper bound for a few instructions).
 */
void
resume_worker_fold(struct rs_file *rs, unsigned i, struct rs_totals *counted,
    struct rs_totals *settled)
{
	if (rs == NULL || i >= RS_WORKERS)
		return;
	counted->packets += rs->wk[i].counted.packets;
	counted->flows += rs->wk[i].counted.flows;
	settled->packets += rs->wk[i].settled.packets;
	settled->flows += rs->wk[i].settled.flows;
	rs->counted = *counted;
	rs->settled = *settled;
	memset(&rs->wk[i], 0, sizeof(rs->wk[i]));
}

/* A clean exit: nothing is left to resume; the next sampled starts anew. */
void
resume_close(struct rs_file *rs, const char *run_dir, unsigned slot)
{
	char path[1024];

	if (rs == NULL)
		return;
	rs->alive = 0;
	munmap(rs, sizeof(*rs));
	state_path(run_dir, slot, path, sizeof(path));
	unlink(path);
}
