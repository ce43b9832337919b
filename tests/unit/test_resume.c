/*
 * test_resume.c: the state a killed sampled leaves (lib/resume.c): a
 * dead one is found only when it did not exit cleanly, its loss is what
 * it counted less what went out through the seq exportd took and what
 * needed no export, and a capture file is the same only with the same
 * identity.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "resume.h"

static char dir[] = "/tmp/test_resume.XXXXXX";

static struct rs_file *
open_state(struct rs_dead *dead)
{
	char err[256];
	struct rs_file *rs = resume_open(dir, 3, dead, err, sizeof(err));

	assert_non_null(rs);
	return rs;
}

/* a sampled that "dies": its mapping is dropped without resume_close */
static void
die(struct rs_file *rs)
{
	munmap(rs, sizeof(*rs));
}

static void
dead_found_and_settled(void **state)
{
	struct rs_dead dead;
	struct rs_totals lost, none = { 0, 0 };
	struct rs_file *rs;

	(void)state;
	rs = open_state(&dead);
	assert_int_equal(dead.found, 0); /* a new file */
	resume_begin(rs, 0x1111, &none);
	/* 1000 packets in 300 flows counted; 20 flows of 50 packets aged
	 * with no host; seqs 1..3 handed over, exportd acked 1 */
	rs->counted = (struct rs_totals){ 1000, 300 };
	rs->settled = (struct rs_totals){ 50, 20 };
	rs->ring[1] = (struct rs_ent){ 1, 100, 400 };
	rs->ring[2] = (struct rs_ent){ 2, 150, 600 };
	rs->ring[3] = (struct rs_ent){ 3, 200, 800 };
	rs->acked = 1;
	die(rs);

	rs = open_state(&dead);
	assert_int_equal(dead.found, 1);
	assert_int_equal(dead.epoch, 0x1111);
	/* exportd took through seq 2: lost 1000 - 600 - 50, 300 - 150 - 20 */
	assert_int_equal(resume_settle(rs, &dead, 2, &lost), 0);
	assert_int_equal(lost.packets, 350);
	assert_int_equal(lost.flows, 130);
	/* exportd did not answer: what the dead one knew (seq 1) */
	assert_int_equal(resume_settle(rs, &dead, 0, &lost), 0);
	assert_int_equal(lost.packets, 1000 - 400 - 50);
	/* a seq the ring does not know: an upper bound (what the dead one
	 * knew was acknowledged), said */
	assert_int_equal(resume_settle(rs, &dead, 7, &lost), -1);
	assert_int_equal(lost.packets, 1000 - 400 - 50);
	resume_begin(rs, 0x2222, &lost);
	die(rs);
	rs = open_state(&dead);
	assert_int_equal(dead.found, 1);
	assert_int_equal(dead.epoch, 0x2222);
	assert_int_equal(dead.lost_before.packets, 1000 - 400 - 50);
	/* what was counted before the new sender began is gone */
	assert_int_equal(dead.counted.packets, 0);
	resume_close(rs, dir, 3);
	/* a clean exit leaves nothing to resume */
	rs = open_state(&dead);
	assert_int_equal(dead.found, 0);
	resume_close(rs, dir, 3);
}

/*
 * Capture workers store their own counts: a dead one's loss counts them
 * with the main thread's; a worker that ended is folded into the main
 * thread's counts once, its entry free.
 */
static void
workers_counted(void **state)
{
	struct rs_dead dead;
	struct rs_totals lost, none = { 0, 0 };
	struct rs_totals counted = { 100, 10 }, settled = { 0, 0 };
	struct rs_file *rs;

	(void)state;
	rs = open_state(&dead);
	resume_begin(rs, 0x3333, &none);
	rs->counted = counted;
	rs->wk[0].counted = (struct rs_totals){ 500, 40 };
	rs->wk[0].settled = (struct rs_totals){ 5, 1 };
	rs->wk[3].counted = (struct rs_totals){ 300, 30 };
	/* worker 3 ends: its counts go on in the main thread's */
	resume_worker_fold(rs, 3, &counted, &settled);
	assert_int_equal(counted.packets, 400);
	assert_int_equal(rs->counted.flows, 40);
	assert_int_equal(rs->wk[3].counted.packets, 0);
	/* out of range: nothing */
	resume_worker_fold(rs, RS_WORKERS, &counted, &settled);
	assert_int_equal(counted.packets, 400);
	/* seq 1 took 600 packets in 50 flows of them */
	rs->ring[1] = (struct rs_ent){ 1, 50, 600 };
	die(rs);
	rs = open_state(&dead);
	assert_int_equal(dead.found, 1);
	assert_int_equal(dead.counted.packets, 900);
	assert_int_equal(dead.counted.flows, 80);
	assert_int_equal(dead.settled.flows, 1);
	assert_int_equal(resume_settle(rs, &dead, 1, &lost), 0);
	assert_int_equal(lost.packets, 900 - 600 - 5);
	assert_int_equal(lost.flows, 80 - 50 - 1);
	/* the next sender starts with every worker entry free */
	resume_begin(rs, 0x4444, &lost);
	assert_int_equal(rs->wk[0].counted.packets, 0);
	resume_close(rs, dir, 3);
}

static void
capture_identity(void **state)
{
	struct rs_dead dead;
	struct rs_totals none = { 0, 0 };
	struct rs_file *rs;
	struct stat st = { 0 }, st2;
	int i;

	(void)state;
	rs = open_state(&dead);
	resume_begin(rs, 1, &none);
	st.st_dev = 1, st.st_ino = 2, st.st_size = 3;
	st.st_mtim.tv_sec = 4;
	i = resume_cap(rs, "Gi1/0/0", "/a.pcap", &st);
	assert_true(i >= 0);
	rs->cap[i].applied = 77;
	assert_int_equal(resume_cap(rs, "Gi1/0/0", "/a.pcap", &st), i);
	assert_int_equal(rs->cap[i].applied, 77);
	/* the same path, another file (rewritten): starts at 0 */
	st2 = st;
	st2.st_mtim.tv_nsec = 1;
	assert_int_equal(resume_cap(rs, "Gi1/0/0", "/a.pcap", &st2), i);
	assert_int_equal(rs->cap[i].applied, 0);
	/* another interface on the same file: an entry of its own */
	assert_true(resume_cap(rs, "Gi2/0/0", "/a.pcap", &st) != i);
	/* full: -1, never someone else's entry */
	for (int k = 0; k < RS_CAPS; k++) {
		char name[32];

		snprintf(name, sizeof(name), "if%d", k);
		resume_cap(rs, name, "/b.pcap", &st);
	}
	assert_int_equal(resume_cap(rs, "one more", "/b.pcap", &st), -1);
	resume_close(rs, dir, 3);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(dead_found_and_settled),
		cmocka_unit_test(workers_counted),
		cmocka_unit_test(capture_identity),
	};
	int rc;

	if (mkdtemp(dir) == NULL)
		return 1;
	rc = cmocka_run_group_tests(tests, NULL, NULL);
	rmdir(dir);
	return rc;
}
