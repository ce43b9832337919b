#!/usr/bin/env bash
# make install / uninstall / deb (systemd does not run here: the units
# are checked as files). The paths expected are the ones the issue asks
# for: daemons in PREFIX/sbin, nsctl in PREFIX/bin, the units (ExecStart
# naming the installed daemons), man pages nsctl(8) cfgd(8) sampled(8)
# exportd(8) netstreamd.conf(5), the example config in /etc/netstreamd.
# Each man page renders with `groff -man -ww -z` without a word on
# stderr; `man` finds nsctl in the installed tree. An install into a
# PREFIX of its own runs: its nsctl validates the installed config and
# runs the group (nsctl in bin/, the daemons in sbin/) over a capture.
# An operator's changed config is kept by install and uninstall;
# uninstall removes every other file install put. The .deb holds the
# same with Debian's paths (dpkg-deb -I / -c, extracted with -x).
source "$(dirname "$0")/../lib.sh"
cd "$ROOT" || exit 1
watchdog 300
for t in groff dpkg-deb man; do
	command -v $t >/dev/null || skip "$t is not installed (tools/install-deps)"
done
SAN=0
[ "$B" = build-san ] && SAN=1
MK() { make --no-print-directory -s SAN=$SAN "$@"; }
R=$T/root
EXPECT="etc/netstreamd/netstreamd.conf
etc/netstreamd/routes.txt
usr/local/bin/nsctl
usr/local/lib/systemd/system/cfgd.service
usr/local/lib/systemd/system/exportd.service
usr/local/lib/systemd/system/netstreamd.target
usr/local/lib/systemd/system/sampled@.service
usr/local/sbin/cfgd
usr/local/sbin/exportd
usr/local/sbin/sampled
usr/local/share/man/man5/netstreamd.conf.5
usr/local/share/man/man8/cfgd.8
usr/local/share/man/man8/exportd.8
usr/local/share/man/man8/nsctl.8
usr/local/share/man/man8/sampled.8"
files() { (cd "$1" && find . -type f | sed 's|^\./||' | sort); }

check "make install DESTDIR (PREFIX /usr/local)" \
	bash -c "make --no-print-directory -s SAN=$SAN install DESTDIR=$R >$T/install.log 2>&1"
echo "$EXPECT" >$T/want.files
files $R >$T/got.files
check "it installs exactly the expected files" same $T/want.files $T/got.files
for f in usr/local/sbin/cfgd usr/local/sbin/sampled usr/local/sbin/exportd usr/local/bin/nsctl; do
	check "$f runs: --help exits 0" bash -c "'$R/$f' --help >/dev/null"
