/* spec.c: pcapgen's spec mode: a text file, one packet (or run) a line. */
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "pcapgen.h"
#include "util.h"

static int
parse_u32(const char *s, uint32_t max, uint32_t *v)
{
	char *end;
	unsigned long long x;

	errno = 0;
	x = strtoull(s, &end, 0);
	if (errno || end == s || *end != '\0' || x > max)
		return -1;
	*v = (uint32_t)x;
	return 0;
}

static int
parse_secs(const char *s, uint64_t *us)
{
	char *end;
	double d;

	errno = 0;
	d = strtod(s, &end);
	/* a pcap file's seconds are 32 bits without sign: to 2106 */
	if (errno || end == s || *end != '\0' || d < 0 || d >= 4294967296.0)
		return -1;
	*us = (uint64_t)llround(d * 1e6);
	return 0;
}

static int
parse_flags(const char *s, uint8_t *v)
{
	static const char letters[] = "FSRPAUEC";
	uint32_t n;
	const char *c;

	if (isdigit((unsigned char)*s)) {
		if (parse_u32(s, 255, &n) < 0)
			return -1;
		*v = (uint8_t)n;
		return 0;
	}
	for (*v = 0; *s; s++) {
		if (*s == '.')
			continue;
		if ((c = strchr(letters, toupper((unsigned char)*s))) == NULL)
			return -1;
		*v |= (uint8_t)(1u << (c - letters));
	}
	return 0;
}

static int
parse_proto(const char *s, uint8_t *v)
{
	static const struct {
		const char *name;
		uint8_t proto;
	} names[] = {
	    {"tcp", 6},	    {"udp", 17},  {"sctp", 132}, {"icmp6", 58},
	    {"icmpv6", 58}, {"icmp", 58}, {"esp", 50},	 {"none", 59},
	};
	uint32_t n;
	size_t i;

	for (i = 0; i < NELEM(names); i++)
		if (strcmp(s, names[i].name) == 0) {
			*v = names[i].proto;
			return 0;
		}
	if (parse_u32(s, 255, &n) < 0)
		return -1;
	*v = (uint8_t)n;
	return 0;
}

static int
parse_ext(const char *s, struct gpkt *g)
{
	static const char *const names[] = {
	    [X_HOP] = "hop", [X_DST] = "dst", [X_RH] = "rh",
	    [X_AH] = "ah",   [X_MOB] = "mob", [X_FRAG] = "frag",
	};
	char tok[16];
	size_t i, n;

	while (*s) {
		n = strcspn(s, ",");
		if (n == 0 || n >= sizeof(tok))
			return -1;
		memcpy(tok, s, n);
		tok[n] = '\0';
		for (i = 0; i < NELEM(names); i++)
			if (strcmp(tok, names[i]) == 0)
				break;
		if (i == NELEM(names) || g->next == MAX_EXT)
			return -1;
		g->ext[g->next++] = (enum ext)i;
		s += n + (s[n] == ',');
	}
	return 0;
}

static int
parse_addr(const char *s, int v4, uint8_t *a)
{
	memset(a, 0, 16);
	return inet_pton(v4 ? AF_INET : AF_INET6, s, a) == 1 ? 0 : -1;
}

/* Per-line state the words fill before the packet is built. */
struct line {
	struct gpkt g;
	const char *src, *dst;
	uint32_t repeat, vlan, qinq, stag;
	int has_vlan, has_qinq, has_t, link;
	uint64_t t, gap;
	char frag[8];
	int fragoff_set, more_set;
};

