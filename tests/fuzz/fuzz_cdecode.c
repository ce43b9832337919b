/*
 * fuzz_cdecode.c: bytes as one UDP payload to `nsctl collect`'s v9/IPFIX
 * decoder. Each input gets a fresh decoder state (state kept across inputs
 * would make a crash depend on inputs before it) and is fed twice, so the
 * templates it defines are used by its own data sets the second time.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cdecode.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct span {
	const uint8_t *p;
	size_t len;
	unsigned records;
};

/* every value must lie inside the packet; reading it lets ASan check */
static void
on_record(const struct cdecode_rec *rec, void *arg)
{
	struct span *sp = arg;
	volatile uint8_t sink = 0;

	if (rec->version != 9 && rec->version != 10)
		abort();
	if (rec->n_fields == 0 || rec->n_fields > CDECODE_MAX_FIELDS)
		abort();
	for (unsigned i = 0; i < rec->n_fields; i++) {
		const struct cdecode_field *f = &rec->f[i];

		if (f->len > 0 && (f->val < sp->p ||
		    f->val + f->len > sp->p + sp->len))
			abort();
		for (unsigned j = 0; j < f->len; j++)
			sink ^= f->val[j];
	}
	(void)sink;
	sp->records++;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct sockaddr_storage from;
	struct sockaddr_in *sin = (struct sockaddr_in *)&from;
	struct cdecode st;
	struct span sp;
	uint8_t *pkt;
	int rc;

	memset(&from, 0, sizeof(from));
	sin->sin_family = AF_INET;
	sin->sin_port = htons(2055);
	sin->sin_addr.s_addr = htonl(0xc0000201); /* 192.0.2.1 */
	/* exactly size bytes, so ASan sees a read past the datagram */
	pkt = malloc(size ? size : 1);
	if (pkt == NULL)
		return 0;
	memcpy(pkt, data, size);
	sp.p = pkt;
	sp.len = size;
	sp.records = 0;
	/* v9 sequence by packets or by flows: both paths, by input length */
	cdecode_init(&st, size & 1 ? CDECODE_V9_FLOW_SEQ : 0);
	for (int pass = 0; pass < 2; pass++) {
		rc = cdecode_packet(&st, &from, pkt, size, on_record, &sp);
		if (rc < 0 || rc >= CD_NREASONS)
			abort();
		(void)cdecode_reason_name(rc);
	}
	if (st.n_src > 1) /* one exporter, one version, one domain */
		abort();
	cdecode_free(&st);
	free(pkt);
	return 0;
}
