/* wbuf.c: bounds-checked wire writer and reader for encoders and decoders. */
#include <string.h>

#include "wbuf.h"

void
wbuf_init(struct wbuf *w, uint8_t *buf, size_t cap)
{
	w->buf = buf;
	w->len = 0;
	w->cap = buf != NULL ? cap : 0;
	w->overflow = 0;
}

/* room for n more bytes; sets overflow (for good) when there is not */
static int
wbuf_room(struct wbuf *w, size_t n)
{
	if (w->overflow)
		return 0;
	if (n > w->cap - w->len) {
		w->overflow = 1;
		return 0;
	}
	return 1;
}

void
wbuf_put_u8(struct wbuf *w, uint8_t v)
{
	if (!wbuf_room(w, 1))
		return;
	w->buf[w->len++] = v;
}

void
wbuf_put_u16(struct wbuf *w, uint16_t v)
{
	if (!wbuf_room(w, 2))
		return;
	w->buf[w->len++] = (uint8_t)(v >> 8);
	w->buf[w->len++] = (uint8_t)v;
}

void
wbuf_put_u32(struct wbuf *w, uint32_t v)
{
	if (!wbuf_room(w, 4))
		return;
	for (int shift = 24; shift >= 0; shift -= 8)
		w->buf[w->len++] = (uint8_t)(v >> shift);
}

void
wbuf_put_u64(struct wbuf *w, uint64_t v)
{
	if (!wbuf_room(w, 8))
		return;
	for (int shift = 56; shift >= 0; shift -= 8)
		w->buf[w->len++] = (uint8_t)(v >> shift);
}

void
wbuf_put_bytes(struct wbuf *w, const void *p, size_t n)
{
	if (n == 0 || !wbuf_room(w, n))
		return;
	memcpy(w->buf + w->len, p, n);
	w->len += n;
}

void
wbuf_put_zero(struct wbuf *w, size_t n)
{
	if (n == 0 || !wbuf_room(w, n))
		return;
	memset(w->buf + w->len, 0, n);
	w->len += n;
}

/*
 * Appends n zero bytes to be filled in later (a length known only at the
 * end) and returns their offset. On overflow the offset is past the end,
 * so a later wbuf_patch_u16() on it is refused as well.
 */
size_t
wbuf_reserve(struct wbuf *w, size_t n)
{
	size_t off = w->len;

	wbuf_put_zero(w, n);
	return w->overflow ? w->cap : off;
}

void
wbuf_patch_u16(struct wbuf *w, size_t off, uint16_t v)
{
	if (w->overflow)
		return;
	if (off > w->len || w->len - off < 2) {
		w->overflow = 1;
		return;
	}
	w->buf[off] = (uint8_t)(v >> 8);
	w->buf[off + 1] = (uint8_t)v;
}

/* Zero-pads so that the bytes written since offset from are a multiple of 4. */
size_t
wbuf_pad4(struct wbuf *w, size_t from)
{
	size_t n;

	if (w->overflow || from > w->len)
		return 0;
	n = pad4_len(w->len - from);
	wbuf_put_zero(w, n);
	return w->overflow ? 0 : n;
}

size_t
wbuf_left(const struct wbuf *w)
{
	return w->overflow ? 0 : w->cap - w->len;
}

void
rbuf_init(struct rbuf *r, const uint8_t *buf, size_t len)
{
	r->buf = buf;
	r->len = buf != NULL ? len : 0;
	r->off = 0;
	r->failed = 0;
}

/* the next n bytes, or NULL (and failed, for good) when there are fewer */
static const uint8_t *
rbuf_take(struct rbuf *r, size_t n)
{
	const uint8_t *p;

	if (r->failed)
		return NULL;
	if (n > r->len - r->off) {
		r->failed = 1;
		return NULL;
	}
	if (n == 0)
		return NULL; /* nothing to read; buf may be NULL */
	p = r->buf + r->off;
	r->off += n;
	return p;
}

uint8_t
rbuf_get_u8(struct rbuf *r)
{
	const uint8_t *p = rbuf_take(r, 1);

	return p != NULL ? p[0] : 0;
}

uint16_t
rbuf_get_u16(struct rbuf *r)
{
	const uint8_t *p = rbuf_take(r, 2);

	return p != NULL ? (uint16_t)(p[0] << 8 | p[1]) : 0;
}

uint32_t
rbuf_get_u32(struct rbuf *r)
{
	const uint8_t *p = rbuf_take(r, 4);

	if (p == NULL)
		return 0;
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	       (uint32_t)p[2] << 8 | p[3];
}

uint64_t
rbuf_get_u64(struct rbuf *r)
{
	uint64_t hi = rbuf_get_u32(r);
	uint64_t lo = rbuf_get_u32(r);

	return r->failed ? 0 : hi << 32 | lo;
}

void
rbuf_get_bytes(struct rbuf *r, void *dst, size_t n)
{
	const uint8_t *p = rbuf_take(r, n);

	if (n == 0)
		return;
	if (p != NULL)
		memcpy(dst, p, n);
	else
		memset(dst, 0, n);
}

void
rbuf_skip(struct rbuf *r, size_t n)
{
	(void)rbuf_take(r, n);
}

/*
 * Splits off the next n bytes as a reader of their own (a set, a record)
 * and moves past them. Too few bytes fail both readers, so a decoder that
 * ignores the parent's flag still stops at the child.
 */
struct rbuf
rbuf_sub(struct rbuf *r, size_t n)
{
	struct rbuf sub;
	int ok = !r->failed && n <= r->len - r->off;
	const uint8_t *p = rbuf_take(r, n);

	rbuf_init(&sub, p, ok ? n : 0);
	sub.failed = !ok;
	return sub;
}

size_t
rbuf_left(const struct rbuf *r)
{
	return r->failed ? 0 : r->len - r->off;
}
