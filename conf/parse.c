/*
 * parse.c: reads a config file (size-limited, text only) with libconfig and
 * hands it to the validator; keeps the diagnostics every error names by
 * file:line.
 */
#include <ctype.h>
#include <libconfig.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bus.h"
#include "conf.h"
#include "validate.h"
#include "log.h"
#include "util.h"

void
diags_init(struct diags *d, const char *file)
{
	memset(d, 0, sizeof(*d));
	ns_strlcpy(d->file, file, sizeof(d->file));
}

void
diags_free(struct diags *d)
{
	size_t i;

	for (i = 0; i < d->n; i++)
		free(d->v[i].text);
	free(d->v);
	d->v = NULL;
	d->n = d->cap = 0;
}

void
diag_add(struct diags *d, enum diag_kind kind, int line, const char *fmt, ...)
{
	char buf[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	if (d->n == d->cap) {
		d->cap = d->cap ? d->cap * 2 : 16;
		d->v = xrealloc(d->v, d->cap * sizeof(*d->v));
	}
	d->v[d->n].kind = kind;
	d->v[d->n].line = line;
	d->v[d->n].text = xstrdup(buf);
	d->n++;
	if (kind == DIAG_ERROR)
		d->errors++;
}

static int
diag_cmp(const void *a, const void *b)
{
	const struct diag *x = a, *y = b;

	if (x->kind != y->kind)
		return (int)x->kind - (int)y->kind;
	if (x->line != y->line)
		return x->line - y->line;
	return strcmp(x->text, y->text);
}

/*
 * Errors first, then warnings, what is not effective, notices, each by line;
 * the output is stable so tests can compare it byte for byte.
 */
void
diags_render(struct diags *d, struct sbuf *out)
{
	static const char *kind[] = { "error", "warning", "not effective",
		"notice" };
	size_t i;

	if (d->n > 1)
		qsort(d->v, d->n, sizeof(*d->v), diag_cmp);
	for (i = 0; i < d->n; i++) {
		if (d->errors && d->v[i].kind != DIAG_ERROR)
			continue;
		if (d->v[i].line > 0)
			sbuf_printf(out, "%s:%d: %s: %s\n", d->file,
			    d->v[i].line, kind[d->v[i].kind], d->v[i].text);
		else
			sbuf_printf(out, "%s: %s: %s\n", d->file,
			    kind[d->v[i].kind], d->v[i].text);
	}
	if (d->errors)
		sbuf_printf(out, "%s: %d error%s, nothing committed\n",
		    d->file, d->errors, d->errors == 1 ? "" : "s");
	else
		sbuf_printf(out, "%s: valid\n", d->file);
}

/*
 * A config is text: a NUL or other control byte means a binary file; and
 * UTF-8 text, as its strings (interface names...) go into the plan.
 */
static int
check_text(const char *text, size_t len, struct diags *d)
{
	size_t i, n;
	int line = 1;

	for (i = 0; i < len; i++) {
		unsigned char ch = (unsigned char)text[i];

		if (ch >= 0x80) {
			n = utf8_seq(text + i, len - i);
			if (n == 0) {
				diag_add(d, DIAG_ERROR, line,
				    "not UTF-8 (byte 0x%02x at offset %zu): "
				    "a config file is UTF-8 text (its names "
				    "go into the plan as UTF-8 strings)",
				    ch, i);
				return -1;
			}
			i += n - 1;
			continue;
		}
		if (ch == '\n')
			line++;
		else if ((ch < 0x20 && ch != '\t' && ch != '\r' &&
		    ch != '\f') || ch == 0x7f) {
			diag_add(d, DIAG_ERROR, line,
			    "binary data (byte 0x%02x at offset %zu): a "
			    "config file is libconfig text",
			    ch, i);
			return -1;
		}
	}
	return 0;
}

/* Skips a string, or a comment, that starts at text[*i]; 1 when it did. */
static int
skip_quoted(const char *text, size_t len, size_t *i, int *line)
{
	size_t j = *i;

	if (text[j] == '"') {
		for (j++; j < len && text[j] != '"'; j++) {
			if (text[j] == '\\' && j + 1 < len)
				j++;
			else if (text[j] == '\n')
				(*line)++;
		}
	} else if (text[j] == '#' ||
	    (text[j] == '/' && j + 1 < len && text[j + 1] == '/')) {
		while (j + 1 < len && text[j + 1] != '\n')
			j++;
	} else if (text[j] == '/' && j + 1 < len && text[j + 1] == '*') {
		for (j += 2; j + 1 < len && !(text[j] == '*' &&
		    text[j + 1] == '/'); j++)
			if (text[j] == '\n')
				(*line)++;
		j++;
	} else
		return 0;
	*i = j;
	return 1;
}

/*
 * libconfig 1.5 keeps the low 32 bits of an integer without the L suffix
 * and says nothing: port = 4294977291 is read as 9995, 0x100000400 as
 * 1024. Such literals are found in the text, before libconfig reads it,
 * and each is an error naming its line. Returns the number found.
 */
static int
check_int_literals(const char *text, size_t len, struct diags *d)
{
	int line = 1, bad = 0;
	size_t i;

	for (i = 0; i < len; i++) {
		char prev = i > 0 ? text[i - 1] : ' ';
		unsigned long long v;
		int hex, neg = 0;
		size_t j = i, k;

		if (text[i] == '\n') {
			line++;
			continue;
		}
		if (skip_quoted(text, len, &i, &line))
			continue;
		if (isalnum((unsigned char)prev) || prev == '_' || prev == '.' ||
		    prev == '*' || prev == '-' || prev == '+')
			continue;
		if (text[j] == '-' || text[j] == '+')
			neg = text[j++] == '-';
		if (j >= len || !isdigit((unsigned char)text[j]))
			continue;
		hex = text[j] == '0' && j + 1 < len &&
		    (text[j + 1] == 'x' || text[j + 1] == 'X');
		k = hex ? j + 2 : j;
		v = 0;
		for (; k < len && (hex ? isxdigit((unsigned char)text[k]) :
		    isdigit((unsigned char)text[k])); k++) {
			unsigned dgt = isdigit((unsigned char)text[k]) ?
			    (unsigned)(text[k] - '0') :
			    (unsigned)(tolower((unsigned char)text[k]) - 'a' + 10);

			v = v > (ULLONG_MAX >> 5) ? ULLONG_MAX :
			    v * (hex ? 16 : 10) + dgt;
		}
		i = k - 1;
		/* 64-bit (L) and float literals are what they say */
		if (k < len && (text[k] == 'L' || text[k] == '.' ||
		    text[k] == 'e' || text[k] == 'E'))
			continue;
		if (hex ? v > 0xffffffffULL :
		    v > (neg ? 2147483648ULL : 2147483647ULL)) {
			diag_add(d, DIAG_ERROR, line,
			    "integer %.*s does not fit 32 bits (libconfig "
			    "would silently keep its low 32 bits)",
			    (int)(k - (neg ? j - 1 : j)), text + (neg ? j - 1 : j));
			bad++;
		}
	}
	return bad;
}

int
conf_load_text(const char *text, size_t len, const char *cwd, struct conf *c,
    struct diags *d)
{
	config_t cfg;
	int rc;

	memset(c, 0, sizeof(*c));
	if (len > CONFIG_MAX_BYTES) {
		diag_add(d, DIAG_ERROR, 0,
		    "file is %zu bytes, the limit is %u bytes", len,
		    CONFIG_MAX_BYTES);
		return -1;
	}
	if (check_text(text, len, d) == -1 || check_int_literals(text, len, d))
		return -1;
	config_init(&cfg);
	/* @include would read files cfgd was not given; refuse it */
	config_set_include_dir(&cfg, "/nonexistent-netstreamd-include");
	if (config_read_string(&cfg, text) != CONFIG_TRUE) {
		diag_add(d, DIAG_ERROR, config_error_line(&cfg),
		    "%s (libconfig: settings end with ';', groups are "
		    "{ ... }, lists ( ... ), arrays [ ... ], strings \"...\")",
		    config_error_text(&cfg));
		config_destroy(&cfg);
		return -1;
	}
	rc = conf_from_config(&cfg, cwd, c, d);
	config_destroy(&cfg);
	return rc;
}

int
conf_load_file(const char *path, struct conf *c, struct diags *d)
{
	char err[512], cwd[CONF_PATH_MAX];
	char *text;
	size_t len;
	int rc;

	memset(c, 0, sizeof(*c));
	if (read_file_limited(path, CONFIG_MAX_BYTES, &text, &len, err,
	    sizeof(err)) == -1) {
		diag_add(d, DIAG_ERROR, 0, "%s", err);
		return -1;
	}
	if (getcwd(cwd, sizeof(cwd)) == NULL)
		ns_strlcpy(cwd, "/", sizeof(cwd));
	rc = conf_load_text(text, len, cwd, c, d);
	free(text);
	return rc;
}

void
conf_free(struct conf *c)
{
	free(c->records);
	free(c->monitors);
	if (c->monitor_idx != NULL) {
		keyidx_free(c->monitor_idx);
		free(c->monitor_idx);
	}
	free(c->slots);
	free(c->ifaces);
	memset(c, 0, sizeof(*c));
}

/* A variable from a string setting of the file, unless it is set. */
static void
setting_env(const config_setting_t *g, const char *name, const char *env,
    size_t max)
{
	const char *s;

	if (g != NULL && config_setting_lookup_string(g, name, &s) ==
	    CONFIG_TRUE && s[0] != '\0' && strlen(s) < max)
		setenv(env, s, 0);
}

/*
 * The file's endpoints become NETSTREAMD_<NAME>_ENDPOINT, which
 * bus_endpoints_init() reads, and which the processes `nsctl up` starts
 * inherit; endpoints.server_key NETSTREAMD_SERVER_KEY, and a slot's
 * endpoint and server_key NETSTREAMD_SLOT_<N>_ENDPOINT and _SERVER_KEY
 * (lib/bus.c, lib/curve.c). A variable already set wins, as on the
 * command line. The file is not validated here: `nsctl validate` does.
 */
static void
endpoints_env(const config_t *cfg)
{
	const config_setting_t *g, *l, *s;
	char env[64];
	int i, n, id;

	g = config_lookup(cfg, "endpoints");
	for (i = 0; i < BUS_N_ENDPOINTS; i++)
		setting_env(g, bus_endpoint_names[i].key,
		    bus_endpoint_names[i].env, BUS_ENDPOINT_MAX);
	setting_env(g, "server_key", "NETSTREAMD_SERVER_KEY",
	    CURVE_Z85_LEN + 8);
	if ((l = config_lookup(cfg, "slots")) == NULL)
		return;
	n = config_setting_length(l);
	for (i = 0; i < n; i++) {
		s = config_setting_get_elem(l, (unsigned)i);
		if (config_setting_type(s) != CONFIG_TYPE_GROUP ||
		    config_setting_lookup_int(s, "id", &id) != CONFIG_TRUE ||
		    id < 0 || id > CONF_SLOT_MAX)
			continue;
		snprintf(env, sizeof(env), "NETSTREAMD_SLOT_%d_ENDPOINT", id);
		setting_env(s, "endpoint", env, BUS_ENDPOINT_MAX);
		snprintf(env, sizeof(env), "NETSTREAMD_SLOT_%d_SERVER_KEY", id);
		setting_env(s, "server_key", env, CURVE_Z85_LEN + 8);
	}
}

/*
 * The settings a process needs before any plan exists: where its sockets
 * live (run_dir, and endpoints as environment variables), where revisions
 * are stored and where the CURVE keys of tcp:// endpoints are. A file
 * that does not parse leaves the defaults.
 */
int
conf_bootstrap(const char *path, char *run_dir, size_t rlen, char *database,
    size_t dlen, char *curve_dir, size_t clen)
{
	char err[512], *text;
	config_t cfg;
	const char *s;
	size_t len;

	/* a FIFO or device is refused here, not opened and waited on */
	if (read_file_limited(path, CONFIG_MAX_BYTES, &text, &len, err,
	    sizeof(err)) == -1)
		return -1;
	config_init(&cfg);
	config_set_include_dir(&cfg, "/nonexistent-netstreamd-include");
	if (config_read_string(&cfg, text) != CONFIG_TRUE) {
		free(text);
		config_destroy(&cfg);
		return -1;
	}
	free(text);
	if (config_lookup_string(&cfg, "run_dir", &s) == CONFIG_TRUE)
		ns_strlcpy(run_dir, s, rlen);
	if (config_lookup_string(&cfg, "database", &s) == CONFIG_TRUE)
		ns_strlcpy(database, s, dlen);
	if (config_lookup_string(&cfg, "endpoints.curve_dir", &s) ==
	    CONFIG_TRUE)
		ns_strlcpy(curve_dir, s, clen);
	endpoints_env(&cfg);
	config_destroy(&cfg);
	return 0;
}

/*
 * What exportd and sampled take from their -c file (as systemd starts
 * them): the endpoints and CURVE directory, as the environment the bus
 * reads, and the run_dir. Returns the run directory flag for
 * bus_run_dir(): -r, else NETSTREAMD_RUN_DIR (NULL), else the file's.
 */
const char *
conf_daemon_run_dir(const char *path, const char *rflag, char *run_dir,
    size_t rlen)
{
	char database[1024], curve_dir[1024] = "";

	ns_strlcpy(run_dir, DEFAULT_RUN_DIR, rlen);
	if (path == NULL)
		return rflag;
	if (conf_bootstrap(path, run_dir, rlen, database, sizeof(database),
	    curve_dir, sizeof(curve_dir)) == -1)
		log_warnx("%s: unreadable or invalid; using the default run_dir "
		    "and endpoints", path);
	if (curve_dir[0] != '\0') /* a value already set wins */
		setenv("NETSTREAMD_CURVE_DIR", curve_dir, 0);
	if (rflag == NULL && getenv("NETSTREAMD_RUN_DIR") == NULL)
		return run_dir;
	return rflag;
}
