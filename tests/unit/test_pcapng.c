/*
 * test_pcapng.c: the pcapng direction-flags walk (lib/pcapng.c) over
 * files built here from the pcapng spec (draft-ietf-opsawg-pcapng): flags
 * in both byte orders, after other options, in obsolete packet blocks,
 * and every kind of malformed block counted and skipped.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "pcapng.h"

static uint8_t file[8192];
static size_t flen;
static int big; /* writing big-endian */

static void
put32(uint32_t v)
{
	uint8_t *p = file + flen;

	if (big) {
		p[0] = (uint8_t)(v >> 24), p[1] = (uint8_t)(v >> 16);
		p[2] = (uint8_t)(v >> 8), p[3] = (uint8_t)v;
	} else
		memcpy(p, &v, 4);
	flen += 4;
}

static void
put16(uint16_t v)
{
	uint8_t *p = file + flen;

	if (big)
		p[0] = (uint8_t)(v >> 8), p[1] = (uint8_t)v;
	else
		memcpy(p, &v, 2);
	flen += 2;
}

static void
shb(int big_endian)
{
	big = big_endian;
	put32(0x0A0D0D0A);
	put32(28);
	put32(0x1A2B3C4D);
	put16(1);
	put16(0);
	put32(0xffffffff);
	put32(0xffffffff);
	put32(28);
	/* an interface */
	put32(1);
	put32(20);
	put16(1);
	put16(0);
	put32(65535);
	put32(20);
}

/* an EPB (type 6) or PB (type 2) with 6 bytes of data and opts; the
 * length field is len_fix when not 0 */
static void
pkt_block(uint32_t type, const uint8_t *opts, size_t olen, uint32_t len_fix,
    uint32_t trailer_fix)
{
	uint32_t len = 8 + 20 + 8 + (uint32_t)olen + 4;

	put32(type);
	put32(len_fix ? len_fix : len);
	put32(0);		/* interface (PB: id and drops) */
	put32(0);		/* ts high */
	put32(1);		/* ts low */
	put32(6);		/* captured */
	put32(6);		/* original */
	memcpy(file + flen, "abcdef\0\0", 8);
	flen += 8;
	if (olen > 0)
		memcpy(file + flen, opts, olen);
	flen += olen;
	put32(trailer_fix ? trailer_fix : len);
}

/* options, written in the current byte order */
static size_t
opt_flags(uint8_t *o, uint32_t flags, int comment_first)
{
	size_t s = flen, n;

	if (comment_first) {
		put16(1);
		put16(3);
		memcpy(file + flen, "hi\0\0", 4);
		flen += 4;
	}
	put16(2);
	put16(4);
	put32(flags);
	put16(0);
	put16(0);
	n = flen - s;
	memcpy(o, file + s, n);
	flen = s;
	return n;
}

static struct pcapng_flags r;
static FILE *f;

static void
walk_open(void)
{
	f = fmemopen(file, flen, "rb");
	assert_non_null(f);
	pcapng_flags_fopen(&r, f);
}

static void
walk_close(void)
{
	pcapng_flags_close(&r);
	fclose(f);
	flen = 0;
}

static void
flags_in_both_byte_orders(void **state)
{
	uint8_t o[64];
	size_t n;
	int e;

	(void)state;
	for (e = 0; e < 2; e++) {
		shb(e);
		n = opt_flags(o, 1, 0);
		pkt_block(6, o, n, 0, 0);
		n = opt_flags(o, 2 | 0x1c, 1); /* outbound, after a comment */
		pkt_block(6, o, n, 0, 0);
		pkt_block(6, NULL, 0, 0, 0);  /* no options */
		n = opt_flags(o, 0, 0);	      /* "not available" */
		pkt_block(6, o, n, 0, 0);
		n = opt_flags(o, 2, 0);
		pkt_block(2, o, n, 0, 0);     /* obsolete packet block */
		walk_open();
		assert_int_equal(pcapng_flags_next(&r), PCAPNG_DIR_IN);
		assert_int_equal(pcapng_flags_next(&r), PCAPNG_DIR_OUT);
		assert_int_equal(pcapng_flags_next(&r), PCAPNG_DIR_NONE);
		assert_int_equal(pcapng_flags_next(&r), PCAPNG_DIR_NONE);
		assert_int_equal(pcapng_flags_next(&r), PCAPNG_DIR_OUT);
		assert_int_equal(r.malformed, 0);
		assert_int_equal(r.packets, 5);
		/* no sixth packet: the walk ends, counted once */
		assert_int_equal(pcapng_flags_next(&r), PCAPNG_DIR_NONE);
		assert_int_equal(pcapng_flags_next(&r), PCAPNG_DIR_NONE);
		assert_int_equal(r.malformed, 1);
		walk_close();
	}
}

