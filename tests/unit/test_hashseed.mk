# the flow cache's hash secret; getrandom() is wrapped to see where it comes from
test_hashseed_UNITS := sampled/cache.c sampled/fields.c
$(B)/tests/test_hashseed: LDFLAGS += -Wl,--wrap=getrandom
