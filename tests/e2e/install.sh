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
# Issue 22, finding 10: every binary answers --version with the
# Makefile's VERSION (the package's too); the installed nsctl's default
# config is SYSCONFDIR's, not a relative etc/; the units are
# netstreamd-cfgd, netstreamd-exportd, netstreamd-sampled@SLOT and
# netstreamd.target, each daemon run as the netstreamd user (a
# sysusers.d file) with -c the installed config, and an installed group
# started as they start it follows the config's run_dir; each unit
# passes `systemd-analyze verify` without a word and scores an exposure
# of at most 4.0 by `systemd-analyze security --offline=yes`; an option
# entry of a man page renders with its description on a line of its
# own; the .deb has a copyright file, versioned Depends (dpkg-shlibdeps)
# and no lintian error or warning.
source "$(dirname "$0")/../lib.sh"
cd "$ROOT" || exit 1
watchdog 300
for t in groff dpkg-deb man systemd-analyze lintian; do
	command -v $t >/dev/null || skip "$t is not installed (tools/install-deps)"
done
SAN=0
[ "$B" = build-san ] && SAN=1
MK() { make --no-print-directory -s SAN=$SAN "$@"; }
R=$T/root
EXPECT="etc/netstreamd/netstreamd.conf
etc/netstreamd/routes.txt
usr/local/bin/nsctl
usr/local/lib/systemd/system/netstreamd-cfgd.service
usr/local/lib/systemd/system/netstreamd-exportd.service
usr/local/lib/systemd/system/netstreamd-sampled@.service
usr/local/lib/systemd/system/netstreamd.target
usr/local/lib/sysusers.d/netstreamd.conf
usr/local/sbin/cfgd
usr/local/sbin/exportd
usr/local/sbin/sampled
usr/local/share/man/man5/netstreamd.conf.5
usr/local/share/man/man8/cfgd.8
usr/local/share/man/man8/exportd.8
usr/local/share/man/man8/nsctl.8
usr/local/share/man/man8/sampled.8"
files() { (cd "$1" && find . -type f | sed 's|^\./||' | sort); }
V=$(sed -n 's/^VERSION *?= *//p' Makefile)

check "make install DESTDIR (PREFIX /usr/local)" \
	bash -c "make --no-print-directory -s SAN=$SAN install DESTDIR=$R >$T/install.log 2>&1"
echo "$EXPECT" >$T/want.files
files $R >$T/got.files
check "it installs exactly the expected files" same $T/want.files $T/got.files
for f in usr/local/sbin/cfgd usr/local/sbin/sampled usr/local/sbin/exportd usr/local/bin/nsctl; do
	check "$f runs: --help exits 0" bash -c "'$R/$f' --help >/dev/null"
	b=$(basename $f)
	check "$f --version: \"$b (netstreamd) $V\"" \
		[ "$("$R/$f" --version 2>&1)" = "$b (netstreamd) $V" ]
done
check "the installed nsctl's default config is /etc/netstreamd/netstreamd.conf" \
	bash -c "'$R/usr/local/bin/nsctl' --help | grep -q 'default /etc/netstreamd/netstreamd.conf'"
check "sysusers.d: a netstreamd system user" \
	grep -q '^u netstreamd - ' $R/usr/local/lib/sysusers.d/netstreamd.conf
