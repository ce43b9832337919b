# the cache and the field writer; push_row is stubbed to record the rows
test_cache_UNITS := sampled/cache.c sampled/fields.c
