/*
 * test_cache_swar.c: test_cache's tests over the hash groups' portable
 * tag match (what a build without SSE2 runs), cache.c compiled in here
 * with CACHE_TAG_SWAR.
 */
#define CACHE_TAG_SWAR 1
#include "../../sampled/cache.c"
#include "test_cache.c"
