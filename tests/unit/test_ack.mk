# exportd's hand-over state over the real export path (UDP to loopback)
test_ack_UNITS := exportd/ack.c exportd/dest.c exportd/send.c exportd/times.c exportd/stream.c \
                  exportd/options.c exportd/xpkt.c exportd/v9.c exportd/ipfix.c
$(B)/tests/unit/test_ack.o: CFLAGS += -Iexportd
