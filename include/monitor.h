/* monitor.h: what the tcp:// bus sockets live through (socket monitor). */
#ifndef NS_MONITOR_H
#define NS_MONITOR_H

#include "netstream.pb-c.h"

/* monitor.c */
void monitor_enable(void);
void monitor_start(void *sock, const char *endpoint, int server);
void monitor_retry(void);
void monitor_stats(Netstream__Stats *s);

#endif
