# cache.c is included by the test itself (with CACHE_TAG_SWAR)
test_cache_swar_UNITS := sampled/fields.c
