/*
 * sockwatch.c: when cfgd has bound its bus sockets, for `nsctl up` and
 * `nsctl run` (group.c): an inotify watch on the directories of its ipc
 * endpoints, instead of polling for the files. Once the last one is made
 * (cfgd binds them in this order), the others listen. Without inotify,
 * stat() says whether the files are there.
 */
#include <libgen.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <unistd.h>

#include "log.h"
#include "nsctl.h"
#include "util.h"

/* The file of an ipc:// endpoint, NULL for tcp:// and the like. */
static const char *
ipc_path(const char *endpoint)
{
	return strncmp(endpoint, "ipc://", 6) == 0 ? endpoint + 6 : NULL;
}

static const char *
cfgd_ep(const struct sockwatch *w, int i)
{
	const char *e[SOCKWATCH_EPS] = { w->ep->control, w->ep->plan,
		w->ep->stats_in, w->ep->stats };

	return i < SOCKWATCH_EPS ? ipc_path(e[i]) : NULL;
}

static int
same_name(const char *path, const char *name)
{
	const char *b = strrchr(path, '/');

	return strcmp(b != NULL ? b + 1 : path, name) == 0;
}

void
sockwatch_open(struct sockwatch *w, const struct bus_endpoints *ep)
{
	char dir[BUS_ENDPOINT_MAX];
	int i;

	memset(w, 0, sizeof(*w));
	w->ep = ep;
	w->ino = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
	for (i = 0; i < SOCKWATCH_EPS && w->ino != -1; i++) {
		if (cfgd_ep(w, i) == NULL)
			continue;
		ns_strlcpy(dir, cfgd_ep(w, i), sizeof(dir));
		if (inotify_add_watch(w->ino, dirname(dir),
		    IN_CREATE | IN_MOVED_TO) == -1) {
			log_warn("inotify %s: polling instead", dir);
			sockwatch_close(w);
		}
	}
}

void
sockwatch_close(struct sockwatch *w)
{
	if (w->ino != -1)
		close(w->ino);
	w->ino = -1;
}

/* cfgd (re)starts: the sockets it makes from now on count. */
void
sockwatch_reset(struct sockwatch *w)
{
	w->made = 0;
}

/* Notes the sockets made since the last call. */
void
sockwatch_read(struct sockwatch *w)
{
	char buf[4096]
	    __attribute__((aligned(__alignof__(struct inotify_event))));
	ssize_t len;
	char *p;
	int i;

	if (w->ino == -1)
		return;
	while ((len = read(w->ino, buf, sizeof(buf))) > 0)
		for (p = buf; p < buf + len;
		    p += sizeof(struct inotify_event) +
		    ((struct inotify_event *)p)->len) {
			const struct inotify_event *ev =
			    (const struct inotify_event *)p;

			for (i = 0; i < SOCKWATCH_EPS && ev->len > 0; i++)
				if (cfgd_ep(w, i) != NULL &&
				    same_name(cfgd_ep(w, i), ev->name))
					w->made |= 1u << i;
		}
}

/* Every ipc socket of cfgd was made (a tcp one counts as made). */
int
sockwatch_cfgd_bound(const struct sockwatch *w)
{
	struct stat st;
	int i;

	for (i = 0; i < SOCKWATCH_EPS; i++)
		if (cfgd_ep(w, i) != NULL &&
		    (w->ino != -1 ? !(w->made & (1u << i)) :
		    stat(cfgd_ep(w, i), &st) == -1))
			return 0;
	return 1;
}
