/* test_wbuf.c: the bounds-checked wire writer and reader (lib/wbuf.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "wbuf.h"

static void
test_put_network_order(void **state)
{
	// clang-format off
	static const uint8_t want[] = {
		0xa1,                                           /* u8 */
		0xb1, 0xb2,                                     /* u16 */
		0xc1, 0xc2, 0xc3, 0xc4,                         /* u32 */
		0xd1, 0xd2, 0xd3, 0xd4, 0xd5, 0xd6, 0xd7, 0xd8, /* u64 */
		'x', 'y',                                       /* bytes */
		0, 0, 0,                                        /* zero */
	};
	// clang-format on
	uint8_t buf[sizeof(want)];
	struct wbuf w;

	(void)state;
	memset(buf, 0xee, sizeof(buf));
	wbuf_init(&w, buf, sizeof(buf));
	wbuf_put_u8(&w, 0xa1);
	wbuf_put_u16(&w, 0xb1b2);
	wbuf_put_u32(&w, 0xc1c2c3c4);
	wbuf_put_u64(&w, 0xd1d2d3d4d5d6d7d8ULL);
	wbuf_put_bytes(&w, "xy", 2);
	wbuf_put_zero(&w, 3);
	assert_false(w.overflow);
	assert_int_equal(w.len, sizeof(want));
	assert_int_equal(wbuf_left(&w), 0);
	assert_memory_equal(buf, want, sizeof(want));
}

/* a put that does not fit writes nothing, and nothing is written after it */
static void
test_overflow_is_sticky(void **state)
{
	uint8_t buf[8];
	struct wbuf w;

	(void)state;
	memset(buf, 0xee, sizeof(buf));
	wbuf_init(&w, buf, 6);
	wbuf_put_u32(&w, 0x01020304);
	wbuf_put_u32(&w, 0x05060708); /* 2 bytes left: refused whole */
	assert_true(w.overflow);
	assert_int_equal(w.len, 4);
	assert_int_equal(buf[4], 0xee);
	wbuf_put_u8(&w, 0x09); /* would fit, but overflow is set */
	wbuf_put_u16(&w, 0x0a0b);
	wbuf_put_zero(&w, 1);
	wbuf_put_bytes(&w, "z", 1);
	assert_int_equal(w.len, 4);
	assert_int_equal(buf[4], 0xee);
	assert_int_equal(buf[5], 0xee);
	assert_int_equal(wbuf_left(&w), 0);
}

static void
test_overflow_each_width(void **state)
{
	uint8_t buf[8];
	struct wbuf w;

	(void)state;
	wbuf_init(&w, buf, 0);
	wbuf_put_u8(&w, 1);
	assert_true(w.overflow);
	wbuf_init(&w, buf, 1);
	wbuf_put_u16(&w, 1);
	assert_true(w.overflow);
	wbuf_init(&w, buf, 3);
	wbuf_put_u32(&w, 1);
	assert_true(w.overflow);
	wbuf_init(&w, buf, 7);
	wbuf_put_u64(&w, 1);
	assert_true(w.overflow);
	wbuf_init(&w, buf, 7);
	wbuf_put_zero(&w, 8);
	assert_true(w.overflow);
	assert_int_equal(w.len, 0);
	/* a NULL buffer has no room at all */
	wbuf_init(&w, NULL, 100);
	wbuf_put_u8(&w, 1);
	assert_true(w.overflow);
	/* a huge length must not wrap the bounds check */
	wbuf_init(&w, buf, sizeof(buf));
	wbuf_put_u8(&w, 1);
	wbuf_put_zero(&w, SIZE_MAX);
	assert_true(w.overflow);
	assert_int_equal(w.len, 1);
}

static void
test_exact_fit(void **state)
{
	uint8_t buf[4];
	struct wbuf w;

	(void)state;
	wbuf_init(&w, buf, sizeof(buf));
	wbuf_put_u16(&w, 1);
	wbuf_put_u16(&w, 2);
	assert_false(w.overflow);
	assert_int_equal(w.len, 4);
	wbuf_put_bytes(&w, "", 0); /* nothing to write still fits */
	assert_false(w.overflow);
}

