# xpkt.c drives both format files, so both are linked; the pcap test writes
# a v9 packet as well. libpcap comes with LDLIBS.
test_ipfix_UNITS := exportd/ipfix.c exportd/v9.c exportd/xpkt.c exportd/times.c
$(B)/tests/unit/test_ipfix.o: CFLAGS += -Iexportd