/* bad options: counted, the packet unflagged, the walk goes on */
static void
bad_options_are_counted_and_skipped(void **state)
{
	uint8_t o[64];
	size_t n;

	(void)state;
	shb(0);
	n = opt_flags(o, 3, 0); /* both bits: no meaning */
	pkt_block(6, o, n, 0, 0);
	n = opt_flags(o, 1, 0);
	o[2] = 200; /* epb_flags length past the block */
	pkt_block(6, o, n, 0, 0);
	n = opt_flags(o, 1, 0);
	o[2] = 2; /* epb_flags of 2 bytes */
	pkt_block(6, o, n, 0, 0);
	n = opt_flags(o, 1, 0);
	pkt_block(6, o, n, 0, 999); /* trailing length differs */
	n = opt_flags(o, 2, 0);
	pkt_block(6, o, n, 0, 0); /* a good one after them */
	walk_open();
	assert_int_equal(pcapng_flags_next(&r), PCAPNG_DIR_NONE);
	assert_int_equal(pcapng_flags_next(&r), PCAPNG_DIR_NONE);
	assert_int_equal(pcapng_flags_next(&r), PCAPNG_DIR_NONE);
	assert_int_equal(pcapng_flags_next(&r), PCAPNG_DIR_NONE);
	assert_int_equal(r.malformed, 4);
	assert_int_equal(pcapng_flags_next(&r), PCAPNG_DIR_OUT);
	assert_int_equal(r.lost, 0);
	walk_close();
}

/* a captured length past the block, a block length that cannot be
 * walked: counted, and no flags after it */
static void
bad_block_headers_end_the_walk(void **state)
{
	static const uint32_t lens[] = { 8, 30, 0x7ffffffc };
	uint8_t o[64];
	size_t n, i;

	(void)state;
	shb(0);
	n = opt_flags(o, 1, 0);
	pkt_block(6, o, n, 0, 0);
	/* caplen 6, but a block too short for it */
	put32(6);
	put32(32);
	put32(0), put32(0), put32(1), put32(6000), put32(6);
	put32(32);
	walk_open();
	assert_int_equal(pcapng_flags_next(&r), PCAPNG_DIR_IN);
	assert_int_equal(pcapng_flags_next(&r), PCAPNG_DIR_NONE);
	assert_int_equal(r.malformed, 1);
	assert_int_equal(r.lost, 0);
	walk_close();
	for (i = 0; i < sizeof(lens) / sizeof(lens[0]); i++) {
		shb(0);
		n = opt_flags(o, 2, 0);
		pkt_block(6, o, n, lens[i], 0);
		pkt_block(6, o, n, 0, 0);
		walk_open();
		assert_int_equal(pcapng_flags_next(&r), PCAPNG_DIR_NONE);
		assert_int_equal(pcapng_flags_next(&r), PCAPNG_DIR_NONE);
		assert_int_equal(r.lost, 1);
		assert_int_equal(r.malformed, 1);
		walk_close();
	}
	/* a section header with no byte-order magic */
	shb(0);
	memset(file + 8, 0x55, 4);
	walk_open();
	assert_int_equal(pcapng_flags_next(&r), PCAPNG_DIR_NONE);
	assert_int_equal(r.lost, 1);
	walk_close();
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(flags_in_both_byte_orders),
		cmocka_unit_test(bad_options_are_counted_and_skipped),
		cmocka_unit_test(bad_block_headers_end_the_walk),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
