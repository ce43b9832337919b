/*
 * hostcheck.c: what a config relies on in this machine, checked when it
 * is validated on the exporter itself (cfgd's commit; nsctl validate
 * unless --no-host-checks): each host's vpn_instance must be a network
 * device here (exportd binds the host's socket to it, SO_BINDTODEVICE),
 * and each export source an address the kernel lets a UDP socket bind, in
 * the VPN instance of the hosts that leave from it. Without these, the
 * commit went through and the mistake showed only as send errors and lost
 * flows. Each interface's capture device must be there too: sampled
 * waits for a missing one and captures from when it appears, so until
 * then the interface counts nothing. They are warnings, not errors: the
 * config may be written for another machine, and the device or address
 * may come later. The checks see the network namespace of the process
 * that runs them.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <net/if.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "conf.h"
#include "util.h"
#include "validate.h"

#define HC_VPNS 64 /* (source, VPN instance) pairs probed */

/* /proc/net/if_inet6 flags (linux/if_addr.h) */
#define HC_IFA_F_DADFAILED 0x08
#define HC_IFA_F_TENTATIVE 0x40

static void
check_vpns(const struct conf_view_export *ex, const char *view,
    struct diags *d)
{
	const struct conf_host *h;
	int i;

	for (i = 0; i < ex->n_hosts; i++) {
		h = &ex->hosts[i];
		if (h->vpn[0] == '\0' || if_nametoindex(h->vpn) != 0)
			continue;
		diag_add(d, DIAG_WARNING, h->vpn_line ? h->vpn_line : h->line,
		    "host %s port %u in %s: vpn_instance \"%s\" is not a "
		    "network device on this host%s: exportd binds the "
		    "host's socket to that device (SO_BINDTODEVICE), so "
		    "export to this host fails until it exists",
		    h->address, h->port, view, h->vpn,
		    strlen(h->vpn) >= IFNAMSIZ ?
			" (a device name has at most 15 characters)" : "");
	}
}

/*
 * The device and /proc/net/if_inet6 flags of an IPv6 address of this
 * host: 0 when found, -1 when it has none.
 */
static int
inet6_addr_state(const struct in6_addr *a, char *dev, size_t len,
    unsigned *flags)
{
	char want[33], hex[40], name[IFNAMSIZ + 1];
	unsigned idx, plen, scope, fl;
	int found = -1;
	size_t i;
	FILE *f;

	for (i = 0; i < 16; i++)
		snprintf(want + 2 * i, 3, "%02x", a->s6_addr[i]);
	if ((f = fopen("/proc/net/if_inet6", "re")) == NULL)
		return -1;
	while (fscanf(f, "%39s %x %x %x %x %16s", hex, &idx, &plen, &scope,
	    &fl, name) == 6)
		if (strcmp(hex, want) == 0) {
			ns_strlcpy(dev, name, len);
			*flags = fl;
			found = 0;
			break;
		}
	fclose(f);
	return found;
}

/*
 * What exportd does with a source, without sending: a UDP socket of its
 * family, bound to the VPN instance's device, bound to the address (port
 * 0: the configured one may be in use by exportd itself). 0 when the
 * kernel accepts it, else the errno; -1 when this process may not tell
 * (SO_BINDTODEVICE needs CAP_NET_RAW on kernels before 5.7).
 */
static int
bind_probe(const char *addr, const char *vpn)
{
	struct sockaddr_in6 s6;
	struct sockaddr_in s4;
	struct sockaddr *sa;
	socklen_t len;
	int fd, err = 0;

	memset(&s6, 0, sizeof(s6));
	memset(&s4, 0, sizeof(s4));
	if (inet_pton(AF_INET6, addr, &s6.sin6_addr) == 1) {
		s6.sin6_family = AF_INET6;
		sa = (struct sockaddr *)&s6;
		len = sizeof(s6);
	} else if (inet_pton(AF_INET, addr, &s4.sin_addr) == 1) {
		s4.sin_family = AF_INET;
		sa = (struct sockaddr *)&s4;
		len = sizeof(s4);
	} else
		return -1; /* the validator has said so already */
	if ((fd = socket(sa->sa_family, SOCK_DGRAM | SOCK_CLOEXEC, 0)) == -1)
		return errno;
	if (vpn[0] != '\0' && setsockopt(fd, SOL_SOCKET, SO_BINDTODEVICE, vpn,
	    (socklen_t)strlen(vpn)) == -1)
		err = errno == EPERM ? -1 : errno;
	else if (bind(fd, sa, len) == -1)
		err = errno;
	close(fd);
	return err;
}

