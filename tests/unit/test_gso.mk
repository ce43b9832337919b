# a super-packet as its segments: gso.c, each segment decoded for real;
# capture_live_packet is stubbed to record them
test_gso_UNITS := sampled/gso.c sampled/decode.c
