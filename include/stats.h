/* stats.h: building and publishing Stats messages (counters with labels). */
#ifndef NS_STATS_H
#define NS_STATS_H

#include <stddef.h>
#include <stdint.h>

#include "netstream.pb-c.h"

#define STATS_LABELS_MAX 6
/*
 * What a stats XPUB receives at most: the subscriptions the proxy passes
 * on ("\1stats.exportd.0", ...) and, with the proxy on tcp://, the CURVE
 * handshake, which ZMQ_MAXMSGSIZE bounds too (WELCOME 168 bytes, READY
 * and INITIATE past 256 with their metadata): a limit below it makes zmq
 * close the connection at every try (issue 25).
 */
#define STATS_XPUB_MAX 2048u

/* stats.c */
void stats_begin(Netstream__Stats *s, const char *process, unsigned slot,
    uint64_t generation);
void stats_add(Netstream__Stats *s, const char *name, uint64_t value,
    const char *k1, const char *v1, const char *k2, const char *v2);
void stats_label(Netstream__Stats *s, const char *k, const char *v);
int stats_publish(void *sock, Netstream__Stats *s);
void stats_clear(Netstream__Stats *s);
uint64_t stats_get(const Netstream__Stats *s, const char *name,
    const char *k1, const char *v1);
void *xpub_socket(void *ctx, size_t maxmsg);
void *stats_socket(void *ctx);
int xpub_joined(void *xpub);

#endif
