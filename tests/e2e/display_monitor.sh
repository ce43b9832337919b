#!/usr/bin/env bash
# nsctl display monitor NAME of a monitor that does not take effect
# (issue 16, b): it shows the record and the hosts the monitor is
# configured with (each host's address, port, dscp, VPN instance and the
# source it would leave from, its own or the system's) and why it takes
# effect nowhere: m2 is bound to a direction without netstream, m3 is
# bound to none, m4 has no export host; m1 takes effect. Every expected
# value is the config's text, as this test writes it. Only cfgd runs:
# display monitor reads the running plan.
source "$(dirname "$0")/../lib.sh"
cd "$ROOT" || exit 1
watchdog 30
SYS_SRC=2001:db8:66::1 SYS_SPORT=40000
M2_SRC=2001:db8:77::1 M2_SPORT=40002 M2_HOST=2001:db8:77::2 M2_PORT=2055
M2_DSCP=12 M2_VPN=red
M3_HOST=2001:db8:66::103 M3_PORT=9997
cat >$T/m.conf <<CONF
system = { export = { source = { address = "$SYS_SRC"; port = $SYS_SPORT; };
                      hosts = ( { address = "2001:db8:66::100"; port = 9995; } ); };
           apply_record = "r1"; };
records = ( { name = "r1"; match = [ "source-address" ]; collect = [ "packets" ]; },
            { name = "r2"; match = [ "destination-address" ]; collect = [ "bytes" ]; } );
monitors = (
  { name = "m1"; apply_record = "r1";
    hosts = ( { address = "2001:db8:66::101"; port = 9996; } ); },
  { name = "m2"; apply_record = "r2";
    source = { address = "$M2_SRC"; port = $M2_SPORT; };
    hosts = ( { address = "$M2_HOST"; port = $M2_PORT; dscp = $M2_DSCP;
                vpn_instance = "$M2_VPN"; } ); },
  { name = "m3"; apply_record = "r2";
    hosts = ( { address = "$M3_HOST"; port = $M3_PORT; } ); },
  { name = "m4"; apply_record = "r2"; } );
interfaces = (
  { name = "GigabitEthernet1/0/0"; device = "nsdev$$a"; netstream = [ "inbound" ];
    monitors = ( { name = "m1"; direction = "inbound"; },
                 { name = "m2"; direction = "outbound"; } ); },
  { name = "GigabitEthernet1/0/1"; device = "nsdev$$b"; netstream = [ "inbound" ];
    monitors = ( { name = "m4"; direction = "inbound"; } ); } );
CONF
start_cfgd
"$NSCTL" commit -c $T/m.conf >$T/commit.out 2>&1 || fail "commit: $(cat $T/commit.out)"

show() { # show NAME: display monitor NAME into $T/NAME.txt, its exit code
	"$NSCTL" display monitor "$1" >$T/$1.txt 2>$T/$1.err
}
has() { grep -qE -- "$2" "$T/$1.txt"; }
for m in m1 m2 m3 m4; do
	show $m
	check "display monitor $m: exit 0" [ $? -eq 0 ]
	check "display monitor $m: that monitor only" \
		[ "$(grep -c '^Monitor ' $T/$m.txt)" = 1 ]
done
check "m1: effective" has m1 '^   State: effective$'

# m2: bound to GigabitEthernet1/0/0 outbound, which has no netstream outbound
check "m2: not effective, because netstream outbound is not enabled on its interface" \
	has m2 '^   State: not effective: .*outbound.* not enabled'
check "m2: its configured record r2" has m2 '^   Record: r2 '
check "m2: its host, with dscp, VPN instance and its own source, as configured" \
	grep -qF "   Export host: $M2_HOST port $M2_PORT, v9, dscp $M2_DSCP, vpn-instance $M2_VPN, source $M2_SRC port $M2_SPORT" $T/m2.txt
check "m2: applied on GigabitEthernet1/0/0 outbound, not effective" \
	has m2 '^ +GigabitEthernet1/0/0 +outbound +not effective +.*not enabled'

# m3: no interface lists it
check "m3: not effective, because no interface direction binds it" \
	has m3 '^   State: not effective: no interface direction binds it'
check "m3: its configured record r2" has m3 '^   Record: r2 '
check "m3: its host, leaving from the system source (it has none of its own)" \
	grep -qF "   Export host: $M3_HOST port $M3_PORT, v9, dscp 0, source $SYS_SRC port $SYS_SPORT" $T/m3.txt
check "m3: applied on nothing" has m3 '^   Applied on: nothing$'

# m4: bound, but without a host
check "m4: not effective, because it has no export host" \
	has m4 '^   State: not effective: .*no export host'
check "m4: its configured record r2, no host" \
	bash -c "grep -q '^   Record: r2 ' $T/m4.txt && grep -q '^   Export host: none$' $T/m4.txt"

# the same in JSON, read by Python's parser
"$NSCTL" display monitor --json >$T/all.json 2>>$T/json.err
check "display monitor --json: every monitor of the config, as configured" \
	/usr/bin/python3 - $T/all.json "$M2_HOST" "$M2_PORT" "$M2_DSCP" "$M2_VPN" "$M2_SRC" "$M2_SPORT" <<'PY'
import json, sys
path, host, port, dscp, vpn, src, sport = sys.argv[1:]
v = {m["monitor"]: m for m in json.load(open(path))}
assert sorted(v) == ["m1", "m2", "m3", "m4"], sorted(v)
assert v["m1"]["effective"] and v["m1"]["reason"] == ""
for m in ("m2", "m3", "m4"):
    assert not v[m]["effective"] and v[m]["reason"], m
    assert v[m]["record"] == "r2", v[m]
h = v["m2"]["hosts"]
assert h == [{"address": host, "port": int(port), "version": "9", "dscp": int(dscp),
              "vpn_instance": vpn, "source": src, "source_port": int(sport)}], h
assert v["m3"]["applied"] == [] and v["m4"]["hosts"] == []
PY
"$NSCTL" display monitor nosuch >$T/nosuch.txt 2>&1
check "a monitor the config does not have: exit 1" [ $? -eq 1 ]
kill $WATCHDOG 2>/dev/null
finish