units() { # units ROOT UNITDIR SBINDIR [SYSCONFDIR]: each service runs an installed daemon
	local u d exe c=${4:-/etc/netstreamd}
	for d in cfgd exportd sampled@; do
		u=netstreamd-$d
		exe=$(sed -n 's/^ExecStart=\([^ ]*\).*/\1/p' "$1$2/$u.service")
		check "$u.service: ExecStart $exe is $3/${d%@}" [ "$exe" = "$3/${d%@}" ]
		check "$u.service: that file is installed, executable" [ -x "$1$exe" ]
		check "$u.service: no template word left" bash -c "! grep -q '@[A-Z]*@' '$1$2/$u.service'"
		check "$u.service: -c the installed config" \
			grep -q "^ExecStart=$3/${d%@} .*-c $c/netstreamd.conf" "$1$2/$u.service"
		check "$u.service: runs as the netstreamd user" grep -qx "User=netstreamd" "$1$2/$u.service"
	done
	check "netstreamd-sampled@.service: the instance is the slot" \
		grep -q "^ExecStart=$3/sampled --slot %i " "$1$2/netstreamd-sampled@.service"
	check "netstreamd-sampled@.service pulls in no cfgd or exportd (a slot-only host)" \
		bash -c "! grep -Eq '^(Wants|Requires|BindsTo|Requisite)=.*(netstreamd.target|cfgd|exportd)' '$1$2/netstreamd-sampled@.service'"
	check "netstreamd-sampled@.service waits for the network (a tcp:// query socket)" \
		grep -qx "Wants=network-online.target" "$1$2/netstreamd-sampled@.service"
	check "netstreamd.target wants cfgd and exportd" \
		grep -qx "Wants=netstreamd-cfgd.service netstreamd-exportd.service" "$1$2/netstreamd.target"
}
units $R /usr/local/lib/systemd/system /usr/local/sbin
for m in $R/usr/local/share/man/man*/*; do
	groff -man -ww -z "$m" >$T/groff.out 2>&1
	check "groff -man -ww -z $(basename $m): no warning" \
		bash -c "[ $? -eq 0 ] && [ ! -s $T/groff.out ]"
done
check "man finds nsctl(8) in the installed tree" \
	bash -c "[ \"\$(man -M $R/usr/local/share/man -w 8 nsctl)\" = $R/usr/local/share/man/man8/nsctl.8 ]"
# an option entry: its words on one line, its description on the next,
# indented (groff -ww is silent when a tag runs into its description)
MANWIDTH=80 man -l $R/usr/local/share/man/man8/nsctl.8 2>/dev/null >$T/nsctl80.txt
for tag in "validate [-c FILE] [--no-host-checks]" "commit [-c FILE] [-m MSG]" \
	"show [running|effective] [--revision N]" "up [-c FILE]" \
	"stats [--watch|--json|--prometheus] [--slot N] [-n COUNT] [-t MS]" \
	"display statistics [slot N]" "reset statistics [slot N | interface NAME]"; do
	check "nsctl(8) renders \"$tag\" on its own line, the description below" \
		awk -v t="       $tag" 'p { exit !($0 ~ /^              [A-Z]/) } $0 == t { p = 1 } END { exit !p }' $T/nsctl80.txt
done
for m in $R/usr/local/share/man/man*/*; do
	MANWIDTH=80 man -l "$m" 2>/dev/null >$T/page.txt
	check "$(basename $m): no description line starts with the rest of its option" \
		bash -c "! grep -E '^ {14}[A-Z_]+\]' $T/page.txt"
done
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
units "" $PFX/units $PFX/sbin $PFX/etc
check "its nsctl, run elsewhere without -c, reads $PFX/etc/netstreamd.conf" \
	bash -c "cd $T && env -u NETSTREAMD_CONFIG '$PFX/bin/nsctl' validate >$T/validate0.txt 2>&1"
# the units as systemd reads them (it does not run here)
for u in netstreamd-cfgd.service netstreamd-exportd.service netstreamd-sampled@1.service \
	netstreamd.target; do
	f=$PFX/units/${u/@1/@}
	[ "$u" = netstreamd-sampled@1.service ] && { cp $f $T/$u; f=$T/$u; }
	check "systemd-analyze verify $u: clean" \
		bash -c "MANPATH=$PFX/share/man systemd-analyze verify '$f' >$T/verify.out 2>&1 && [ ! -s $T/verify.out ] ||
			{ cat $T/verify.out; false; }"
	case $u in *.service) ;; *) continue ;; esac
	x=$(systemd-analyze security --offline=yes "$f" 2>/dev/null |
		sed -n 's/.*Overall exposure level for .*: \([0-9.]*\).*/\1/p')
	echo "exposure $u: ${x:-none}"
	check "systemd-analyze security $u: exposure ${x:-none} <= 4.0" \
		awk -v x="$x" 'BEGIN { exit !(x != "" && x + 0 <= 4.0) }'
done
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

# the installed daemons as the units start them: -c only, no -r nor
# NETSTREAMD_RUN_DIR; each follows the config's run_dir
RD=$T/rd
sed -e "s|^run_dir *=.*|run_dir = \"$RD\";|" -e "s|^database *=.*|database = \"$T/units.db\";|" \
	$PFX/etc/netstreamd.conf >$T/units.conf