static void
test_reserve_patch(void **state)
{
	uint8_t buf[8];
	struct wbuf w;
	size_t off;

	(void)state;
	wbuf_init(&w, buf, sizeof(buf));
	wbuf_put_u16(&w, 0xabcd);
	off = wbuf_reserve(&w, 2);
	assert_int_equal(off, 2);
	assert_int_equal(buf[2], 0);
	assert_int_equal(buf[3], 0);
	wbuf_put_u8(&w, 0x11);
	wbuf_patch_u16(&w, off, 0x1234);
	assert_false(w.overflow);
	assert_int_equal(buf[2], 0x12);
	assert_int_equal(buf[3], 0x34);
	assert_int_equal(w.len, 5);

	/* patching what was not written yet is an overflow, not a write */
	wbuf_patch_u16(&w, 4, 0x5555);
	assert_true(w.overflow);
	assert_int_equal(buf[4], 0x11);

	/* a reserve that does not fit returns an offset no patch accepts */
	wbuf_init(&w, buf, 3);
	wbuf_put_u16(&w, 1);
	off = wbuf_reserve(&w, 2);
	assert_true(w.overflow);
	assert_true(off >= w.len);
}

static void
test_pad4(void **state)
{
	uint8_t buf[16];
	struct wbuf w;

	(void)state;
	assert_int_equal(pad4_len(0), 0);
	assert_int_equal(pad4_len(1), 3);
	assert_int_equal(pad4_len(2), 2);
	assert_int_equal(pad4_len(3), 1);
	assert_int_equal(pad4_len(4), 0);

	memset(buf, 0xee, sizeof(buf));
	wbuf_init(&w, buf, sizeof(buf));
	wbuf_put_u16(&w, 0x0101);
	wbuf_put_u8(&w, 0x02); /* 2 bytes since offset 1 */
	assert_int_equal(wbuf_pad4(&w, 1), 2);
	assert_int_equal(w.len, 5);
	assert_int_equal(buf[3], 0);
	assert_int_equal(buf[4], 0);
	assert_int_equal(buf[5], 0xee);
	assert_int_equal(wbuf_pad4(&w, 1), 0); /* already aligned */
	assert_int_equal(w.len, 5);

	/* padding that does not fit overflows */
	wbuf_init(&w, buf, 2);
	wbuf_put_u8(&w, 1);
	assert_int_equal(wbuf_pad4(&w, 0), 0);
	assert_true(w.overflow);
}

static void
test_read(void **state)
{
	static const uint8_t in[] = {
	    0xa1, 0xb1, 0xb2, 0xc1, 0xc2, 0xc3, 0xc4, 0xd1, 0xd2,
	    0xd3, 0xd4, 0xd5, 0xd6, 0xd7, 0xd8, 'x',  'y',  0x77,
	};
	struct rbuf r;
	char xy[2];

	(void)state;
	rbuf_init(&r, in, sizeof(in));
	assert_int_equal(rbuf_get_u8(&r), 0xa1);
	assert_int_equal(rbuf_get_u16(&r), 0xb1b2);
	assert_int_equal(rbuf_get_u32(&r), 0xc1c2c3c4);
	assert_true(rbuf_get_u64(&r) == 0xd1d2d3d4d5d6d7d8ULL);
	rbuf_get_bytes(&r, xy, 2);
	assert_memory_equal(xy, "xy", 2);
	assert_int_equal(rbuf_left(&r), 1);
	assert_false(r.failed);
	rbuf_skip(&r, 1);
	assert_int_equal(rbuf_left(&r), 0);
	assert_false(r.failed);
}

