# SHA-256 and the routes file's digest (lib/, in libns)
test_routes_UNITS :=
