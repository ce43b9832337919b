/*
 * validate.h: what the validator's files share: the getters that read one
 * setting (cfg_get.c), the parts of validate.c that validate_if.c uses and
 * the interfaces list (validate_if.c). Internal to the config compiler;
 * the rest of the tree sees conf.h.
 */
#ifndef CONF_VALIDATE_H
#define CONF_VALIDATE_H

#include <libconfig.h>
#include <stddef.h>
#include <stdint.h>

#include "conf.h"

/* the line of a setting, as every diagnostic names it */
#define LINE(s) ((int)config_setting_source_line(s))

/* cfg_get.c */
void check_known(config_setting_t *g, const char *where,
    const char *const *allowed, struct diags *d);
config_setting_t *get_member(config_setting_t *g, const char *name);
int get_uint_l(config_setting_t *g, const char *name, const char *label,
    long long min, long long max, unsigned *out, struct diags *d);
int get_uint(config_setting_t *g, const char *name, long long min,
    long long max, unsigned *out, struct diags *d);
int get_bool(config_setting_t *g, const char *name, int *out,
    struct diags *d);
int get_str(config_setting_t *g, const char *name, char *out, size_t max,
    struct diags *d);
int get_enum(config_setting_t *g, const char *name,
    const char *const *allowed, int *out, struct diags *d);
config_setting_t *get_group(config_setting_t *parent, const char *name,
    struct diags *d);
config_setting_t *get_list(config_setting_t *parent, const char *name,
    int arrays, struct diags *d);
void resolve_path(const char *cwd, const char *in, char *out, size_t len);

struct keyidx {
	size_t cap;
	struct keyidx_slot {
		uint64_t h, num;
		const char *s;
		int idx, used;
	} *v;
};
void keyidx_init(struct keyidx *k, size_t n);
void keyidx_free(struct keyidx *k);
int keyidx_str(struct keyidx *k, const char *s, int idx);
int keyidx_num(struct keyidx *k, uint64_t num, int idx);
int keyidx_find(const struct keyidx *k, const char *s);

/* validate.c */
extern const char *const direction_names[3]; /* "inbound", "outbound" */
void parse_sampler(config_setting_t *g, struct conf_sampler out[2],
    struct diags *d);

/* plan.c */
void not_effective(Netstream__Plan *p, struct diags *d, int line,
    const char *item, const char *reason);

/* sources.c */
const struct conf_source *conf_host_source(const struct conf *c,
    const struct conf_host *h, const struct conf_view_export *ex);
void plan_check_sources(Netstream__Plan *p, const struct conf *c,
    struct diags *d);

/* validate_if.c */
void parse_interfaces(config_setting_t *root, const char *cwd,
    struct conf *c, struct diags *d);

#endif
