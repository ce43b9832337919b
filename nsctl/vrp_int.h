/*
 * vrp_int.h: what the importer's files share: the views a line is read
 * in, one command as parsed (struct cmd), and the parse state.
 */
#ifndef NSCTL_VRP_INT_H
#define NSCTL_VRP_INT_H

#include "conf.h"
#include "vrp.h"

/* views, as bits: a command names the views it is allowed in */
enum {
	V_USER = 1,
	V_SYS = 2,
	V_SLOT = 4,
	V_IF = 8,
	V_MON = 16,
	V_REC = 32,
	V_BAD = 64, /* after a view command that failed: skip to # or quit */
};
#define V_CFG (V_SYS | V_SLOT | V_IF | V_MON | V_REC)
#define V_HOSTS (V_SYS | V_SLOT | V_MON)

enum cmd_kind {
	K_SLOT = 1,
	K_IFACE,
	K_MONITOR,
	K_RECORD,
	K_VERSION,
	K_SOURCE,
	K_HOST,
	K_TEMPLATE,
	K_APPLY,
	K_ACTIVE,
	K_INACTIVE,
	K_SAMPLER,
	K_NETSTREAM,
	K_BIND,
	K_SEQMODE,
	K_MON_APPLY,
	K_MATCH,
	K_COLLECT,
	K_EXT,
	K_N
};

/* `# netstreamd: KEY VALUE`: what has no vendor command */
enum ext_key {
	X_RUN_DIR,
	X_DATABASE,
	X_STATS,
	X_ROUTES,
	X_CACHE_ENTRIES,
	X_CACHE_FULL,
	X_REFRESH,
	X_OPTIONS,
	X_MTU,
	X_COMPAT,
	X_WIDTH,
	X_ENDPOINT,
	X_CURVE_DIR,
	X_PACE,
	X_WORKERS,
	X_DEVICE,
	X_FILE,
	X_REPLAY,
	X_FILE_DIR,
	X_IFINDEX,
	X_BUFFER,
	X_SLOT,
	X_DESC,
	X_HOST_TCP,
	X_HOST_FILE,
	X_SERVER_KEY,
	X_REMOTE,
	X_SLOT_ENDPOINT,
	X_N
};

struct cmd {
	int kind, undo;
	int ext;   /* enum ext_key, for K_EXT */
	int dir;   /* 0 inbound, 1 outbound */
	int mode;  /* sampler mode; version: 1 ipfix */
	int as, bgp;
	int has_value;
	unsigned value;
	char name[CONF_NAME_MAX + 1];
	char text[CONF_PATH_MAX];
	struct conf_host host;
	struct conf_source src;
	int fam; /* CONF_IPV4, CONF_IPV6, -1: both (undo) */
	const struct vrp_field *field;
};

#define VRP_MAX_TOKENS 32

struct imp {
	struct conf *c;
	struct diags *d;
	int *lines; /* [CW_N] */
	int view, cur, line;
	char *tok[VRP_MAX_TOKENS];
	int n, i;
	unsigned mask; /* the views this parse accepts */
	char err[1024];
	int failed;
	int ext; /* a # netstreamd: line */
};

/* vrp_import.c */
int vrp_perr(struct imp *im, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
int vrp_view_error(struct imp *im, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* vrp_parse.c */
int vrp_parse_cmd(struct imp *im, struct cmd *cmd);
int vrp_parse_ext(struct imp *im, struct cmd *cmd);
extern const unsigned vrp_kind_views[K_N];
unsigned vrp_cmd_views(const struct cmd *cmd);

#define VRP_NO_SLOT 0xffffffffu

/* vrp_ext.c */
int vrp_apply_ext(struct imp *im, const struct cmd *cmd);
void vrp_hosts_version(const struct conf *c, struct conf_view_export *ex);

/* vrp_apply.c */
int vrp_apply(struct imp *im, const struct cmd *cmd);
void vrp_finish(struct imp *im);
struct conf_view_export *vrp_view_ex(struct imp *im);
int vrp_find_host(const struct conf_view_export *ex, const char *addr,
    unsigned port);

#endif
