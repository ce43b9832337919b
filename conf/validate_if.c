/*
 * validate_if.c: the interfaces = ( ... ) list of the config: each one's
 * name and slot, its capture (a device or a file), the directions it
 * exports and the monitors bound to them, and duplicates across the list.
 */
#include <libconfig.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "conf.h"
#include "util.h"
#include "validate.h"

static int
find_monitor(const struct conf *c, const char *name)
{
	return c->monitor_idx ? keyidx_find(c->monitor_idx, name) : -1;
}

/* The first number of an interface name is its slot (GE1/0/0 -> 1). */
int
conf_slot_of_name(const char *name, unsigned *slot)
{
	const char *p = name;
	unsigned long v;

	while (*p && (*p < '0' || *p > '9'))
		p++;
	if (*p == '\0')
		return -1;
	v = strtoul(p, NULL, 10);
	if (v > CONF_SLOT_MAX)
		return -1;
	*slot = (unsigned)v;
	return 0;
}

static void
parse_iface_binds(config_setting_t *g, const struct conf *c,
    struct conf_iface *ifc, struct diags *d)
{
	static const char *const known[] = { "name", "direction", NULL };
	config_setting_t *l = get_list(g, "monitors", 0, d), *b;
	int i, dir;

	if (l == NULL)
		return;
	for (i = 0; i < config_setting_length(l); i++) {
		struct conf_bind nb;

		memset(&nb, 0, sizeof(nb));
		b = config_setting_get_elem(l, i);
		nb.line = LINE(b);
		if (config_setting_type(b) != CONFIG_TYPE_GROUP) {
			diag_add(d, DIAG_ERROR, LINE(b),
			    "a monitor binding must be { name; direction; }");
			continue;
		}
		check_known(b, "a monitor binding", known, d);
		if (get_str(b, "name", nb.monitor, CONF_NAME_MAX, d) != 1 ||
		    get_enum(b, "direction", direction_names, &dir, d) != 1) {
			if (get_member(b, "name") == NULL ||
			    get_member(b, "direction") == NULL)
				diag_add(d, DIAG_ERROR, LINE(b),
				    "a monitor binding needs a name and a "
				    "direction (\"inbound\" or \"outbound\")");
			continue;
		}
		nb.dir = dir;
		if (find_monitor(c, nb.monitor) < 0) {
			diag_add(d, DIAG_ERROR, LINE(get_member(b, "name")),
			    "interface %s: no monitor named %s", ifc->name,
			    nb.monitor);
			continue;
		}
		if (ifc->n_binds > 0 && ifc->binds[0].dir == dir) {
			diag_add(d, DIAG_ERROR, nb.line,
			    "interface %s: a second monitor on %s (monitor %s "
			    "at line %d): one monitor per interface direction",
			    ifc->name, direction_names[dir],
			    ifc->binds[0].monitor, ifc->binds[0].line);
			continue;
		}
		if (ifc->n_binds < 2)
			ifc->binds[ifc->n_binds++] = nb;
	}
}

static void
parse_iface(config_setting_t *g, const char *cwd, struct conf *c,
    struct conf_iface *ifc, struct diags *d)
{
	static const char *const known[] = { "name", "slot", "ifindex",
		"device", "file", "replay", "file_direction", "netstream",
		"monitors", "sampler", "buffer_kb", "description", NULL };
	static const char *const replay[] = { "fast", "realtime", NULL };
	config_setting_t *ns, *x;
	char file[CONF_PATH_MAX];
	struct stat st;
	int i, e, has_dev, has_file;