/* a short read fails, returns zeros, and every later read fails too */
static void
test_read_failure_is_sticky(void **state)
{
	static const uint8_t in[] = {1, 2, 3, 4, 5};
	struct rbuf r;
	uint8_t out[3];

	(void)state;
	rbuf_init(&r, in, sizeof(in));
	assert_int_equal(rbuf_get_u16(&r), 0x0102);
	assert_int_equal(rbuf_get_u32(&r), 0); /* 3 left */
	assert_true(r.failed);
	assert_int_equal(rbuf_get_u8(&r), 0); /* would fit, but failed */
	memset(out, 0xee, sizeof(out));
	rbuf_get_bytes(&r, out, sizeof(out));
	assert_int_equal(out[0], 0);
	assert_int_equal(out[2], 0);
	assert_int_equal(rbuf_left(&r), 0);

	rbuf_init(&r, in, sizeof(in));
	assert_true(rbuf_get_u64(&r) == 0);
	assert_true(r.failed);
	rbuf_init(&r, in, sizeof(in));
	rbuf_skip(&r, 6);
	assert_true(r.failed);
	rbuf_init(&r, in, sizeof(in));
	rbuf_skip(&r, SIZE_MAX);
	assert_true(r.failed);
	rbuf_init(&r, NULL, 10);
	assert_int_equal(rbuf_get_u8(&r), 0);
	assert_true(r.failed);
}

static void
test_sub(void **state)
{
	static const uint8_t in[] = {0, 2, 0xaa, 0xbb, 0xcc};
	struct rbuf r, s;

	(void)state;
	rbuf_init(&r, in, sizeof(in));
	s = rbuf_sub(&r, rbuf_get_u16(&r));
	assert_false(s.failed);
	assert_int_equal(rbuf_left(&s), 2);
	assert_int_equal(rbuf_get_u16(&s), 0xaabb);
	assert_int_equal(rbuf_get_u8(&s), 0); /* the child ends at its length */
	assert_true(s.failed);
	assert_false(r.failed);
	assert_int_equal(rbuf_get_u8(&r), 0xcc);

	/* a child longer than what is left fails both */
	rbuf_init(&r, in, sizeof(in));
	rbuf_skip(&r, 2);
	s = rbuf_sub(&r, 4);
	assert_true(s.failed);
	assert_true(r.failed);
	assert_int_equal(rbuf_get_u8(&s), 0);

	/* an empty child is valid and empty */
	rbuf_init(&r, in, sizeof(in));
	s = rbuf_sub(&r, 0);
	assert_false(s.failed);
	assert_int_equal(rbuf_left(&s), 0);
	assert_int_equal(rbuf_left(&r), sizeof(in));
}

/* what the writer writes, the reader reads back */
static void
test_round_trip(void **state)
{
	uint8_t buf[32];
	struct wbuf w;
	struct rbuf r;

	(void)state;
	wbuf_init(&w, buf, sizeof(buf));
	wbuf_put_u64(&w, 0x0102030405060708ULL);
	wbuf_put_u32(&w, 0xfffffffe);
	wbuf_put_u16(&w, 0x8001);
	wbuf_put_u8(&w, 0x80);
	assert_false(w.overflow);
	rbuf_init(&r, buf, w.len);
	assert_true(rbuf_get_u64(&r) == 0x0102030405060708ULL);
	assert_int_equal(rbuf_get_u32(&r), 0xfffffffe);
	assert_int_equal(rbuf_get_u16(&r), 0x8001);
	assert_int_equal(rbuf_get_u8(&r), 0x80);
	assert_int_equal(rbuf_left(&r), 0);
	assert_false(r.failed);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_put_network_order),
	    cmocka_unit_test(test_overflow_is_sticky),
	    cmocka_unit_test(test_overflow_each_width),
	    cmocka_unit_test(test_exact_fit),
	    cmocka_unit_test(test_reserve_patch),
	    cmocka_unit_test(test_pad4),
	    cmocka_unit_test(test_read),
	    cmocka_unit_test(test_read_failure_is_sticky),
	    cmocka_unit_test(test_sub),
	    cmocka_unit_test(test_round_trip),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
