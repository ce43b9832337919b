/* pcapfile.h: a capture file opened for libpcap through a big stdio buffer. */
#ifndef NS_PCAPFILE_H
#define NS_PCAPFILE_H

#include <pcap/pcap.h>
#include <stddef.h>

#define PCAPFILE_BUF (1 << 20)

/* pcapfile.c */
pcap_t *pcapfile_open(const char *path, char *buf, size_t len, char *ebuf);

#endif
