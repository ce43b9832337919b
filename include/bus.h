/* bus.h: the ZeroMQ bus: endpoints, and checked send/receive of Envelopes. */
#ifndef NS_BUS_H
#define NS_BUS_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "netstream.pb-c.h"

#define PROTO_VERSION 1
#define BUS_ENDPOINT_MAX 512
#define BUS_MAX_CONTROL (4u << 20) /* a 1 MiB config plus its plan */
#define PLAN_MAX_BYTES (BUS_MAX_CONTROL - 65536u) /* the validator's limit */
#define BUS_MAX_FLOWS (8u << 20)
#define BUS_MAX_STATS (1u << 20)
#define CONFIG_MAX_BYTES (1u << 20)
#define DEFAULT_RUN_DIR "/run/netstreamd"

struct bus_endpoints {
	char run_dir[256];
	char control[BUS_ENDPOINT_MAX];  /* cfgd REP */
	char plan[BUS_ENDPOINT_MAX];     /* cfgd PUB */
	char flows[BUS_ENDPOINT_MAX];    /* exportd PULL */
	char acks[BUS_ENDPOINT_MAX];     /* exportd PUB of FlowAcks */
	char stats_in[BUS_ENDPOINT_MAX]; /* proxy XSUB, processes PUB here */
	char stats[BUS_ENDPOINT_MAX];    /* proxy XPUB, users SUB here */
};

/* The endpoints of the bus: config key, ipc name in RUN_DIR, variable. */
struct bus_endpoint_name {
	const char *key;  /* in the config's endpoints group */
	const char *file; /* ipc://RUN_DIR/file by default */
	const char *env;  /* NETSTREAMD_<NAME>_ENDPOINT, which wins */
	size_t off;	  /* in struct bus_endpoints */
};
#define BUS_N_ENDPOINTS 6
extern const struct bus_endpoint_name bus_endpoint_names[BUS_N_ENDPOINTS];

/* Why a received message was refused (counted per reason). */
enum bus_err {
	BUS_OK = 0,
	BUS_AGAIN = 1,
	BUS_TOO_BIG,
	BUS_DECODE,
	BUS_VERSION,
	BUS_EMPTY,
	BUS_FRAMES,
	BUS_ERR_MAX
};

/* bus.c */
const char *bus_run_dir(const char *flag);
void bus_endpoints_init(struct bus_endpoints *ep, const char *run_dir);
void bus_slot_endpoint(const struct bus_endpoints *ep, unsigned slot,
    char *buf, size_t len);
void bus_trust_uid(uid_t uid);
int bus_check_run_dir(const char *dir, char *errbuf, size_t errlen);
int bus_check_ipc(const char *endpoint, char *errbuf, size_t errlen);
int bus_prepare_run_dir(const struct bus_endpoints *ep, char *errbuf,
    size_t errlen);
void *bus_socket(void *ctx, int type, size_t maxmsg);
void *bus_socket_ctx(void *sock);
int bus_bind(void *sock, const char *endpoint);
int bus_connect(void *sock, const char *endpoint);
int bus_connect_slot(void *sock, const char *endpoint, unsigned slot);
int bus_send(void *sock, const char *topic, Netstream__Envelope *env,
    int flags);
uint8_t *bus_pack(Netstream__Envelope *env, size_t *len);
enum bus_err bus_check(const uint8_t *p, size_t len, size_t limit,
    Netstream__Envelope **out);
enum bus_err bus_recv(void *sock, size_t limit, int has_topic, int flags,
    Netstream__Envelope **out);
const char *bus_err_name(enum bus_err e);
void bus_free(Netstream__Envelope *env);

#endif
