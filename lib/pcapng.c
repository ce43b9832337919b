/*
 * pcapng.c: the direction flags of the packets of a pcapng file (the
 * epb_flags option, code 2, bits 0-1: 01 inbound, 10 outbound), which
 * libpcap reads past without a word. The file is walked a second time
 * beside libpcap, one packet block (enhanced, simple or obsolete packet
 * block: the ones libpcap returns) for each packet libpcap returns.
 * Everything is bounded by the block's own length; a block whose options
 * do not parse is counted and its packet taken as unflagged, and a block
 * header that cannot be walked past ends the walk (counted once): the
 * packets after it are unflagged. Nothing here can stop the replay.
 */
#include <errno.h>
#include <stdio.h>
#include <stdio_ext.h>
#include <stdlib.h>
#include <string.h>

#include "pcapng.h"
#include "util.h"

#define BT_SHB 0x0A0D0D0Au /* the same bytes in both orders */
#define BT_PB 2u	   /* obsolete packet block: pack_flags, code 2 */
#define BT_SPB 3u	   /* simple packet block: no options */
#define BT_EPB 6u
#define BOM 0x1A2B3C4Du
#define OPT_END 0
#define OPT_FLAGS 2
#define PKT_FIXED 20 /* the fields of an EPB (and a PB) before the data */
#define FLAGS_BUF (256u << 10)

static uint32_t
u32(const struct pcapng_flags *r, const uint8_t *p)
{
	uint32_t v;

	memcpy(&v, p, 4);
	return r->swap ? __builtin_bswap32(v) : v;
}

static uint16_t
u16(const struct pcapng_flags *r, const uint8_t *p)
{
	uint16_t v;

	memcpy(&v, p, 2);
	return r->swap ? __builtin_bswap16(v) : v;
}

/* 1 when the file starts with a section header block */
int
pcapng_is_pcapng(const char *path)
{
	FILE *f = fopen(path, "rbe");
	uint8_t m[4];
	uint32_t v;
	int yes;

	if (f == NULL)
		return 0;
	yes = fread(m, 1, 4, f) == 4;
	fclose(f);
	memcpy(&v, m, 4);
	return yes && v == BT_SHB;
}

void
pcapng_flags_fopen(struct pcapng_flags *r, FILE *f)
{
	memset(r, 0, sizeof(*r));
	r->f = f;
}

int
pcapng_flags_open(struct pcapng_flags *r, const char *path, char *err,
    size_t errlen)
{
	FILE *f = fopen(path, "rbe");

	if (f == NULL) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return -1;
	}
	pcapng_flags_fopen(r, f);
	r->iobuf = xmalloc(FLAGS_BUF);
	setvbuf(f, r->iobuf, _IOFBF, FLAGS_BUF);
	__fsetlocking(f, FSETLOCKING_BYCALLER);
	return 0;
}

void
pcapng_flags_close(struct pcapng_flags *r)
{
	if (r->f != NULL && r->iobuf != NULL)
		fclose(r->f); /* then its buffer can go */
	free(r->iobuf);
	free(r->blk);
	memset(r, 0, sizeof(*r));
}

/* The walk cannot go on: counted once, and no flag from now on. */
static int
lose(struct pcapng_flags *r)
{
	if (!r->lost)
		r->malformed++;
	r->lost = 1;
	return PCAPNG_DIR_NONE;
}

static int
bad(struct pcapng_flags *r)
{
	r->malformed++;
	return PCAPNG_DIR_NONE;
}

/*
 * The direction of a packet block whose body (after type and length,
 * trailing length included) is b[0..n).
 */
static int
block_dir(struct pcapng_flags *r, uint32_t type, const uint8_t *b, size_t n)
{
	size_t off, end = n - 4, olen;
	uint32_t caplen, flags;
	uint16_t code;
	int dir = PCAPNG_DIR_NONE;

	if (type == BT_SPB)
		return PCAPNG_DIR_NONE;
	if (end < PKT_FIXED)
		return bad(r);
	caplen = u32(r, b + 12);
	if (caplen > end - PKT_FIXED)
		return bad(r);
	off = PKT_FIXED + (((size_t)caplen + 3) & ~(size_t)3);
	while (off + 4 <= end) {
		code = u16(r, b + off);
		olen = u16(r, b + off + 2);
		if (code == OPT_END)
			break;
		if (olen > end - off - 4)
			return bad(r);
		if (code == OPT_FLAGS) {
			if (olen != 4)
				return bad(r);
			flags = u32(r, b + off + 4);
			if ((flags & 3) == 3)
				return bad(r); /* both: no meaning */
			dir = (int)(flags & 3);
		}
		off += 4 + ((olen + 3) & ~(size_t)3);
	}
	if (off < end && off + 4 > end)
		return bad(r); /* options cut inside a header */
	return dir;
}

/* The body (len - 8 bytes) of the current block into r->blk. */
static int
read_body(struct pcapng_flags *r, uint32_t len)
{
	size_t n = (size_t)len - 8;

	if (n > r->blk_cap) {
		free(r->blk);
		r->blk_cap = n < 4096 ? 4096 : n;
		r->blk = xmalloc(r->blk_cap);
	}
	return fread(r->blk, 1, n, r->f) == n ? 0 : -1;
}

/*
 * Walks to the next packet block and says its direction
 * (PCAPNG_DIR_*). Called once for each packet libpcap returned.
 */
int
pcapng_flags_next(struct pcapng_flags *r)
{
	uint8_t h[12];
	uint32_t type, len, bom;
	int dir;

	if (r->f == NULL || r->lost)
		return PCAPNG_DIR_NONE;
	for (;;) {
		if (fread(h, 1, 8, r->f) != 8)
			return lose(r); /* libpcap had a packet, we have none */
		memcpy(&type, h, 4);
		if (type == BT_SHB) {
			/* a new section, maybe of the other byte order */
			if (fread(h + 8, 1, 4, r->f) != 4)
				return lose(r);
			memcpy(&bom, h + 8, 4);
			if (bom == BOM)
				r->swap = 0;
			else if (bom == __builtin_bswap32(BOM))
				r->swap = 1;
			else
				return lose(r);
			len = u32(r, h + 4);
			if (len < 28 || len % 4 || len > PCAPNG_MAX_BLOCK ||
			    fseek(r->f, (long)len - 12, SEEK_CUR) == -1)
				return lose(r);
			continue;
		}
		type = u32(r, h);
		len = u32(r, h + 4);
		if (len < 12 || len % 4 || len > PCAPNG_MAX_BLOCK)
			return lose(r);
		if (type != BT_EPB && type != BT_SPB && type != BT_PB) {
			if (fseek(r->f, (long)len - 8, SEEK_CUR) == -1)
				return lose(r);
			continue;
		}
		if (read_body(r, len) == -1)
			return lose(r);
		r->packets++;
		if (u32(r, r->blk + len - 12) != len)
			dir = bad(r); /* the trailing length disagrees */
		else
			dir = block_dir(r, type, r->blk, (size_t)len - 8);
		r->flagged[dir]++;
		return dir;
	}
}
