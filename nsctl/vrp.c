/*
 * vrp.c: `nsctl vrp import`, `nsctl vrp export` and `nsctl display
 * current-configuration`: the vendor's command lines to netstreamd.conf
 * and back, through the conf/ library: what import makes is written by
 * conf_write() and checked by the validator `nsctl validate` runs, its
 * diagnostics named at the lines of the vendor file.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "conf.h"
#include "nsctl.h"
#include "util.h"
#include "vrp.h"

/* a --file or --device IFNAME=VALUE */
struct capflag {
	const char *arg;
	int is_file;
};

#define VRP_MAX_FLAGS 1024

/* diagnostics as `nsctl validate` prints them, with import's own end */
static void
render(struct diags *d, FILE *fp)
{
	struct sbuf out;
	char *end;

	if (d->n == 0)
		return;
	sbuf_init(&out);
	diags_render(d, &out);
	/* the last line is validate's verdict ("valid", "nothing committed") */
	if (out.len > 1 && (end = memrchr(out.s, '\n', out.len - 1)) != NULL)
		end[1] = '\0';
	fputs(out.s, fp);
	if (d->errors)
		fprintf(fp, "%s: %d error%s, nothing imported\n", d->file,
		    d->errors, d->errors == 1 ? "" : "s");
	sbuf_free(&out);
}

static int
read_input(const char *path, char **text, size_t *len)
{
	char err[512];
	size_t cap = 65536, n;

	if (strcmp(path, "-") != 0) {
		if (read_file_limited(path, CONFIG_MAX_BYTES, text, len, err,
		    sizeof(err)) == -1) {
			fprintf(stderr, "nsctl: %s\n", err);
			return -1;
		}
		return 0;
	}
	*text = xmalloc(cap + 1);
	*len = 0;
	while ((n = fread(*text + *len, 1, cap - *len, stdin)) > 0) {
		*len += n;
		if (*len > CONFIG_MAX_BYTES) {
			fprintf(stderr, "nsctl: standard input: more than %u "
			    "bytes\n", CONFIG_MAX_BYTES);
			free(*text);
			return -1;
		}
		if (*len == cap)
			*text = xrealloc(*text, (cap *= 2) + 1);
	}
	(*text)[*len] = '\0';
	return 0;
}

/* the interface named by the len bytes of name, or -1 */
static int
iface_named(const struct conf *c, const char *name, size_t len)
{
	int i;

	for (i = 0; i < c->n_ifaces; i++)
		if (strlen(c->ifaces[i].name) == len &&
		    strncmp(c->ifaces[i].name, name, len) == 0)
			return i;
	return -1;
}

/* one --device/--file IFNAME=VALUE onto the interface of that name */
static void
apply_flag(struct conf *c, const struct capflag *f, struct diags *d)
{
	const char *opt = f->is_file ? "--file" : "--device";
	const char *eq = strchr(f->arg, '=');
	struct conf_iface *ifc;
	int i;

	if (eq == NULL || eq[1] == '\0') {
		diag_add(d, DIAG_ERROR, 0, "%s %s: give IFNAME=%s", opt, f->arg,
		    f->is_file ? "PCAP" : "DEV");
		return;
	}
	if ((i = iface_named(c, f->arg, (size_t)(eq - f->arg))) < 0) {
		diag_add(d, DIAG_ERROR, 0, "%s %s: no interface %.*s in this "
		    "file", opt, f->arg, (int)(eq - f->arg), f->arg);
		return;
	}
	ifc = &c->ifaces[i];
	ifc->device[0] = ifc->file[0] = '\0';
	if (f->is_file)
		ns_strlcpy(ifc->file, eq + 1, sizeof(ifc->file));
	else {
		ns_strlcpy(ifc->device, eq + 1, sizeof(ifc->device));
		ifc->realtime = ifc->file_dir = 0;
	}
}

/* the flags, then: every interface needs a capture source */
static void
apply_flags(struct conf *c, const struct capflag *f, int n,
    struct diags *d)
{
	int i, k;

	for (k = 0; k < n; k++)
		apply_flag(c, &f[k], d);
	for (i = 0; i < c->n_ifaces; i++)
		if (!c->ifaces[i].device[0] && !c->ifaces[i].file[0])
			diag_add(d, DIAG_ERROR, c->ifaces[i].line,
			    "interface %s has no capture source: give --device "
			    "%s=DEV (a live device) or --file %s=PCAP (a "
			    "capture file)", c->ifaces[i].name,
			    c->ifaces[i].name, c->ifaces[i].name);
}

/*
 * The text through the validator of `nsctl validate`; its diagnostics
 * move into d at the vendor lines map gives (line 1 is the header).
 */
static void
validate_text(const struct sbuf *text, const int *map, size_t n_map,
    int host_checks, struct diags *d)
{
	Netstream__Plan *plan = NULL;
	char cwd[CONF_PATH_MAX];
	struct diags v;
	struct conf c;
	size_t i;

	if (getcwd(cwd, sizeof(cwd)) == NULL)
		ns_strlcpy(cwd, "/", sizeof(cwd));
	diags_init(&v, d->file);
	if (conf_load_text(text->s, text->len, cwd, &c, &v) == 0)
		plan = plan_compile(&c, &v);
	if (plan != NULL && host_checks)
		conf_host_checks(&c, &v);
	for (i = 0; i < v.n; i++) {
		int l = v.v[i].line;

		l = l >= 2 && (size_t)(l - 2) < n_map ? map[l - 2] : 0;
		diag_add(d, v.v[i].kind, l, "%s", v.v[i].text);
	}
	if (plan != NULL)
		netstream__plan__free_unpacked(plan, NULL);
	diags_free(&v);
	conf_free(&c);
}

