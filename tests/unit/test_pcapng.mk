# the pcapng direction-flags walk (lib/pcapng.c, in libns)
test_pcapng_UNITS :=
