/*
 * conf.h: the config file as cfgd understands it (struct conf), the
 * diagnostics it reports (file:line), and the compile to an effective plan.
 */
#ifndef NS_CONF_H
#define NS_CONF_H

#include <stdint.h>

#include "bus.h"
#include "curve.h"
#include "netstream.pb-c.h"
#include "util.h"

#define CONF_MAX_HOSTS 8
#define CONF_MAX_RECORDS 15
#define CONF_MAX_FIELDS 32
#define CONF_NAME_MAX 32
#define CONF_ADDR_MAX 64
#define CONF_PATH_MAX 1024
#define CONF_SLOT_MAX 255 /* slot ids 0..255: one sampled each */
#define CONF_WORKERS_MAX 64 /* capture threads of a slot */

struct keyidx;

/*
 * A warning names something of this machine the config relies on and that
 * is not there (a VPN instance, a source address): the commit goes ahead,
 * as the device or address may come later (conf/hostcheck.c).
 */
enum diag_kind { DIAG_ERROR, DIAG_WARNING, DIAG_NOT_EFFECTIVE, DIAG_NOTICE };

struct diag {
	enum diag_kind kind;
	int line;
	char *text;
};

struct diags {
	char file[CONF_PATH_MAX];
	struct diag *v;
	size_t n, cap;
	int errors;
};

struct conf_host {
	char address[CONF_ADDR_MAX];
	unsigned port;
	int ipfix; /* version = "ipfix" */
	unsigned dscp;
	char vpn[CONF_NAME_MAX + 1];
	int vpn_line;
	unsigned pace_pps; /* export packets a second to this host */
	int tcp;	   /* transport = "tcp" (IPFIX only) */
	char file[CONF_PATH_MAX]; /* a file host: IPFIX written there */
	int line;
};

/* address families, as the index of a view's sources */
enum { CONF_IPV4, CONF_IPV6, CONF_FAMILIES };

/*
 * One export source (`ipv6 netstream export source [ipv6] ADDRESS [PORT]`).
 * A view has at most one per address family: each host leaves from the
 * source of its own family.
 */
struct conf_source {
	char address[CONF_ADDR_MAX]; /* "": none of this family */
	unsigned port;               /* 0: the kernel picks */
	int line;
};

struct conf_view_export {
	struct conf_source source[CONF_FAMILIES]; /* [CONF_IPV4], [CONF_IPV6] */
	struct conf_host hosts[CONF_MAX_HOSTS];
	int n_hosts;
};

struct conf_sampler {
	int mode; /* Netstream__SamplerMode */
	unsigned value;
	int line;
};

struct conf_record {
	char name[CONF_NAME_MAX + 1];
	unsigned match[CONF_MAX_FIELDS];
	int n_match;
	unsigned collect[CONF_MAX_FIELDS];
	int n_collect;
	int line;
	int used;
};

struct conf_monitor {
	char name[CONF_NAME_MAX + 1];
	char record[CONF_NAME_MAX + 1]; /* empty: none */
	int record_line;
	struct conf_view_export ex;
	int line;
};

struct conf_slot {
	unsigned id;
	int sequence_flow;
	unsigned workers;	/* live capture threads, 1..CONF_WORKERS_MAX */
	int workers_line;
	struct conf_view_export ex;
	int line;
	/* a slot on another host (docs/multihost.md): `nsctl up` starts
	 * none; its query socket and the public key its host binds it with */
	int remote;
	char endpoint[BUS_ENDPOINT_MAX];
	char server_key[CURVE_Z85_LEN + 1];
};

struct conf_bind {
	char monitor[CONF_NAME_MAX + 1];
	int dir;
	int line;
};

#define CONF_DESC_MAX 255 /* an interface description, bytes */

struct conf_iface {
	char name[64];
	char description[CONF_DESC_MAX + 1]; /* IPFIX 83; empty: none */
	unsigned slot;
	unsigned ifindex;
	char device[64];
	char file[CONF_PATH_MAX];
	int realtime;
	int file_dir;
	int netstream[2];
	unsigned buffer_kb;
	struct conf_bind binds[2];
	int n_binds;
	struct conf_sampler sampler[2];
	int line;
	int device_line; /* of `device`, 0: none */
};

struct conf {
	char run_dir[256];
	char database[CONF_PATH_MAX];
	/* system view */
	int version_ipfix;
	int export_as; /* 0 none, 1 origin, 2 peer */
	int bgp_nexthop;
	int compat_extended;
	struct conf_view_export sys;
	unsigned template_timeout;
	unsigned template_refresh_packets;
	unsigned options_timeout;
	unsigned mtu;
	int interface_32bit;
	char apply_record[CONF_NAME_MAX + 1];
	int apply_line;
	unsigned active_seconds;
	unsigned inactive_seconds;
	struct conf_sampler sampler[2];
	/* lists */
	struct conf_record *records;
	int n_records;
	struct conf_monitor *monitors;
	int n_monitors;
	struct keyidx *monitor_idx; /* name -> first index, for lookups */
	struct conf_slot *slots;
	int n_slots;
	struct conf_iface *ifaces;
	int n_ifaces;
	char routes_file[CONF_PATH_MAX];
	int routes_line;
	unsigned cache_entries;
	int cache_drop_new;
	unsigned stats_interval_ms;
	/* endpoints = { ... }: kept so a config can be written back whole */
	char endpoints[BUS_N_ENDPOINTS][BUS_ENDPOINT_MAX];
	char curve_dir[CONF_PATH_MAX];
	char server_key[CURVE_Z85_LEN + 1]; /* of cfgd's and exportd's host */
};

/* parse.c */
void diags_init(struct diags *d, const char *file);
void diags_free(struct diags *d);
void diag_add(struct diags *d, enum diag_kind kind, int line,
    const char *fmt, ...) __attribute__((format(printf, 4, 5)));
void diags_render(struct diags *d, struct sbuf *out);
int conf_load_text(const char *text, size_t len, const char *cwd,
    struct conf *c, struct diags *d);
int conf_load_file(const char *path, struct conf *c, struct diags *d);
void conf_free(struct conf *c);
int conf_bootstrap(const char *path, char *run_dir, size_t rlen,
    char *database, size_t dlen, char *curve_dir, size_t clen);
const char *conf_daemon_run_dir(const char *path, const char *rflag,
    char *run_dir, size_t rlen);

/* validate.c */
struct config_t;
int conf_from_config(struct config_t *cfg, const char *cwd, struct conf *c,
    struct diags *d);
int conf_family(const char *address); /* CONF_IPV4, CONF_IPV6 or -1 */
int conf_has_source(const struct conf_view_export *ex);
int conf_find_record(const struct conf *c, const char *name); /* or -1 */
void conf_defaults(struct conf *c);

/* validate_if.c */
int conf_slot_of_name(const char *name, unsigned *slot);

/* write.c: struct conf back to libconfig text; map[i]: the line that set
 * output line i + 1 (what conf_write_lines gives, or the item's own line) */
enum { CW_VERSION, CW_TEMPLATE, CW_ACTIVE, CW_INACTIVE, CW_MISC, CW_N };
void conf_write(const struct conf *c, const int *lines, struct sbuf *out,
    int **map, size_t *n_map);
void conf_write_string(struct sbuf *out, const char *s);

/* plan.c */
Netstream__Plan *plan_compile(const struct conf *c, struct diags *d);
char *pstrdup(const char *s);

/* hostcheck.c */
void conf_host_checks(const struct conf *c, struct diags *d);

#endif
