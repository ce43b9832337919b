# exportd's times as each format carries them (exportd/times.c)
test_times_UNITS := exportd/times.c exportd/xpkt.c exportd/v9.c exportd/ipfix.c
$(B)/tests/unit/test_times.o: CFLAGS += -Iexportd
