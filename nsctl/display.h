/* display.h: what the parts of `nsctl display` share (nsctl/display*.c). */
#ifndef NSCTL_DISPLAY_H
#define NSCTL_DISPLAY_H

#include <stdint.h>

#include "nsctl.h"

#define STATS_WAIT_MS 3000 /* one sample of each process, at most this */
#define MAX_PROCS 64
#define TOP_DEFAULT 20
#define TOP_MAX 1000
#define TBL_MAX_COLS 16

struct dopts {
	int json;
	int slot; /* -1: every slot */
	long top;
	const char *record; /* "": every record */
	const char *name;   /* a monitor or interface, NULL: every one */
};

/* The latest stats sample of each process (exportd, sampled per slot). */
struct samples {
	Netstream__Stats *s[MAX_PROCS];
	size_t n;
	int want_cfgd; /* cfgd's too (display_collect waits for it) */
};

/* A slot as cfgd's sample says (display_slot.c). */
struct liveness {
	int known, connected;
	int64_t last_s; /* unix seconds of its last sample; 0: never */
	int64_t at_ms;	/* of cfgd's sample */
};

/* Cells row-major; the first row is the header. Printed and freed at once. */
struct table {
	char **cell;
	size_t ncol, n, cap;
	unsigned left; /* bit i: column i is left-aligned */
};

static inline unsigned long long
ull(uint64_t v)
{
	return (unsigned long long)v;
}

/* display.c */
void tbl_init(struct table *t, size_t ncol, unsigned left);
void tbl_cell(struct table *t, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
void tbl_free(struct table *t);
void tbl_print(struct table *t, const char *indent);
void json_string(const char *s);
const char *display_field_name(unsigned type);
int display_get_plan(struct nsctl *n, Netstream__Envelope **env);
void display_collect(struct nsctl *n, const Netstream__Plan *p, int slot,
    struct samples *sm);
Netstream__Stats *sample_of(const struct samples *sm, const char *process,
    unsigned slot);
void samples_free(struct samples *sm);
const char *label_of(const Netstream__Counter *c, const char *key);
uint64_t stats_sum(const Netstream__Stats *s, const char *name,
    const char *k1, const char *v1, const char *k2, const char *v2);
uint64_t template_count(const Netstream__Stats *xd, const char *name,
    unsigned id);

/* display_stats.c */
int display_statistics(struct nsctl *n, const struct dopts *o);
int display_template(struct nsctl *n, const struct dopts *o);

/* display_cache.c */
int slot_ask(struct nsctl *n, Netstream__CacheRequest *rq,
    Netstream__Envelope **reply);
int display_cache(struct nsctl *n, const struct dopts *o);

/* display_iface.c */
int display_interface(struct nsctl *n, const struct dopts *o);

/* display_slot.c */
void liveness_of(const Netstream__Stats *cfgd, unsigned id,
    struct liveness *l);
const char *liveness_state(const struct liveness *l);
void liveness_text(const struct liveness *l, char *out, size_t len);
void stats_slots_print(const Netstream__Stats *cfgd);
int display_slot(struct nsctl *n, const struct dopts *o);
void slot_liveness_note(struct nsctl *n, unsigned id);

#endif
