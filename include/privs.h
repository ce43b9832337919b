/* privs.h: keep only the named capabilities, while one thread (privs.c). */
#ifndef NS_PRIVS_H
#define NS_PRIVS_H

#include <stddef.h>
#include <stdint.h>

/* privs.c */
int privs_drop(uint64_t keep, char *err, size_t errlen);

#endif