/* one key=value word; returns -1 with errbuf set */
static int
line_word(struct line *l, char *word, char *errbuf, size_t errlen)
{
	struct gpkt *g = &l->g;
	char *v = strchr(word, '=');
	uint32_t n = 0;
	int bad = 0;

	if (v == NULL) {
		snprintf(errbuf, errlen, "'%s' is not key=value", word);
		return -1;
	}
	*v++ = '\0';
	if (strcmp(word, "t") == 0)
		bad = parse_secs(v, &l->t), l->has_t = 1;
	else if (strcmp(word, "gap") == 0)
		bad = parse_secs(v, &l->gap);
	else if (strcmp(word, "repeat") == 0)
		bad = parse_u32(v, 100000000, &l->repeat);
	else if (strcmp(word, "link") == 0)
		bad = (l->link = parse_link(v)) < 0;
	else if (strcmp(word, "src") == 0)
		l->src = v;
	else if (strcmp(word, "dst") == 0)
		l->dst = v;
	else if (strcmp(word, "v4") == 0)
		bad = parse_u32(v, 1, &n), g->v4 = (int)n;
	else if (strcmp(word, "proto") == 0)
		bad = parse_proto(v, &g->proto);
	else if (strcmp(word, "sport") == 0)
		bad = parse_u32(v, 65535, &n), g->sport = (uint16_t)n;
	else if (strcmp(word, "dport") == 0)
		bad = parse_u32(v, 65535, &n), g->dport = (uint16_t)n;
	else if (strcmp(word, "flags") == 0)
		bad = parse_flags(v, &g->flags);
	else if (strcmp(word, "icmp") == 0) {
		unsigned t = 0, c = 0;
		char extra;
		bad = sscanf(v, "%u/%u%c", &t, &c, &extra) != 2 || t > 255 ||
		      c > 255;
		g->icmp_type = (uint8_t)t, g->icmp_code = (uint8_t)c;
		g->proto = IPPROTO_ICMPV6;
	} else if (strcmp(word, "len") == 0)
		bad = parse_u32(v, 1 << 20, &g->len);
	else if (strcmp(word, "tc") == 0)
		bad = parse_u32(v, 255, &n), g->tc = (uint8_t)n;
	else if (strcmp(word, "label") == 0)
		bad = parse_u32(v, 0xfffff, &g->label);
	else if (strcmp(word, "hlim") == 0)
		bad = parse_u32(v, 255, &n), g->hlim = (uint8_t)n;
	else if (strcmp(word, "vlan") == 0)
		bad = parse_u32(v, 4095, &l->vlan), l->has_vlan = 1;
	else if (strcmp(word, "qinq") == 0)
		bad = parse_u32(v, 4095, &l->qinq), l->has_qinq = 1;
	else if (strcmp(word, "stag") == 0)
		bad = parse_u32(v, 65535, &l->stag) ||
		      (l->stag != 0x88a8 && l->stag != 0x9100 &&
		       l->stag != 0x8100);
	else if (strcmp(word, "ext") == 0)
		bad = parse_ext(v, g);
	else if (strcmp(word, "frag") == 0)
		bad =
		    ns_strlcpy(l->frag, v, sizeof(l->frag)) >= sizeof(l->frag);
	else if (strcmp(word, "id") == 0)
		bad = parse_u32(v, UINT32_MAX, &g->frag_id);
	else if (strcmp(word, "fragoff") == 0) {
		bad = parse_u32(v, 65528, &n) || (n & 7);
		g->frag_off = (uint16_t)n;
		l->fragoff_set = 1;
	} else if (strcmp(word, "more") == 0)
		bad = parse_u32(v, 1, &n), g->more = (int)n, l->more_set = 1;
	else if (strcmp(word, "ethertype") == 0) {
		bad = parse_u32(v, 65535, &n) || n < 0x600;
		g->ethertype = (uint16_t)n;
	} else if (strcmp(word, "truncate") == 0)
		bad = parse_u32(v, FRAME_MAX, &g->truncate);
	else {
		snprintf(errbuf, errlen, "unknown key '%s' (see pcapgen -h)",
			 word);
		return -1;
	}
	if (bad) {
		snprintf(errbuf, errlen, "bad value '%s' for %s", v, word);
		return -1;
	}
	return 0;
}