static int
import(const char *path, const struct capflag *f, int nf, int host_checks)
{
	int lines[CW_N] = { 0 }, *map = NULL, rc = EXIT_INVALID;
	struct sbuf out;
	struct diags d;
	struct conf c;
	size_t len, n_map = 0;
	char *text;

	if (read_input(path, &text, &len) == -1)
		return EXIT_INVALID;
	diags_init(&d, strcmp(path, "-") == 0 ? "stdin" : path);
	conf_defaults(&c);
	c.active_seconds = 30 * 60;
	sbuf_init(&out);
	if (vrp_parse(text, len, &c, lines, &d) == 0)
		apply_flags(&c, f, nf, &d);
	if (d.errors == 0) {
		sbuf_printf(&out, "# netstreamd.conf of the VRP lines of %s "
		    "(nsctl vrp import)\n", d.file);
		conf_write(&c, lines, &out, &map, &n_map);
		validate_text(&out, map, n_map, host_checks, &d);
	}
	render(&d, stderr);
	if (d.errors == 0) {
		fputs(out.s, stdout);
		rc = 0;
	}
	free(map);
	free(text);
	sbuf_free(&out);
	diags_free(&d);
	conf_free(&c);
	return rc;
}

static void
vrp_usage(void)
{
	fputs("usage: nsctl vrp import [--file IFNAME=PCAP]... "
	      "[--device IFNAME=DEV]...\n"
	      "                        [--no-host-checks] FILE|-\n"
	      "       nsctl vrp export [-c FILE | --revision N]\n"
	      "       nsctl display current-configuration\n", stderr);
	exit(EXIT_USAGE);
}

static int
cmd_import(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "file", required_argument, NULL, 'f' },
		{ "device", required_argument, NULL, 'd' },
		{ "no-host-checks", no_argument, NULL, 'H' },
		{ NULL, 0, NULL, 0 },
	};
	struct capflag *f = xcalloc(VRP_MAX_FLAGS, sizeof(*f));
	int ch, nf = 0, host_checks = 1, rc;

	while ((ch = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		if ((ch == 'f' || ch == 'd') && nf < VRP_MAX_FLAGS)
			f[nf++] = (struct capflag){ optarg, ch == 'f' };
		else if (ch == 'H')
			host_checks = 0;
		else
			vrp_usage();
	}
	if (optind + 1 != argc)
		vrp_usage();
	rc = import(argv[optind], f, nf, host_checks);
	free(f);
	return rc;
}

/* a config's text as vendor lines; errors as `nsctl validate` names them */
static int
export_text(const char *name, const char *text, size_t len)
{
	char cwd[CONF_PATH_MAX];
	struct sbuf out;
	struct diags d;
	struct conf c;
	int rc = EXIT_INVALID;

	if (getcwd(cwd, sizeof(cwd)) == NULL)
		ns_strlcpy(cwd, "/", sizeof(cwd));
	diags_init(&d, name);
	sbuf_init(&out);
	if (conf_load_text(text, len, cwd, &c, &d) == 0) {
		vrp_write(&c, &out);
		fputs(out.s, stdout);
		rc = 0;
	} else
		render(&d, stderr);
	sbuf_free(&out);
	diags_free(&d);
	conf_free(&c);
	return rc;
}

/* revision N (0: the running one) from cfgd, as vendor lines */
static int
export_revision(struct nsctl *n, uint64_t rev)
{
	Netstream__ControlRequest rq = NETSTREAM__CONTROL_REQUEST__INIT;
	Netstream__Envelope *env;
	char name[64];
	int rc;

	rq.verb = NETSTREAM__VERB__SHOW;
	rq.revision = rev;
	if ((rc = nsctl_request(n, &rq, &env)) != 0)
		return rc;
	if (env->reply->status != 0) {
		fputs(env->reply->text, stderr);
		bus_free(env);
		return EXIT_INVALID;
	}
	snprintf(name, sizeof(name), "revision %llu",
	    (unsigned long long)env->reply->revision);
	rc = export_text(name, env->reply->text, strlen(env->reply->text));
	bus_free(env);
	return rc;
}

static int
cmd_export(struct nsctl *n, int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "revision", required_argument, NULL, 'R' },
		{ NULL, 0, NULL, 0 },
	};
	unsigned long long rev = 0;
	char *end, err[512], *text;
	size_t len;
	int ch, rc;

	while ((ch = getopt_long(argc, argv, "c:", longopts, NULL)) != -1) {
		if (ch == 'c')
			n->config = optarg;
		else if (ch == 'R') {
			rev = strtoull(optarg, &end, 10);
			if (*end != '\0' || rev == 0 || optarg[0] == '-')
				vrp_usage();
		} else
			vrp_usage();
	}
	if (optind != argc)
		vrp_usage();
	if (rev != 0)
		return export_revision(n, rev);
	if (read_file_limited(n->config, CONFIG_MAX_BYTES, &text, &len, err,
	    sizeof(err)) == -1) {
		fprintf(stderr, "%s: error: %s\n", n->config, err);
		return EXIT_INVALID;
	}
	rc = export_text(n->config, text, len);
	free(text);
	return rc;
}

int
cmd_vrp(struct nsctl *n, int argc, char **argv)
{
	if (argc < 2)
		vrp_usage();
	optind = 0;
	if (strcmp(argv[1], "import") == 0)
		return cmd_import(argc - 1, argv + 1);
	if (strcmp(argv[1], "export") == 0)
		return cmd_export(n, argc - 1, argv + 1);
	vrp_usage();
	return EXIT_USAGE;
}

/* `display current-configuration`: the running revision, as VRP shows it */
int
vrp_display_current(struct nsctl *n, int argc, char **argv)
{
	(void)argv;
	if (argc != 1)
		vrp_usage();
	return export_revision(n, 0);
}
