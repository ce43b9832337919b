/*
 * test_routes.c: SHA-256 against the FIPS 180-4 examples (NIST CSRC
 * "Example Values": SHA256.pdf, SHA256_2.pdf; one million "a"), and the
 * routes file's digest: of its bytes as they were read and parsed.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "routes.h"
#include "sha256.h"

static void
hex(const uint8_t *d, char *out)
{
	for (int i = 0; i < SHA256_LEN; i++)
		snprintf(out + 2 * i, 3, "%02x", d[i]);
}

static void
fips_examples(void **state)
{
	static const char *two =
	    "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq";
	uint8_t d[SHA256_LEN];
	char h[65];
	char *million = malloc(1000000);

	(void)state;
	sha256("abc", 3, d);
	hex(d, h);
	assert_string_equal(h, "ba7816bf8f01cfea414140de5dae2223"
	    "b00361a396177a9cb410ff61f20015ad");
	sha256(two, strlen(two), d);
	hex(d, h);
	assert_string_equal(h, "248d6a61d20638b8e5c026930c3e6039"
	    "a33ce45964ff2167f6ecedd419db06c1");
	sha256("", 0, d);
	hex(d, h);
	assert_string_equal(h, "e3b0c44298fc1c149afbf4c8996fb924"
	    "27ae41e4649b934ca495991b7852b855");
	assert_non_null(million);
	memset(million, 'a', 1000000);
	sha256(million, 1000000, d);
	hex(d, h);
	assert_string_equal(h, "cdc76e5c9914fb9281a1c7e284d73e67"
	    "f1809a48a497200e046d39ccc7112cd0");
	free(million);
}

static void
write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

/* the digest is of the bytes read: one byte more, another digest */
static void
digest_of_the_file(void **state)
{
	static const char *a = "2001:db8::/32 fe80::1 - 65001 64501\n";
	static const char *b = "2001:db8::/32 fe80::1 - 65001 64501 \n";
	char path[] = "/tmp/test_routes.XXXXXX", err[256];
	uint8_t want[SHA256_LEN], got[SHA256_LEN], got2[SHA256_LEN];
	struct routes rt;
	size_t n = 0;
	int fd = mkstemp(path);

	(void)state;
	assert_true(fd >= 0);
	close(fd);
	write_file(path, a);
	sha256(a, strlen(a), want);
	assert_int_equal(routes_digest(path, got, &n, err, sizeof(err)), 0);
	assert_memory_equal(got, want, SHA256_LEN);
	assert_int_equal(n, 1);
	assert_int_equal(routes_load(path, &rt, err, sizeof(err)), 0);
	assert_memory_equal(rt.digest, want, SHA256_LEN);
	routes_free(&rt);
	write_file(path, b);
	assert_int_equal(routes_digest(path, got2, &n, err, sizeof(err)), 0);
	assert_memory_not_equal(got, got2, SHA256_LEN);
	write_file(path, "2001:db8::/32 nope\n");
	assert_int_equal(routes_digest(path, got2, &n, err, sizeof(err)), -1);
	unlink(path);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(fips_examples),
		cmocka_unit_test(digest_of_the_file),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
