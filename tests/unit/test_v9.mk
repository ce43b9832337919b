# xpkt.c drives both format files, so both are linked
test_v9_UNITS := exportd/v9.c exportd/ipfix.c exportd/xpkt.c
