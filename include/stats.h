/* stats.h: building and publishing Stats messages (counters with labels). */
#ifndef NS_STATS_H
#define NS_STATS_H

#include <stdint.h>

#include "netstream.pb-c.h"

#define STATS_LABELS_MAX 6

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
void *stats_socket(void *ctx);
int xpub_joined(void *xpub);

#endif
