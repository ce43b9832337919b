# lib/wbuf.c comes with libns.a
test_wbuf_UNITS :=
