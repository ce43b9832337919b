/*
 * routes.c: loads the routes table that fills the mask, next hop and AS
 * fields, and answers longest-prefix matches on IPv6 addresses.
 *
 * File format (one route per line, # starts a comment):
 *   PREFIX/LEN  NEXT_HOP  [BGP_NEXT_HOP  [ORIGIN_AS  [PEER_AS]]]
 * with "-" for an unknown next hop.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "routes.h"
#include "sha256.h"
#include "util.h"

#define ROUTES_MAX_BYTES (64u << 20)

static int
parse_addr(const char *s, uint8_t out[16])
{
	if (strcmp(s, "-") == 0) {
		memset(out, 0, 16);
		return 0;
	}
	return inet_pton(AF_INET6, s, out) == 1 ? 0 : -1;
}

static int
parse_as(const char *s, uint32_t *out)
{
	char *end;
	unsigned long v;

	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno || *end != '\0' || v > 0xffffffffUL || s[0] == '-')
		return -1;
	*out = (uint32_t)v;
	return 0;
}

static int
parse_line(char *line, struct route *r, char *err, size_t errlen)
{
	char *tok[6], *save = NULL, *slash;
	int n = 0;
	long len;

	for (char *t = strtok_r(line, " \t\r", &save); t != NULL && n < 6;
	    t = strtok_r(NULL, " \t\r", &save))
		tok[n++] = t;
	if (n == 0)
		return 1;
	if (n < 2 || n > 5) {
		snprintf(err, errlen,
		    "want PREFIX/LEN NEXT_HOP [BGP_NEXT_HOP [ORIGIN_AS "
		    "[PEER_AS]]]");
		return -1;
	}
	memset(r, 0, sizeof(*r));
	if ((slash = strchr(tok[0], '/')) == NULL) {
		snprintf(err, errlen, "prefix %s has no /LEN", tok[0]);
		return -1;
	}
	*slash++ = '\0';
	len = strtol(slash, NULL, 10);
	if (inet_pton(AF_INET6, tok[0], r->prefix) != 1 || len < 0 ||
	    len > 128) {
		snprintf(err, errlen, "bad IPv6 prefix %s/%s", tok[0], slash);
		return -1;
	}
	r->len = (uint8_t)len;
	for (int i = r->len; i < 128; i++)
		r->prefix[i / 8] &= (uint8_t) ~(0x80 >> (i % 8));
	if (parse_addr(tok[1], r->next_hop) == -1 ||
	    (n > 2 && parse_addr(tok[2], r->bgp_next_hop) == -1)) {
		snprintf(err, errlen, "bad IPv6 next hop");
		return -1;
	}
	if ((n > 3 && parse_as(tok[3], &r->origin_as) == -1) ||
	    (n > 4 && parse_as(tok[4], &r->peer_as) == -1)) {
		snprintf(err, errlen, "bad AS number (0..4294967295)");
		return -1;
	}
	return 0;
}

static int
route_cmp(const void *a, const void *b)
{
	const struct route *x = a, *y = b;

	if (x->len != y->len)
		return (int)y->len - (int)x->len;
	return memcmp(x->prefix, y->prefix, 16);
}

int
routes_load(const char *path, struct routes *rt, char *errbuf, size_t errlen)
{
	char *text, *line, err[128];
	size_t len, cap = 0;
	int lineno = 0;

	memset(rt, 0, sizeof(*rt));
	if (read_file_limited(path, ROUTES_MAX_BYTES, &text, &len, errbuf,
	    errlen) == -1)
		return -1;
	/* what is parsed below is what the digest covers */
	sha256(text, len, rt->digest);
	for (char *p = text; p != NULL && *p != '\0';) {
		struct route r;
		char *hash, *nl;
		int rc;

		line = p;
		if ((nl = strchr(p, '\n')) != NULL) {
			*nl = '\0';
			p = nl + 1;
		} else
			p = NULL;
		lineno++;
		if ((hash = strchr(line, '#')) != NULL)
			*hash = '\0';
		if ((rc = parse_line(line, &r, err, sizeof(err))) == 1)
			continue;
		if (rc == -1) {
			snprintf(errbuf, errlen, "%s:%d: %s", path, lineno,
			    err);
			free(text);
			routes_free(rt);
			return -1;
		}
		if (rt->n == cap) {
			cap = cap ? cap * 2 : 64;
			rt->v = xrealloc(rt->v, cap * sizeof(*rt->v));
		}
		r.line = (uint32_t)lineno;
		rt->v[rt->n++] = r;
	}
	free(text);
	if (rt->n > 1)
		qsort(rt->v, rt->n, sizeof(*rt->v), route_cmp);
	return 0;
}

/*
 * The digest of a routes file that loads (cfgd puts it in the plan, so
 * sampled can tell the file it reads is the one that was validated), and
 * its number of routes.
 */
int
routes_digest(const char *path, uint8_t out[32], size_t *count, char *errbuf,
    size_t errlen)
{
	struct routes rt;

	if (routes_load(path, &rt, errbuf, errlen) == -1)
		return -1;
	memcpy(out, rt.digest, sizeof(rt.digest));
	*count = rt.n;
	routes_free(&rt);
	return 0;
}

void
routes_free(struct routes *rt)
{
	free(rt->v);
	rt->v = NULL;
	rt->n = 0;
}

static int
prefix_match(const uint8_t *a, const uint8_t *p, unsigned len)
{
	unsigned bytes = len / 8, bits = len % 8;

	if (memcmp(a, p, bytes) != 0)
		return 0;
	if (bits == 0)
		return 1;
	return ((a[bytes] ^ p[bytes]) & (uint8_t)(0xff << (8 - bits))) == 0;
}

/*
 * Longest prefix match. Routes are sorted longest first, so the first
 * match wins; sampled caches the answer per flow, not per packet.
 */
const struct route *
routes_lookup(const struct routes *rt, const uint8_t addr[16])
{
	size_t i;

	for (i = 0; i < rt->n; i++)
		if (prefix_match(addr, rt->v[i].prefix, rt->v[i].len))
			return &rt->v[i];
	return NULL;
}
