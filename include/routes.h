/* routes.h: the routes table (etc/routes.txt): prefix -> next hops and ASes. */
#ifndef NS_ROUTES_H
#define NS_ROUTES_H

#include <stddef.h>
#include <stdint.h>

struct route {
	uint8_t prefix[16];
	uint8_t len; /* prefix length 0..128 */
	uint8_t next_hop[16];
	uint8_t bgp_next_hop[16];
	uint32_t origin_as;
	uint32_t peer_as;
	uint32_t line; /* in the routes file */
};

struct routes {
	struct route *v; /* sorted by prefix length, longest first */
	size_t n;
	uint8_t digest[32]; /* SHA-256 of the file's bytes as they were read */
};

/* routes.c */
int routes_load(const char *path, struct routes *rt, char *errbuf,
    size_t errlen);
int routes_digest(const char *path, uint8_t out[32], size_t *count,
    char *errbuf, size_t errlen);
void routes_free(struct routes *rt);
const struct route *routes_lookup(const struct routes *rt,
    const uint8_t addr[16]);

#endif
