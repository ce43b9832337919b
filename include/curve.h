/* curve.h: CURVE security for tcp:// bus endpoints: key files, ZAP handler. */
#ifndef NS_CURVE_H
#define NS_CURVE_H

#include <stddef.h>
#include <stdint.h>

#define CURVE_DEFAULT_DIR "/etc/netstreamd/curve"
#define CURVE_Z85_LEN 40 /* a 32-byte key as Z85 text */
#define CURVE_KEY_LEN 32
#define CURVE_SERVER_SECRET "server.key"
#define CURVE_SERVER_PUBLIC "server.pub"
#define CURVE_CLIENT_SECRET "client.key"
#define CURVE_CLIENT_PUBLIC "client.pub"
#define CURVE_AUTHORIZED "authorized" /* one *.pub per allowed client */
#define CURVE_DOMAIN "netstreamd"

enum curve_role { CURVE_CLIENT, CURVE_SERVER };

/* curve.c */
const char *curve_dir(void);
int curve_apply(void *sock, enum curve_role role, char *errbuf,
    size_t errlen);
int curve_apply_slot(void *sock, unsigned slot, char *errbuf, size_t errlen);
int curve_parse_key(const char *text, size_t len,
    char z85[CURVE_Z85_LEN + 1]);
int curve_read_key(const char *path, int secret, char z85[CURVE_Z85_LEN + 1],
    char *errbuf, size_t errlen);

/* zap.c */
int zap_start(void *ctx, const char *dir, char *errbuf, size_t errlen);
uint64_t zap_refused(void);

#endif