grep -q "^run_dir = \"$RD\";" $T/units.conf || fail "the installed config has no run_dir line"
(
	unset NETSTREAMD_RUN_DIR
	"$PFX/sbin/cfgd" -c $T/units.conf 2>$T/u-cfgd.log &
	echo $! >$T/u.pids
	sleep 0.5
	"$PFX/sbin/exportd" -c $T/units.conf 2>$T/u-exportd.log &
	echo $! >>$T/u.pids
	"$PFX/sbin/sampled" --slot 1 -c $T/units.conf 2>$T/u-sampled.log &
	echo $! >>$T/u.pids
)
PIDS="$PIDS $(cat $T/u.pids)"
check "cfgd, exportd and sampled -c follow the config's run_dir ($RD)" \
	wait_for "[ -S $RD/control ] && [ -S $RD/flows ] && [ -S $RD/slot-1 ]" 50
env -u NETSTREAMD_RUN_DIR timeout 20 "$PFX/bin/nsctl" -c $T/units.conf stats --json -n 12 \
	>$T/u-stats.json 2>$T/u-stats.log
check "... and their stats reach nsctl -c there (exportd, sampled slot 1)" \
	bash -c "grep -q '\"process\":\"exportd\"' $T/u-stats.json &&
		grep -q '\"process\":\"sampled\",\"slot\":1,' $T/u-stats.json"
for p in $(cat $T/u.pids); do kill $p 2>/dev/null; done

# the Debian package
check "make deb" bash -c "make --no-print-directory -s SAN=$SAN deb >$T/deb.out 2>&1"
DEB=$(tail -1 $T/deb.out)
check "it writes a .deb ($DEB)" [ -f "$DEB" ]
info() { dpkg-deb -f "$DEB" "$1"; }
check "dpkg-deb -I: package netstreamd" [ "$(info Package)" = netstreamd ]
check "dpkg-deb -I: version $V, the Makefile's" [ "$(info Version)" = "$V" ]
# versioned where the library's shlibs say from which version (libconfig9's
# say none)
for lib in libc6 libzmq5 libprotobuf-c1 libpcap0.8 libsqlite3-0 libmicrohttpd12; do
	check "dpkg-deb -I: depends on $lib, versioned (dpkg-shlibdeps)" \
		bash -c "dpkg-deb -f '$DEB' Depends | tr ',' '\n' | grep -qE '^ *$lib \(>= [0-9][^)]*\)\$'"
done
lintian --fail-on error,warning "$DEB" >$T/lintian.txt 2>&1
rc=$?
check "lintian: no error or warning (exit $rc)" \
	bash -c "[ $rc -eq 0 ] && ! grep -E '^[EW]: ' $T/lintian.txt"
grep -E '^[EW]: ' $T/lintian.txt | head -20
check "dpkg-deb -I: architecture of this machine" \
	[ "$(info Architecture)" = "$(dpkg --print-architecture)" ]
for lib in libzmq5 libprotobuf-c1 libpcap0.8 libconfig9 libsqlite3-0; do
	check "dpkg-deb -I: depends on $lib" \
		bash -c "dpkg-deb -f '$DEB' Depends | tr ',' '\n' | grep -qE '^ *$lib( \(>= [^)]*\))?\$'"
done
dpkg-deb -c "$DEB" | awk '$1 !~ /^d/ { sub(/^\.\//, "", $6); print $6 }' | sort >$T/deb.files
echo "$EXPECT" | sed -e 's|^usr/local/lib/systemd|lib/systemd|' -e 's|^usr/local/|usr/|' \
	-e 's|^usr/local/lib/sysusers|usr/lib/sysusers|' \
	-e 's|\(share/man/.*\)|\1.gz|' | { cat; printf '%s\n' usr/share/doc/netstreamd/README.md \
	usr/share/doc/netstreamd/copyright usr/share/doc/netstreamd/changelog.gz; } |
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
check "deb: the packaged nsctl --version is $V" [ "$("$T/x/usr/bin/nsctl" --version)" = "nsctl (netstreamd) $V" ]
check "deb: a copyright file with the license" \
	grep -q '^License: ' $T/x/usr/share/doc/netstreamd/copyright
finish
