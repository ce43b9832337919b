/* util.c: string, memory, clock and file helpers shared by every process. */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "log.h"
#include "util.h"

size_t
ns_strlcpy(char *dst, const char *src, size_t size)
{
	size_t n = strlen(src);

	if (size > 0) {
		size_t c = n < size - 1 ? n : size - 1;
		memcpy(dst, src, c);
		dst[c] = '\0';
	}
	return n;
}

void *
xmalloc(size_t n)
{
	void *p = malloc(n ? n : 1);

	if (p == NULL)
		fatal("malloc %zu", n);
	return p;
}

void *
xcalloc(size_t n, size_t size)
{
	void *p = calloc(n ? n : 1, size ? size : 1);

	if (p == NULL)
		fatal("calloc %zu", n * size);
	return p;
}

void *
xrealloc(void *p, size_t n)
{
	void *q = realloc(p, n ? n : 1);

	if (q == NULL)
		fatal("realloc %zu", n);
	return q;
}

char *
xstrdup(const char *s)
{
	char *p = strdup(s);

	if (p == NULL)
		fatal("strdup");
	return p;
}

void
sbuf_init(struct sbuf *b)
{
	b->cap = 256;
	b->len = 0;
	b->s = xmalloc(b->cap);
	b->s[0] = '\0';
}

void
sbuf_printf(struct sbuf *b, const char *fmt, ...)
{
	va_list ap;
	int n;

	for (;;) {
		va_start(ap, fmt);
		n = vsnprintf(b->s + b->len, b->cap - b->len, fmt, ap);
		va_end(ap);
		if (n < 0)
			return;
		if ((size_t)n < b->cap - b->len)
			break;
		b->cap = (b->cap + (size_t)n + 1) * 2;
		b->s = xrealloc(b->s, b->cap);
	}
	b->len += (size_t)n;
}

void
sbuf_free(struct sbuf *b)
{
	free(b->s);
	b->s = NULL;
	b->len = b->cap = 0;
}

int64_t
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int64_t
mono_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

/*
 * The self-pipe: a signal handler calls wake_signal(), and the process
 * polls wake_open()'s descriptor beside its sockets, so a signal that
 * comes just before a poll still ends it at once (a flag alone is seen
 * only when the poll times out).
 */
static int wake_fds[2] = { -1, -1 };

int
wake_open(void)
{
	if (wake_fds[0] == -1 && pipe2(wake_fds, O_CLOEXEC | O_NONBLOCK) == -1)
		return -1;
	return wake_fds[0];
}

/* Async-signal-safe. */
void
wake_signal(void)
{
	int e = errno;

	if (wake_fds[1] != -1)
		(void)!write(wake_fds[1], "", 1);
	errno = e;
}

void
wake_drain(void)
{
	char buf[64];

	if (wake_fds[0] != -1)
		while (read(wake_fds[0], buf, sizeof(buf)) > 0)
			;
}

int64_t
mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/*
 * Reads a whole regular file of at most limit bytes, NUL-terminated, so a
 * huge or special file is refused before it is read.
 */
int
read_file_limited(const char *path, size_t limit, char **out, size_t *len,
    char *errbuf, size_t errlen)
{
	struct stat st;
	char *buf = NULL;
	size_t got = 0;
	ssize_t n;
	int fd;

	/* O_NONBLOCK: a FIFO is refused below instead of waited on */
	if ((fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY)) ==
	    -1) {
		snprintf(errbuf, errlen, "%s: %s", path, strerror(errno));
		return -1;
	}
	if (fstat(fd, &st) == -1 || !S_ISREG(st.st_mode)) {
		snprintf(errbuf, errlen, "%s: not a regular file", path);
		goto fail;
	}
	if ((size_t)st.st_size > limit) {
		snprintf(errbuf, errlen,
		    "%s: file is %lld bytes, the limit is %zu bytes", path,
		    (long long)st.st_size, limit);
		goto fail;
	}
	buf = xmalloc(limit + 1);
	while (got < limit && (n = read(fd, buf + got, limit - got)) != 0) {
		if (n == -1) {
			if (errno == EINTR)
				continue;
			snprintf(errbuf, errlen, "%s: %s", path,
			    strerror(errno));
			goto fail;
		}
		got += (size_t)n;
	}
	buf[got] = '\0';
	close(fd);
	*out = buf;
	*len = got;
	return 0;
