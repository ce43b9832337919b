# the decoder is pure: it needs nothing but itself
test_decode_UNITS := sampled/decode.c
