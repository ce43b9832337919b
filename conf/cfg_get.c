/*
 * cfg_get.c: reads one setting of a libconfig group for the validator:
 * checks its type (and range), names its line when it is wrong, and
 * resolves relative file names.
 */
#include <libconfig.h>
#include <stdlib.h>
#include <string.h>

#include "conf.h"
#include "util.h"
#include "validate.h"

/* Reports settings a group does not know, with what it allows. */
void
check_known(config_setting_t *g, const char *where, const char *const *allowed,
    struct diags *d)
{
	char list[512];
	int i, j, n = config_setting_length(g);

	list[0] = '\0';
	for (j = 0; allowed[j] != NULL; j++) {
		if (j > 0)
			strncat(list, ", ", sizeof(list) - strlen(list) - 1);
		strncat(list, allowed[j], sizeof(list) - strlen(list) - 1);
	}
	for (i = 0; i < n; i++) {
		config_setting_t *s = config_setting_get_elem(g, i);
		const char *name = config_setting_name(s);

		for (j = 0; allowed[j] != NULL; j++)
			if (name != NULL && strcmp(name, allowed[j]) == 0)
				break;
		if (allowed[j] == NULL)
			diag_add(d, DIAG_ERROR, LINE(s),
			    "unknown setting '%s' in %s (allowed: %s)",
			    name ? name : "?", where, list);
	}
}

config_setting_t *
get_member(config_setting_t *g, const char *name)
{
	return g == NULL ? NULL : config_setting_get_member(g, name);
}

/*
 * An integer setting in [min, max]; absent keeps *out. 1 when present.
 * label names it in messages ("inbound sampler value").
 */
int
get_uint_l(config_setting_t *g, const char *name, const char *label,
    long long min, long long max, unsigned *out, struct diags *d)
{
	config_setting_t *s = get_member(g, name);
	long long v;

	if (s == NULL)
		return 0;
	if (config_setting_type(s) != CONFIG_TYPE_INT &&
	    config_setting_type(s) != CONFIG_TYPE_INT64) {
		diag_add(d, DIAG_ERROR, LINE(s),
		    "%s must be an integer in %lld..%lld", label, min, max);
		return -1;
	}
	v = config_setting_get_int64(s);
	if (v < min || v > max) {
		diag_add(d, DIAG_ERROR, LINE(s),
		    "%s %lld out of range %lld..%lld", label, v, min, max);
		return -1;
	}
	*out = (unsigned)v;
	return 1;
}

int
get_uint(config_setting_t *g, const char *name, long long min, long long max,
    unsigned *out, struct diags *d)
{
	return get_uint_l(g, name, name, min, max, out, d);
}

int
get_bool(config_setting_t *g, const char *name, int *out, struct diags *d)
{
	config_setting_t *s = get_member(g, name);

	if (s == NULL)
		return 0;
	if (config_setting_type(s) != CONFIG_TYPE_BOOL) {
		diag_add(d, DIAG_ERROR, LINE(s),
		    "%s must be true or false", name);
		return -1;
	}
	*out = config_setting_get_bool(s);
	return 1;
}

/* A string of 1..max characters. */
int
get_str(config_setting_t *g, const char *name, char *out, size_t max,
    struct diags *d)
{
	config_setting_t *s = get_member(g, name);
	const char *v;

	if (s == NULL)
		return 0;
	if (config_setting_type(s) != CONFIG_TYPE_STRING) {
		diag_add(d, DIAG_ERROR, LINE(s), "%s must be a string", name);
		return -1;
	}
	v = config_setting_get_string(s);
	if (v[0] == '\0' || strlen(v) > max) {
		diag_add(d, DIAG_ERROR, LINE(s),
		    "%s must be 1..%zu characters", name, max);
		return -1;
	}
	ns_strlcpy(out, v, max + 1);
	return 1;
}

/* One of the strings of allowed; *out is its index. */
int
get_enum(config_setting_t *g, const char *name, const char *const *allowed,
    int *out, struct diags *d)
{
	char v[64], list[256];
	int i, rc;

	if ((rc = get_str(g, name, v, sizeof(v) - 1, d)) != 1) {
		if (rc == -1)
			goto bad;
		return rc;
	}
	for (i = 0; allowed[i] != NULL; i++)
		if (strcmp(v, allowed[i]) == 0) {
			*out = i;
			return 1;
		}
bad:
	list[0] = '\0';
	for (i = 0; allowed[i] != NULL; i++) {
		if (i > 0)
			strncat(list, ", ", sizeof(list) - strlen(list) - 1);
		strncat(list, "\"", sizeof(list) - strlen(list) - 1);
		strncat(list, allowed[i], sizeof(list) - strlen(list) - 1);
		strncat(list, "\"", sizeof(list) - strlen(list) - 1);
	}
	if (rc != -1)
		diag_add(d, DIAG_ERROR, LINE(get_member(g, name)),
		    "%s \"%s\" is not one of %s", name, v, list);
	else
		diag_add(d, DIAG_ERROR, LINE(get_member(g, name)),
		    "%s must be one of %s", name, list);
	return -1;
}

