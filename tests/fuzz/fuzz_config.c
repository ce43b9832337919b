/*
 * fuzz_config.c: a config text through what `nsctl validate` and cfgd's
 * commit run: conf_load_text, plan_compile, diags_render; a valid plan is
 * then packed (as cfgd publishes it) and rendered (`nsctl show effective`).
 * Everything is freed, so LeakSanitizer reports any leak on any path.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "conf.h"
#include "plan.h"
#include "util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* relative paths in the config (interface file, routes) resolve nowhere */
#define FUZZ_CWD "/nonexistent-netstreamd-fuzz"

static void
use_plan(Netstream__Plan *plan)
{
	Netstream__Plan *back;
	struct sbuf out;
	uint8_t *buf;
	size_t len;

	len = netstream__plan__get_packed_size(plan);
	buf = xmalloc(len);
	if (netstream__plan__pack(plan, buf) != len)
		abort();
	/* what every subscriber does with it */
	back = netstream__plan__unpack(NULL, len, buf);
	if (back == NULL)
		abort();
	sbuf_init(&out);
	plan_render(back, &out);
	sbuf_free(&out);
	netstream__plan__free_unpacked(back, NULL);
	free(buf);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	Netstream__Plan *plan = NULL;
	struct diags d;
	struct conf c;
	struct sbuf out;
	char *text;

	/* libconfig reads a C string; cfgd's callers hand it one too */
	text = xmalloc(size + 1);
	memcpy(text, data, size);
	text[size] = '\0';
	diags_init(&d, "fuzz.conf");
	if (conf_load_text(text, size, FUZZ_CWD, &c, &d) == 0)
		plan = plan_compile(&c, &d);
	/* a plan exactly when no error was reported: "valid" means it */
	if ((plan != NULL) != (d.errors == 0))
		abort();
	sbuf_init(&out);
	diags_render(&d, &out);
	if (out.len != strlen(out.s))
		abort();
	sbuf_free(&out);
	diags_free(&d);
	conf_free(&c);
	if (plan != NULL) {
		use_plan(plan);
		netstream__plan__free_unpacked(plan, NULL);
	}
	free(text);
	return 0;
}