done
units() { # units ROOT UNITDIR SBINDIR: ExecStart of each service names an installed daemon
	local u exe
	for u in cfgd exportd sampled@; do
		exe=$(sed -n 's/^ExecStart=\([^ ]*\).*/\1/p' "$1$2/$u.service")
		check "$u.service: ExecStart $exe is $3/${u%@}" [ "$exe" = "$3/${u%@}" ]
		check "$u.service: that file is installed, executable" [ -x "$1$exe" ]
		check "$u.service: no template word left" bash -c "! grep -q '@[A-Z]*@' '$1$2/$u.service'"
	done
	check "cfgd.service reads the installed config" \
		grep -q "^ExecStart=$3/cfgd -c /etc/netstreamd/netstreamd.conf\$" "$1$2/cfgd.service"
}
units $R /usr/local/lib/systemd/system /usr/local/sbin
for m in $R/usr/local/share/man/man*/*; do
	groff -man -ww -z "$m" >$T/groff.out 2>&1
	check "groff -man -ww -z $(basename $m): no warning" \
		bash -c "[ $? -eq 0 ] && [ ! -s $T/groff.out ]"
done
check "man finds nsctl(8) in the installed tree" \
	bash -c "[ \"\$(man -M $R/usr/local/share/man -w 8 nsctl)\" = $R/usr/local/share/man/man8/nsctl.8 ]"
check "nsctl(8) documents display interface, reset, stats --prometheus, metrics" \
	bash -c "MANWIDTH=200 man -l $R/usr/local/share/man/man8/nsctl.8 2>/dev/null >$T/nsctl.txt &&
		grep -q 'display interface' $T/nsctl.txt && grep -q 'reset statistics' $T/nsctl.txt &&
		grep -q -- '--prometheus' $T/nsctl.txt && grep -q 'metrics --listen' $T/nsctl.txt"

# an operator's config survives install and uninstall
echo "# changed by the operator" >>$R/etc/netstreamd/netstreamd.conf
cp $R/etc/netstreamd/netstreamd.conf $T/mine.conf
MK install DESTDIR=$R >$T/install2.log 2>&1
check "install again keeps the changed config" cmp -s $T/mine.conf $R/etc/netstreamd/netstreamd.conf
check "... and says so" grep -q "kept $R/etc/netstreamd/netstreamd.conf" $T/install2.log
MK uninstall DESTDIR=$R >$T/uninstall.log 2>&1
files $R >$T/left.files
check "uninstall leaves only the changed config" \
	[ "$(cat $T/left.files)" = etc/netstreamd/netstreamd.conf ]
rm -f $R/etc/netstreamd/netstreamd.conf
MK install DESTDIR=$R >/dev/null 2>&1
MK uninstall DESTDIR=$R >/dev/null 2>&1
check "install then uninstall leaves no file" [ -z "$(files $R)" ]
check "... and no /etc/netstreamd" [ ! -e $R/etc/netstreamd ]

# a PREFIX of its own, no DESTDIR: the installed group runs
PFX=$T/pfx
check "make install PREFIX SYSCONFDIR UNITDIR" \
	bash -c "make --no-print-directory -s SAN=$SAN install PREFIX=$PFX SYSCONFDIR=$PFX/etc UNITDIR=$PFX/units >/dev/null 2>&1"
check "the installed config names the installed routes table" \
	grep -q "^routes = { file = \"$PFX/etc/routes.txt\"; };" $PFX/etc/netstreamd.conf
check "the installed nsctl validates the installed config" \
	bash -c "'$PFX/bin/nsctl' validate -c $PFX/etc/netstreamd.conf >$T/validate.txt 2>&1"
"$BIN/pcapgen" --flows 5 --packets 200 -o $T/f.pcap >/dev/null
P=$((20000 + RANDOM % 20000))
"$PFX/bin/nsctl" collect -p $P -b 127.0.0.1 -t 60 >$T/c.txt 2>$T/collect.log &
PIDS="$PIDS $!"
cat >$T/run.conf <<CONF
system = { export = { hosts = ( { address = "127.0.0.1"; port = $P; } ); };
           apply_record = "r"; };
records = ( { name = "r"; match = [ "source-address", "destination-address" ];
              collect = [ "packets" ]; } );
interfaces = ( { name = "GigabitEthernet1/0/0"; file = "$T/f.pcap";
                 netstream = [ "inbound" ]; } );
CONF
check "the installed nsctl runs the installed daemons (nsctl run)" \
	bash -c "timeout 60 '$PFX/bin/nsctl' run -c $T/run.conf >$T/run.out 2>$T/run.log"
check "... which it found in sbin/ (cfgd served)" grep -q "cfgd: serving" $T/run.log
check "... and the installed collector got the 5 flows" \
	wait_for '[ "$(grep -c "^data " $T/c.txt)" = 5 ]' 50

# the Debian package
check "make deb" bash -c "make --no-print-directory -s SAN=$SAN deb >$T/deb.out 2>&1"
DEB=$(tail -1 $T/deb.out)
check "it writes a .deb ($DEB)" [ -f "$DEB" ]
info() { dpkg-deb -f "$DEB" "$1"; }
check "dpkg-deb -I: package netstreamd" [ "$(info Package)" = netstreamd ]
check "dpkg-deb -I: architecture of this machine" \
	[ "$(info Architecture)" = "$(dpkg --print-architecture)" ]
for lib in libzmq5 libprotobuf-c1 libpcap0.8 libconfig9 libsqlite3-0; do
	check "dpkg-deb -I: depends on $lib" bash -c "dpkg-deb -f '$DEB' Depends | tr ',' '\n' | grep -qx ' *$lib'"
done
dpkg-deb -c "$DEB" | awk '$1 !~ /^d/ { sub(/^\.\//, "", $6); print $6 }' | sort >$T/deb.files
echo "$EXPECT" | sed -e 's|^usr/local/lib/systemd|lib/systemd|' -e 's|^usr/local/|usr/|' \
	-e 's|\(share/man/.*\)|\1.gz|' | { cat; echo usr/share/doc/netstreamd/README.md; } |
	sort >$T/deb.want
check "dpkg-deb -c: the installed files with Debian's paths" same $T/deb.want $T/deb.files
dpkg-deb -e "$DEB" $T/DEBIAN
printf '/etc/netstreamd/netstreamd.conf\n/etc/netstreamd/routes.txt\n' >$T/conffiles.want
check "conffiles: the config and the routes table" same $T/conffiles.want $T/DEBIAN/conffiles
check "md5sums match the files" \
	bash -c "mkdir -p $T/x && dpkg-deb -x '$DEB' $T/x && cd $T/x && md5sum --quiet -c $T/DEBIAN/md5sums"
check "maintainer scripts are valid sh" bash -c "sh -n $T/DEBIAN/postinst && sh -n $T/DEBIAN/postrm"
units $T/x /lib/systemd/system /usr/sbin
for m in $T/x/usr/share/man/man*/*.gz; do
	zcat "$m" | groff -man -ww -z >$T/groff.out 2>&1
	check "deb: groff -man -ww -z $(basename $m): no warning" [ ! -s $T/groff.out ]
done
check "deb: the packaged nsctl runs (--help)" bash -c "'$T/x/usr/bin/nsctl' --help >/dev/null"
finish
