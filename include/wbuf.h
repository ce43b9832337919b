/* wbuf.h: bounds-checked writer and reader for wire data (network order). */
#ifndef NS_WBUF_H
#define NS_WBUF_H

#include <stddef.h>
#include <stdint.h>

/*
 * A writer over a caller's buffer of cap bytes. A write that does not fit
 * sets overflow and writes nothing; every later write is then a no-op, so an
 * encoder appends a whole record and checks overflow once at the end.
 */
struct wbuf {
	uint8_t *buf;
	size_t len, cap;
	int overflow;
};

/*
 * A reader over len bytes. A read past the end sets failed, returns 0 (or
 * zero-fills), and every later read does the same, so a decoder reads a
 * whole header and checks failed once.
 */
struct rbuf {
	const uint8_t *buf;
	size_t len, off;
	int failed;
};

/* bytes of zero padding that bring n to a multiple of 4 */
static inline size_t
pad4_len(size_t n)
{
	return (4 - (n & 3)) & 3;
}

/* wbuf.c */
void wbuf_init(struct wbuf *w, uint8_t *buf, size_t cap);
void wbuf_put_u8(struct wbuf *w, uint8_t v);
void wbuf_put_u16(struct wbuf *w, uint16_t v);
void wbuf_put_u32(struct wbuf *w, uint32_t v);
void wbuf_put_u64(struct wbuf *w, uint64_t v);
void wbuf_put_bytes(struct wbuf *w, const void *p, size_t n);
void wbuf_put_zero(struct wbuf *w, size_t n);
size_t wbuf_reserve(struct wbuf *w, size_t n);
void wbuf_patch_u16(struct wbuf *w, size_t off, uint16_t v);
size_t wbuf_pad4(struct wbuf *w, size_t from);
size_t wbuf_left(const struct wbuf *w);

void rbuf_init(struct rbuf *r, const uint8_t *buf, size_t len);
uint8_t rbuf_get_u8(struct rbuf *r);
uint16_t rbuf_get_u16(struct rbuf *r);
uint32_t rbuf_get_u32(struct rbuf *r);
uint64_t rbuf_get_u64(struct rbuf *r);
void rbuf_get_bytes(struct rbuf *r, void *dst, size_t n);
void rbuf_skip(struct rbuf *r, size_t n);
struct rbuf rbuf_sub(struct rbuf *r, size_t n);
size_t rbuf_left(const struct rbuf *r);

#endif