/* A group, or NULL with an error when the setting is of another type. */
config_setting_t *
get_group(config_setting_t *parent, const char *name, struct diags *d)
{
	config_setting_t *s = get_member(parent, name);

	if (s != NULL && config_setting_type(s) != CONFIG_TYPE_GROUP) {
		diag_add(d, DIAG_ERROR, LINE(s),
		    "%s must be a group { ... }", name);
		return NULL;
	}
	return s;
}

config_setting_t *
get_list(config_setting_t *parent, const char *name, int arrays,
    struct diags *d)
{
	config_setting_t *s = get_member(parent, name);

	if (s == NULL)
		return NULL;
	if (config_setting_type(s) != CONFIG_TYPE_LIST &&
	    !(arrays && config_setting_type(s) == CONFIG_TYPE_ARRAY)) {
		diag_add(d, DIAG_ERROR, LINE(s), "%s must be a %s", name,
		    arrays ? "list [ ... ]" : "list ( { ... }, ... )");
		return NULL;
	}
	return s;
}

/*
 * A relative file name is taken from cwd, the directory of whoever loaded
 * the config (nsctl's for a commit): cfgd itself runs elsewhere.
 */
void
resolve_path(const char *cwd, const char *in, char *out, size_t len)
{
	if (in[0] == '/' || cwd == NULL || cwd[0] == '\0')
		ns_strlcpy(out, in, len);
	else {
		size_t n = ns_strlcpy(out, cwd, len);

		if (n + 1 < len) {
			out[n] = '/';
			ns_strlcpy(out + n + 1, in, len - n - 1);
		}
	}
}

/*
 * keyidx: the first index seen of each key (a string or a number), in a
 * table of open addressing sized for the list: the duplicate checks of
 * lists that have no bound (interfaces, monitors) stay linear.
 */
void
keyidx_init(struct keyidx *k, size_t n)
{
	k->cap = 16;
	while (k->cap < 2 * n)
		k->cap *= 2;
	k->v = xcalloc(k->cap, sizeof(*k->v));
}

void
keyidx_free(struct keyidx *k)
{
	free(k->v);
	k->v = NULL;
	k->cap = 0;
}

static uint64_t
mix(uint64_t h)
{
	h ^= h >> 33;
	h *= 0xff51afd7ed558ccdULL;
	h ^= h >> 33;
	return h;
}

static int
keyidx_put(struct keyidx *k, uint64_t h, const char *s, uint64_t num,
    int idx)
{
	size_t i = (size_t)mix(h) & (k->cap - 1);

	for (;; i = (i + 1) & (k->cap - 1)) {
		if (!k->v[i].used) {
			k->v[i].used = 1;
			k->v[i].h = h;
			k->v[i].s = s;
			k->v[i].num = num;
			k->v[i].idx = idx;
			return -1;
		}
		if (k->v[i].h == h && k->v[i].num == num &&
		    (s == NULL || strcmp(k->v[i].s, s) == 0))
			return k->v[i].idx;
	}
}

/* The first index of key s, or -1 (and s noted as idx's): s must live on. */
int
keyidx_str(struct keyidx *k, const char *s, int idx)
{
	uint64_t h = 14695981039346656037ULL; /* FNV-1a */

	for (const unsigned char *p = (const unsigned char *)s; *p; p++)
		h = (h ^ *p) * 1099511628211ULL;
	return keyidx_put(k, h, s, 0, idx);
}

int
keyidx_num(struct keyidx *k, uint64_t num, int idx)
{
	return keyidx_put(k, num, NULL, num, idx);
}

/* A lookup only: the index noted for s, or -1. */
int
keyidx_find(const struct keyidx *k, const char *s)
{
	uint64_t h = 14695981039346656037ULL;
	size_t i;

	if (k->cap == 0)
		return -1;
	for (const unsigned char *p = (const unsigned char *)s; *p; p++)
		h = (h ^ *p) * 1099511628211ULL;
	for (i = (size_t)mix(h) & (k->cap - 1); k->v[i].used;
	    i = (i + 1) & (k->cap - 1))
		if (k->v[i].h == h && strcmp(k->v[i].s, s) == 0)
			return k->v[i].idx;
	return -1;
}
