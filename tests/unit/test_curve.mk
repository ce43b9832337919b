# lib/curve.c and lib/zap.c come with libns.a (and libzmq with LDLIBS)
test_curve_UNITS :=
