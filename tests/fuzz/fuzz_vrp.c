/*
 * fuzz_vrp.c: VRP command lines through what `nsctl vrp import` runs:
 * vrp_parse, then (when they read) conf_write and conf_load_text of the
 * text written, which must validate as far as the parse went: a text
 * libconfig cannot read is a bug of the writer (abort). The conf is
 * also written back as vendor lines (`nsctl vrp export`). Everything is
 * freed, so LeakSanitizer reports any leak on any path.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "conf.h"
#include "util.h"
#include "vrp.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* the written text is read by libconfig: a syntax error is the writer's */
static void
read_back(const struct sbuf *text)
{
	struct diags d;
	struct conf c;
	size_t i;

	diags_init(&d, "fuzz");
	conf_load_text(text->s, text->len, "/nonexistent-netstreamd-fuzz", &c,
	    &d);
	for (i = 0; i < d.n; i++)
		if (strstr(d.v[i].text, "(libconfig: settings end") != NULL)
			abort();
	diags_free(&d);
	conf_free(&c);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	int lines[CW_N] = { 0 }, *map = NULL;
	struct sbuf text, vrp;
	struct diags d;
	struct conf c;
	size_t n_map = 0;

	if (size > 65536)
		return 0;
	diags_init(&d, "fuzz");
	conf_defaults(&c);
	if (vrp_parse((const char *)data, size, &c, lines, &d) == 0) {
		sbuf_init(&text);
		conf_write(&c, lines, &text, &map, &n_map);
		read_back(&text);
		sbuf_init(&vrp);
		vrp_write(&c, &vrp);
		sbuf_free(&vrp);
		sbuf_free(&text);
		free(map);
	}
	diags_free(&d);
	conf_free(&c);
	return 0;
}