fail:
	free(buf);
	close(fd);
	return -1;
}

/*
 * Creates a directory (and its parents) readable by its owner only. One
 * that exists already is used only when it is private: it is never
 * chmod-ed, which made /tmp 0700 when it was named as a run directory.
 */
int
mkdir_private(const char *path, char *errbuf, size_t errlen)
{
	char tmp[4096];
	struct stat st;
	size_t i;

	if (ns_strlcpy(tmp, path, sizeof(tmp)) >= sizeof(tmp)) {
		snprintf(errbuf, errlen, "%s: path too long", path);
		return -1;
	}
	for (i = 1; tmp[i] != '\0'; i++) {
		if (tmp[i] != '/')
			continue;
		tmp[i] = '\0';
		if (mkdir(tmp, 0755) == -1 && errno != EEXIST) {
			snprintf(errbuf, errlen, "mkdir %s: %s", tmp,
			    strerror(errno));
			return -1;
		}
		tmp[i] = '/';
	}
	if (mkdir(tmp, 0700) == -1 && errno != EEXIST) {
		snprintf(errbuf, errlen, "mkdir %s: %s", tmp, strerror(errno));
		return -1;
	}
	if (stat(tmp, &st) == -1 || !S_ISDIR(st.st_mode)) {
		snprintf(errbuf, errlen, "%s: not a directory", tmp);
		return -1;
	}
	if ((st.st_mode & 077) != 0) {
		snprintf(errbuf, errlen, "%s is open to group or others "
		    "(mode %03o): use a directory of its own, or chmod 700 it",
		    tmp, (unsigned)(st.st_mode & 0777));
		return -1;
	}
	return 0;
}

/*
 * The length of the valid UTF-8 sequence at s (at most len bytes), or 0:
 * no overlong forms, no surrogates, nothing past U+10FFFF (RFC 3629).
 */
size_t
utf8_seq(const char *str, size_t len)
{
	const unsigned char *s = (const unsigned char *)str;
	size_t n, i;
	uint32_t cp;

	if (s[0] < 0x80)
		return 1;
	if (s[0] >= 0xc2 && s[0] <= 0xdf)
		n = 2, cp = s[0] & 0x1f;
	else if (s[0] >= 0xe0 && s[0] <= 0xef)
		n = 3, cp = s[0] & 0x0f;
	else if (s[0] >= 0xf0 && s[0] <= 0xf4)
		n = 4, cp = s[0] & 0x07;
	else
		return 0;
	if (len < n)
		return 0;
	for (i = 1; i < n; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		cp = cp << 6 | (s[i] & 0x3f);
	}
	if ((n == 3 && cp < 0x800) || (n == 4 && cp < 0x10000) ||
	    (cp >= 0xd800 && cp <= 0xdfff) || cp > 0x10ffff)
		return 0;
	return n;
}

/*
 * Is s (len bytes) UTF-8? Every string on the bus is a proto3 string,
 * which a protobuf reader refuses unless it is. *bad: the offset of the
 * first byte that is not.
 */
int
utf8_valid(const char *s, size_t len, size_t *bad)
{
	size_t i = 0, n;

	while (i < len) {
		if ((n = utf8_seq(s + i, len - i)) == 0) {
			if (bad)
				*bad = i;
			return 0;
		}
		i += n;
	}
	return 1;
}

/* s with every byte of no valid UTF-8 sequence replaced by '?', in place. */
void
utf8_scrub(char *s)
{
	size_t len = strlen(s), i = 0, n;

	while (i < len) {
		if ((n = utf8_seq(s + i, len - i)) == 0) {
			s[i++] = '?';
			continue;
		}
		i += n;
	}
}

/*
 * The longest prefix of s (len bytes of UTF-8) of at most max bytes that
 * ends at a character's end: a fixed-size field cut there stays UTF-8.
 */
size_t
utf8_cut(const char *s, size_t len, size_t max)
{
	size_t i = 0, n;

	while (i < len && (n = utf8_seq(s + i, len - i)) != 0 && i + n <= max)
		i += n;
	return i;
}
