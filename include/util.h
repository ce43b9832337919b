/* util.h: small helpers every process uses (strings, memory, clocks, files). */
#ifndef NS_UTIL_H
#define NS_UTIL_H

#include <stddef.h>
#include <stdint.h>

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))

/* A growable string; out of memory is fatal. */
struct sbuf {
	char *s;
	size_t len, cap;
};

/* util.c */
size_t ns_strlcpy(char *dst, const char *src, size_t size);
void *xmalloc(size_t n);
void *xcalloc(size_t n, size_t size);
void *xrealloc(void *p, size_t n);
char *xstrdup(const char *s);
void sbuf_init(struct sbuf *b);
void sbuf_printf(struct sbuf *b, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
void sbuf_free(struct sbuf *b);
int64_t now_ms(void);
int64_t mono_ms(void);
int64_t mono_us(void);
int read_file_limited(const char *path, size_t limit, char **out, size_t *len,
    char *errbuf, size_t errlen);
int mkdir_private(const char *path, char *errbuf, size_t errlen);
int wake_open(void);
void wake_signal(void);
void wake_drain(void);

/* UTF-8 (RFC 3629): no overlong forms, surrogates or past U+10FFFF */
size_t utf8_seq(const char *s, size_t len);
int utf8_valid(const char *s, size_t len, size_t *bad);
void utf8_scrub(char *s);
size_t utf8_cut(const char *s, size_t len, size_t max);

#endif