	check_known(g, "an interface", known, d);
	if (get_str(g, "name", ifc->name, sizeof(ifc->name) - 1, d) == 0)
		diag_add(d, DIAG_ERROR, ifc->line,
		    "interface needs a name (like \"GigabitEthernet1/0/0\")");
	if (get_uint(g, "slot", 0, CONF_SLOT_MAX, &ifc->slot, d) == 0 && ifc->name[0] &&
	    conf_slot_of_name(ifc->name, &ifc->slot) == -1)
		diag_add(d, DIAG_ERROR, ifc->line,
		    "interface %s: no slot, and its name has no slot number: "
		    "set slot = N (0..255)",
		    ifc->name);
	get_uint(g, "ifindex", 1, 4294967295LL, &ifc->ifindex, d);
	/* the interface's description (interfaceDescription, 83) */
	get_str(g, "description", ifc->description, CONF_DESC_MAX, d);
	ifc->buffer_kb = 4096;
	get_uint(g, "buffer_kb", 64, 1048576, &ifc->buffer_kb, d);
	has_dev = get_str(g, "device", ifc->device, sizeof(ifc->device) - 1,
	    d);
	if (has_dev == 1)
		ifc->device_line = LINE(get_member(g, "device"));
	has_file = get_str(g, "file", file, sizeof(file) - 1, d);
	if (has_file == 1)
		resolve_path(cwd, file, ifc->file, sizeof(ifc->file));
	if (has_dev == 0 && has_file == 0)
		diag_add(d, DIAG_ERROR, ifc->line,
		    "interface %s needs a device (live capture) or a file "
		    "(a pcap/pcapng capture)",
		    ifc->name);
	else if (has_dev && has_file)
		diag_add(d, DIAG_ERROR, LINE(get_member(g, "file")),
		    "interface %s: set device or file, not both", ifc->name);
	if (has_file == 1 && access(ifc->file, R_OK) != 0)
		diag_add(d, DIAG_ERROR, LINE(get_member(g, "file")),
		    "interface %s: cannot read capture file %s", ifc->name,
		    ifc->file);
	else if (has_file == 1 && (stat(ifc->file, &st) != 0 ||
	    !S_ISREG(st.st_mode)))
		/* a FIFO or a device would block or never end a replay */
		diag_add(d, DIAG_ERROR, LINE(get_member(g, "file")),
		    "interface %s: capture file %s is not a regular file "
		    "(a FIFO, device or directory): give a pcap or pcapng "
		    "file", ifc->name, ifc->file);
	if (get_enum(g, "replay", replay, &e, d) == 1)
		ifc->realtime = e == 1;
	if (get_enum(g, "file_direction", direction_names, &e, d) == 1)
		ifc->file_dir = e;
	if ((has_file != 1) && (get_member(g, "replay") != NULL ||
	    get_member(g, "file_direction") != NULL))
		diag_add(d, DIAG_ERROR, ifc->line,
		    "interface %s: replay and file_direction apply to a "
		    "capture file only",
		    ifc->name);
	if ((ns = get_list(g, "netstream", 1, d)) != NULL) {
		for (i = 0; i < config_setting_length(ns); i++) {
			const char *v;

			x = config_setting_get_elem(ns, i);
			v = config_setting_get_string(x);
			if (v != NULL && strcmp(v, "inbound") == 0)
				e = 0;
			else if (v != NULL && strcmp(v, "outbound") == 0)
				e = 1;
			else {
				diag_add(d, DIAG_ERROR, LINE(x),
				    "netstream entries are \"inbound\" or "
				    "\"outbound\"");
				continue;
			}
			if (ifc->netstream[e])
				diag_add(d, DIAG_ERROR, LINE(x),
				    "interface %s: netstream %s listed twice",
				    ifc->name, v);
			ifc->netstream[e] = LINE(x);
		}
	}
	parse_iface_binds(g, c, ifc, d);
	parse_sampler(g, ifc->sampler, d);
}

void
parse_interfaces(config_setting_t *root, const char *cwd, struct conf *c,
    struct diags *d)
{
	config_setting_t *l = get_list(root, "interfaces", 0, d), *g;
	struct keyidx names, ifindexes, devices;
	int i, j, n;

	if (l == NULL)
		return;
	n = config_setting_length(l);
	c->ifaces = xcalloc((size_t)n, sizeof(*c->ifaces));
	keyidx_init(&names, (size_t)n);
	keyidx_init(&ifindexes, (size_t)n);
	keyidx_init(&devices, (size_t)n);
	for (i = 0; i < n; i++) {
		struct conf_iface *ifc = &c->ifaces[c->n_ifaces];

		g = config_setting_get_elem(l, i);
		ifc->line = LINE(g);
		if (config_setting_type(g) != CONFIG_TYPE_GROUP) {
			diag_add(d, DIAG_ERROR, LINE(g),
			    "an interface must be a group { name; device; ... }");
			continue;
		}
		parse_iface(g, cwd, c, ifc, d);
		/*
		 * one error per duplicate, naming the first holder: hashed,
		 * so 10k interfaces on one device give 9999 errors, not 50M
		 */
		if (ifc->name[0] &&
		    (j = keyidx_str(&names, ifc->name, c->n_ifaces)) >= 0)
			diag_add(d, DIAG_ERROR, ifc->line,
			    "duplicate interface %s (first at line %d)",
			    ifc->name, c->ifaces[j].line);
		if (ifc->ifindex &&
		    (j = keyidx_num(&ifindexes, ifc->ifindex, c->n_ifaces)) >= 0)
			diag_add(d, DIAG_ERROR, ifc->line,
			    "interface %s: ifindex %u already used by %s",
			    ifc->name, ifc->ifindex, c->ifaces[j].name);
		if (ifc->device[0] &&
		    (j = keyidx_str(&devices, ifc->device, c->n_ifaces)) >= 0)
			diag_add(d, DIAG_ERROR, ifc->line,
			    "interface %s: device %s already captured by %s",
			    ifc->name, ifc->device, c->ifaces[j].name);
		c->n_ifaces++;
	}
	keyidx_free(&names);
	keyidx_free(&ifindexes);
	keyidx_free(&devices);
}
