# The decoder is in libns; the encoder is linked to build real packets.
test_cdecode_UNITS := exportd/v9.c exportd/ipfix.c exportd/xpkt.c
