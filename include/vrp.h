/*
 * vrp.h: the vendor's (VRP) command lines, read into a struct conf
 * (`nsctl vrp import`) and written from one (`nsctl vrp export`,
 * `nsctl display current-configuration`).
 */
#ifndef NS_VRP_H
#define NS_VRP_H

#include <stddef.h>

#include "conf.h"
#include "util.h"

/* a record field as the vendor's record view names it */
struct vrp_field {
	const char *field;    /* our name (fields.c) */
	const char *words[3]; /* after match/collect; NULL-ended */
	int alias;            /* read, never written */
};

/* conf/vrp_fields.c */
const struct vrp_field *vrp_field_at(size_t i); /* NULL past the end */
const struct vrp_field *vrp_field_of(const char *field); /* not an alias */

/* what the importer reads besides the text */
struct vrp_opts {
	int host_checks;
};

/* nsctl/vrp_import.c: the lines into c (conf_defaults() first); every
 * problem an error at its line in d; lines[CW_N] the lines that set the
 * system settings; -1 when any is an error */
int vrp_parse(const char *text, size_t len, struct conf *c, int *lines,
    struct diags *d);

/* nsctl/vrp_export.c */
void vrp_write(const struct conf *c, struct sbuf *out);

#endif
