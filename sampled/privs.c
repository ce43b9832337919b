/*
 * privs.c: once its captures are open, sampled keeps only the two
 * capabilities a live capture needs (a later plan may add a device) and
 * can never gain more: everything it parses comes from the network.
 */
#include <errno.h>
#include <linux/capability.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "log.h"
#include "sampled.h"

#define KEEP_CAPS ((1ULL << CAP_NET_RAW) | (1ULL << CAP_NET_ADMIN))

int
privs_drop(char *err, size_t errlen)
{
	struct __user_cap_header_struct h = { _LINUX_CAPABILITY_VERSION_3, 0 };
	struct __user_cap_data_struct d[2];
	unsigned cap;

	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) == -1) {
		snprintf(err, errlen, "no_new_privs: %s", strerror(errno));
		return -1;
	}
	/* the bounding set: what not even an exec could get back */
	for (cap = 0; cap < 64; cap++)
		if (!(KEEP_CAPS & (1ULL << cap)) &&
		    prctl(PR_CAPBSET_READ, cap, 0, 0, 0) == 1 &&
		    prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) == -1 &&
		    errno != EPERM) {
			snprintf(err, errlen, "drop capability %u: %s", cap,
			    strerror(errno));
			return -1;
		}
	if (syscall(SYS_capget, &h, d) == -1) {
		snprintf(err, errlen, "capget: %s", strerror(errno));
		return -1;
	}
	d[0].effective &= (uint32_t)KEEP_CAPS;
	d[0].permitted &= (uint32_t)KEEP_CAPS;
	d[0].inheritable = 0;
	d[1].effective = d[1].permitted = d[1].inheritable = 0;
	if (syscall(SYS_capset, &h, d) == -1) {
		snprintf(err, errlen, "capset: %s", strerror(errno));
		return -1;
	}
	return 0;
}
