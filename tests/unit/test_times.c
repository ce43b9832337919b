/*
 * test_times.c: exportd/times.c, the times of a batch as v9 and IPFIX
 * carry them. Expected values are the arithmetic of RFC 3954 (32-bit
 * unix seconds in the header, 32-bit sysUpTime ms for 21/22) and of RFC
 * 7011/5102 (152/153: 64-bit unix ms), worked by hand below.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "exportd.h"
#include "fields.h"

#define S32 (INT64_C(1) << 32)

static uint64_t
get(const uint8_t *p, int len)
{
	uint64_t v = 0;

	for (int i = 0; i < len; i++)
		v = v << 8 | p[i];
	return v;
}

/* a flow time is ms since boot mod 2^32, before the export time */
static void
abs_times(void **state)
{
	(void)state;
	/* boot 1000 ms, flow at 1500: 500 */
	assert_int_equal(times_abs(10000, 1000, 500), 1500);
	/* up 2^32 + 1000 ms: a flow 600 ms before the export, its rel
	 * (2^32 + 400) mod 2^32 = 400 */
	assert_int_equal(times_abs(S32 + 1000, 0, 400), S32 + 400);
	/* a boot before the epoch (a clock set back): flow at 20 ms */
	assert_int_equal(times_abs(100, -50000, 50020), 20);
}

/* v9 rounds the header up to a whole second, within 32 bits */
static void
header_seconds(void **state)
{
	int c;

	(void)state;
	assert_int_equal(times_header_secs(1500, 0, &c), 2);
	assert_int_equal(c, 0);
	assert_int_equal(times_header_secs(1500, 1, &c), 1);
	/* 2^31 s: past a signed 32-bit time_t, within v9 */
	assert_int_equal(times_header_secs(INT64_C(2147483648000), 0, &c),
	    2147483648u);
	assert_int_equal(c, 0);
	/* the last second v9 has (2106-02-07 06:28:15): not rounded past */
	assert_int_equal(times_header_secs(INT64_C(4294967295500), 0, &c),
	    4294967295u);
	assert_int_equal(c, 0);
	/* past it: the last second, clamped */
	assert_int_equal(times_header_secs(S32 * 1000 + 1, 0, &c), UINT32_MAX);
	assert_int_equal(c, 1);
	assert_int_equal(times_header_secs(S32 * 1000 + 1, 1, &c), UINT32_MAX);
	assert_int_equal(c, 1);
}

/* the boot a v9 packet counts from: the batch's, unless it cannot be */
static void
packet_boot(void **state)
{
	(void)state;
	assert_int_equal(times_pkt_boot(5000, 1000), 1000);
	/* a boot before the epoch: the epoch */
	assert_int_equal(times_pkt_boot(5000, -1000), 0);
	/* up 60 days (in 2065): 2^31 ms before the header's time */
	assert_int_equal(times_pkt_boot(INT64_C(3000000000000),
	    INT64_C(3000000000000) - INT64_C(5184000000)),
	    INT64_C(3000000000000) - (INT64_C(1) << 31));
	/* past 2106: counted from no later than the last second */
	assert_true(times_pkt_boot(INT64_C(6000000000000),
	    INT64_C(6000000000000) - 1000) <= INT64_C(4294967295000));
}

/* a row of packets(8), first(4), last(4): rewritten for v9 and IPFIX */
static void
rows(void **state)
{
	struct tmpl t;
	uint8_t row[16] = { 0 }, out[24];
	int64_t e = S32 * 1000 + 2000, b = e - 3600; /* past 2106 */

	(void)state;
	memset(&t, 0, sizeof(t));
	tmpl_add_field(&t, F_PACKETS, 8);
	tmpl_add_field(&t, F_FIRST_SWITCHED, 4);
	tmpl_add_field(&t, F_LAST_SWITCHED, 4);
	row[7] = 9;
	row[10] = 0x0b; /* first 3000: 600 ms before the export */
	row[11] = 0xb8;
	row[14] = 0x0d; /* last 3500 */
	row[15] = 0xac;
	/* IPFIX: unix ms, as they are */
	assert_int_equal(times_row(&t, row, e, b, 1, 0, out), 0);
	assert_int_equal(get(out, 8), 9);
	assert_int_equal(get(out + 8, 8), (uint64_t)(b + 3000));
	assert_int_equal(get(out + 16, 8), (uint64_t)(b + 3500));
	/* v9: both the end of the last second it carries, clamped */
	assert_int_equal(times_row(&t, row, e, b, 0,
	    times_pkt_boot(e, b), out), 2);
	assert_int_equal(times_pkt_boot(e, b) + (int64_t)get(out + 8, 4),
	    INT64_C(4294967295999));
	assert_int_equal(times_pkt_boot(e, b) + (int64_t)get(out + 12, 4),
	    INT64_C(4294967295999));
	/* within range: rel to the packet's boot */
	assert_int_equal(times_row(&t, row, 100000, 90000, 0, 85000, out), 0);
	assert_int_equal(get(out + 8, 4), 8000);
	assert_int_equal(get(out + 12, 4), 8500);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(abs_times),
		cmocka_unit_test(header_seconds),
		cmocka_unit_test(packet_boot),
		cmocka_unit_test(rows),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