/* Why the kernel refused addr (bind_probe's err), for the warning. */
static void
why_not_local(const char *addr, const char *vpn, int err, char *out,
    size_t len)
{
	char dev[IFNAMSIZ + 1], in_vpn[64] = "";
	struct in6_addr a6;
	unsigned flags = 0;
	int v6 = inet_pton(AF_INET6, addr, &a6) == 1;

	if (vpn[0])
		snprintf(in_vpn, sizeof(in_vpn), " in VPN instance \"%s\"",
		    vpn);
	if (err == EINVAL && v6 && IN6_IS_ADDR_LINKLOCAL(&a6) && !vpn[0]) {
		snprintf(out, len, "is link-local: the kernel binds a "
		    "link-local address only on its device, and no host that "
		    "leaves from it names one (vpn_instance)");
		return;
	}
	if (err != EADDRNOTAVAIL) {
		snprintf(out, len, "cannot be bound%s: %s", in_vpn,
		    strerror(err));
		return;
	}
	if (v6 && inet6_addr_state(&a6, dev, sizeof(dev), &flags) == 0) {
		if (flags & HC_IFA_F_DADFAILED)
			snprintf(out, len, "failed duplicate address "
			    "detection on %s (another node has it): the "
			    "kernel does not bind it", dev);
		else if (flags & HC_IFA_F_TENTATIVE)
			snprintf(out, len, "is tentative on %s: duplicate "
			    "address detection has not finished (it runs "
			    "once the link is up), and the kernel binds it "
			    "only once it has", dev);
		else
			snprintf(out, len, "is on %s, which the kernel does "
			    "not let a socket%s bind", dev,
			    vpn[0] ? " of that VPN instance" :
				     " outside its VRF");
		return;
	}
	snprintf(out, len, "is not an address of this host%s", in_vpn);
}

/* A (source, VPN instance) pair already probed, so each warns once. */
struct probed {
	const struct conf_source *src;
	const char *vpn;
};

/*
 * The source host h of view `view` leaves from (conf_host_source: its
 * family's, the view's or the system's), bound as exportd binds it: in
 * the host's VPN instance. One warning per source and VPN instance.
 */
static void
check_host_source(const struct conf *c, const struct conf_view_export *ex,
    const struct conf_host *h, const char *view, struct probed *done,
    int *ndone, struct diags *d)
{
	const struct conf_source *src = conf_host_source(c, h, ex);
	char why[256];
	int i, err;

	if (src == NULL)
		return;
	/* a missing device is its host's warning */
	if (h->vpn[0] != '\0' && if_nametoindex(h->vpn) == 0)
		return;
	for (i = 0; i < *ndone; i++)
		if (done[i].src == src && strcmp(done[i].vpn, h->vpn) == 0)
			return;
	if (*ndone < HC_VPNS) {
		done[*ndone].src = src;
		done[(*ndone)++].vpn = h->vpn;
	}
	if ((err = bind_probe(src->address, h->vpn)) <= 0)
		return;
	why_not_local(src->address, h->vpn, err, why, sizeof(why));
	/* the view's own source, or the system's it takes */
	for (i = 0; i < CONF_FAMILIES && src != &ex->source[i]; i++)
		;
	diag_add(d, DIAG_WARNING, src->line,
	    "export source %s of %s %s: exportd cannot bind its socket to it, "
	    "so export from it fails until it can",
	    src->address, i < CONF_FAMILIES ? view : "the system view", why);
}

static void
check_view_sources(const struct conf *c, const struct conf_view_export *ex,
    const char *view, struct probed *done, int *ndone, struct diags *d)
{
	int i;

	for (i = 0; i < ex->n_hosts; i++)
		check_host_source(c, ex, &ex->hosts[i], view, done, ndone, d);
}

/*
 * A live interface whose device is not here. Its ifindex is fixed at
 * commit: without `ifindex`, the stand-in conf/plan.c gives it (1000 +
 * its place), until a commit after the device exists.
 */
static void
check_devices(const struct conf *c, struct diags *d)
{
	const struct conf_iface *ifc;
	char fix[160] = "";
	int i;

	for (i = 0; i < c->n_ifaces; i++) {
		ifc = &c->ifaces[i];
		if (ifc->device[0] == '\0' || if_nametoindex(ifc->device) != 0)
			continue;
		if (ifc->ifindex == 0)
			snprintf(fix, sizeof(fix), "; its flows carry ifindex "
			    "%u until a commit after it exists (or set "
			    "ifindex)", 1000 + (unsigned)i);
		diag_add(d, DIAG_WARNING, ifc->device_line ? ifc->device_line :
		    ifc->line, "interface %s: device \"%s\" is not a network "
		    "device on this host%s: sampled waits for it and captures "
		    "from when it appears (nsctl display interface shows it "
		    "waiting)%s", ifc->name, ifc->device,
		    strlen(ifc->device) >= IFNAMSIZ ?
			" (a device name has at most 15 characters)" : "",
		    ifc->ifindex == 0 ? fix : "");
	}
}

void
conf_host_checks(const struct conf *c, struct diags *d)
{
	struct probed done[HC_VPNS];
	char view[64];
	int i, ndone = 0;

	check_devices(c, d);
	check_vpns(&c->sys, "the system view", d);
	for (i = 0; i < c->n_slots; i++) {
		snprintf(view, sizeof(view), "slot %u", c->slots[i].id);
		check_vpns(&c->slots[i].ex, view, d);
	}
	for (i = 0; i < c->n_monitors; i++) {
		snprintf(view, sizeof(view), "monitor %s", c->monitors[i].name);
		check_vpns(&c->monitors[i].ex, view, d);
	}
	/* each host's source, in its VPN instance */
	check_view_sources(c, &c->sys, "the system view", done, &ndone, d);
	for (i = 0; i < c->n_slots; i++) {
		snprintf(view, sizeof(view), "slot %u", c->slots[i].id);
		check_view_sources(c, &c->slots[i].ex, view, done, &ndone, d);
	}
	for (i = 0; i < c->n_monitors; i++) {
		snprintf(view, sizeof(view), "monitor %s", c->monitors[i].name);
		check_view_sources(c, &c->monitors[i].ex, view, done, &ndone,
		    d);
	}
}
