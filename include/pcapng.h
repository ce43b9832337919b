/*
 * pcapng.h: the per-packet direction flags of a pcapng file, which
 * libpcap does not expose: a second, bounded walk of the file's blocks
 * beside libpcap's, one packet block per packet libpcap returns.
 */
#ifndef NS_PCAPNG_H
#define NS_PCAPNG_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/* what pcapng_flags_next says of a packet (epb_flags bits 0-1) */
#define PCAPNG_DIR_NONE 0 /* no flags, or "not available" */
#define PCAPNG_DIR_IN 1
#define PCAPNG_DIR_OUT 2

/* a block past this is not read (libpcap's own limit is 16 MiB too) */
#define PCAPNG_MAX_BLOCK (16u << 20)

struct pcapng_flags {
	FILE *f;
	char *iobuf;	/* f's stdio buffer, when we opened f */
	int swap;	/* the section is of the other byte order */
	int lost;	/* the walk cannot go on: no more flags */
	uint8_t *blk;	/* the body of the last packet block */
	size_t blk_cap;
	/* counters */
	uint64_t packets;   /* packet blocks walked */
	uint64_t flagged[3]; /* by PCAPNG_DIR_* */
	uint64_t malformed; /* blocks (or their options) skipped as bad */
};

/* pcapng.c */
int pcapng_is_pcapng(const char *path);
int pcapng_flags_open(struct pcapng_flags *r, const char *path, char *err,
    size_t errlen);
void pcapng_flags_fopen(struct pcapng_flags *r, FILE *f);
int pcapng_flags_next(struct pcapng_flags *r);
void pcapng_flags_close(struct pcapng_flags *r);

#endif
