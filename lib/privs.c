/*
 * privs.c: a daemon keeps only the capabilities it names and can never
 * gain more: everything it parses comes from the bus or the network
 * (sampled keeps CAP_NET_RAW and CAP_NET_ADMIN for a live capture, as any
 * plan may add a device; cfgd and exportd say what they keep in theirs).
 *
 * capset(2), PR_CAPBSET_DROP and PR_SET_NO_NEW_PRIVS change the calling
 * thread only: a thread that exists at the drop keeps all it had. So the
 * drop comes first, while the process is one thread, before the bus (libzmq
 * starts its I/O and reaper threads, which parse what the network sends,
 * with the context's first socket; lib/monitor.c a thread per tcp://
 * socket), sampled's workers, cfgd's ZAP handler and anything else;
 * every thread made after it
 * inherits the reduced sets. The other way, broadcasting the drop to
 * every thread by a signal (as glibc does for setuid, libpsx for
 * capabilities), cannot reach libzmq's threads: they block every signal
 * (sigfillset) for their whole life, and only glibc's own internal
 * signals get through that; libpsx, besides, knows only the threads made
 * through its wrapped pthread_create, which libzmq's are not. The price
 * of dropping first: every file is opened, the first as any later one,
 * without CAP_DAC_OVERRIDE (as the file system lets the process's user).
 * privs_drop refuses to say it dropped anything while another thread
 * exists.
 */
#include <dirent.h>
#include <errno.h>
#include <linux/capability.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "log.h"
#include "privs.h"

/* The threads of the process (/proc/self/task), -1 when unknown. */
static int
threads(void)
{
	DIR *d;
	struct dirent *e;
	int n = 0;

	if ((d = opendir("/proc/self/task")) == NULL)
		return -1;
	while ((e = readdir(d)) != NULL)
		if (e->d_name[0] != '.')
			n++;
	closedir(d);
	return n;
}

/* keep: a mask of 1ULL << CAP_... */
int
privs_drop(uint64_t keep, char *err, size_t errlen)
{
	struct __user_cap_header_struct h = { _LINUX_CAPABILITY_VERSION_3, 0 };
	struct __user_cap_data_struct d[2];
	unsigned cap;
	int n;

	/* what another thread holds, this one cannot take from it */
	if ((n = threads()) != 1) {
		if (n == -1)
			snprintf(err, errlen, "/proc/self/task: %s",
			    strerror(errno));
		else
			snprintf(err, errlen, "%d threads already run: they "
			    "would keep every capability", n);
		return -1;
	}
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) == -1) {
		snprintf(err, errlen, "no_new_privs: %s", strerror(errno));
		return -1;
	}
	/* the bounding set: what not even an exec could get back */
	for (cap = 0; cap < 64; cap++)
		if (!(keep & (1ULL << cap)) &&
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
	d[0].effective &= (uint32_t)keep;
	d[0].permitted &= (uint32_t)keep;
	d[1].effective &= (uint32_t)(keep >> 32);
	d[1].permitted &= (uint32_t)(keep >> 32);
	d[0].inheritable = d[1].inheritable = 0;
	if (syscall(SYS_capset, &h, d) == -1) {
		snprintf(err, errlen, "capset: %s", strerror(errno));
		return -1;
	}
	/* lowering the inheritable set empties it already; said, not assumed
	 * (EINVAL: a kernel before 4.3 has no ambient set) */
	if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) == -1 &&
	    errno != EINVAL) {
		snprintf(err, errlen, "clear ambient capabilities: %s",
		    strerror(errno));
		return -1;
	}
	return 0;
}
