/* sha256.h: SHA-256 (FIPS 180-4), for digests of files a plan refers to. */
#ifndef NS_SHA256_H
#define NS_SHA256_H

#include <stddef.h>
#include <stdint.h>

#define SHA256_LEN 32

/* sha256.c */
void sha256(const void *data, size_t len, uint8_t out[SHA256_LEN]);

#endif