/* what the words leave for the packet: defaults, addresses, fragments */
static int
line_finish(struct line *l, char *errbuf, size_t errlen)
{
	struct gpkt *g = &l->g;
	int i, has_frag = 0;

	if (parse_addr(l->src  ? l->src
		       : g->v4 ? "192.0.2.1"
			       : "2001:db8::1",
		       g->v4, g->src) < 0 ||
	    parse_addr(l->dst  ? l->dst
		       : g->v4 ? "192.0.2.2"
			       : "2001:db8::2",
		       g->v4, g->dst) < 0) {
		snprintf(errbuf, errlen, "bad %s address",
			 g->v4 ? "IPv4" : "IPv6");
		return -1;
	}
	if (l->has_qinq) {
		g->tpid[g->nvlan] = (uint16_t)(l->stag ? l->stag : 0x88a8);
		g->vid[g->nvlan++] = (uint16_t)l->qinq;
	}
	if (l->has_vlan) {
		g->tpid[g->nvlan] = 0x8100;
		g->vid[g->nvlan++] = (uint16_t)l->vlan;
	}
	if (strcmp(l->frag, "first") == 0)
		g->frag = FRAG_FIRST;
	else if (strcmp(l->frag, "next") == 0)
		g->frag = FRAG_NEXT;
	else if (l->frag[0] && strcmp(l->frag, "none") != 0) {
		snprintf(errbuf, errlen, "frag=%s: none, first or next",
			 l->frag);
		return -1;
	}
	for (i = 0; i < g->next; i++)
		has_frag |= g->ext[i] == X_FRAG;
	if (has_frag && g->frag == FRAG_NONE)
		g->frag = FRAG_FIRST;
	if (g->frag != FRAG_NONE && !has_frag) {
		if (g->next == MAX_EXT) {
			snprintf(errbuf, errlen, "too many extension headers");
			return -1;
		}
		g->ext[g->next++] = X_FRAG;
	}
	if (g->frag == FRAG_NEXT && !l->fragoff_set)
		g->frag_off = 1232;
	if (!l->more_set)
		g->more = g->frag == FRAG_FIRST;
	if (g->v4 && (g->next || g->proto == IPPROTO_ICMPV6)) {
		snprintf(errbuf, errlen, "v4=1 takes no ext=, frag= or icmp=");
		return -1;
	}
	return 0;
}

static void
line_init(struct line *l)
{
	memset(l, 0, sizeof(*l));
	l->g.proto = IPPROTO_TCP;
	l->g.sport = 1024;
	l->g.dport = 80;
	l->g.hlim = 64;
	l->g.frag_id = 1;
	l->repeat = 1;
	l->gap = 1000;
	l->link = -1;
}

static int
spec_line(struct out *o, char *s, uint64_t *clock, char *errbuf, size_t errlen)
{
	static const char *const ws = " \t\r\n";
	struct line l;
	char *word, *save = NULL;
	size_t len, cap;
	uint32_t i;
	int words = 0, only_link = 1;

	line_init(&l);
	s[strcspn(s, "#")] = '\0';
	for (word = strtok_r(s, ws, &save); word;
	     word = strtok_r(NULL, ws, &save)) {
		words++;
		if (strncmp(word, "link=", 5) != 0)
			only_link = 0;
		if (line_word(&l, word, errbuf, errlen) < 0)
			return -1;
	}
	if (words == 0)
		return 0;
	if (l.link >= 0) {
		if (o->link >= 0 && o->link != l.link) {
			snprintf(errbuf, errlen,
				 "link=%s: the file is already "
				 "%s (one link type per pcap)",
				 links[l.link].name, links[o->link].name);
			return -1;
		}
		o->link = l.link;
	}
	if (only_link)
		return 0;
	if (o->link < 0)
		o->link = L_ETH;
	if (line_finish(&l, errbuf, errlen) < 0)
		return -1;
	if (l.has_t) {
		if (l.t < *clock && o->packets > 0)
			log_warnx("t=%.6f goes back before the previous "
				  "packet's time plus gap",
				  l.t / 1e6);
		*clock = l.t;
	}
	len = build_frame(&l.g, o->link, frame, sizeof(frame), sizeof(frame),
			  errbuf, errlen);
	if (len == 0)
		return -1;
	cap = l.g.truncate && l.g.truncate < len ? l.g.truncate : len;
	for (i = 0; i < l.repeat; i++) {
		out_write(o, *clock, cap, len);
		*clock += l.gap;
	}
	return 0;
}

int
spec_mode(const char *spec, struct out *o)
{
	char errbuf[256], *buf = NULL;
	size_t bufcap = 0;
	uint64_t clock = 0;
	unsigned lineno = 0;
	FILE *fp;

	if ((fp = fopen(spec, "r")) == NULL) {
		log_warn("%s", spec);
		return 1;
	}
	while (getline(&buf, &bufcap, fp) > 0) {
		lineno++;
		if (spec_line(o, buf, &clock, errbuf, sizeof(errbuf)) < 0) {
			log_warnx("%s:%u: %s", spec, lineno, errbuf);
			free(buf);
			fclose(fp);
			out_discard(o);
			return 1;
		}
	}
	free(buf);
	fclose(fp);
	out_close(o);
	return 0;
}
