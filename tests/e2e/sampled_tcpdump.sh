#!/usr/bin/env bash
# Every capture of ../shared/pcaps/tcpdump (real traffic, many of them
# malformed on purpose) goes through one sampled process (443 file
# captures in one slot): no crash, no sanitizer report, no hang, and for
# every capture whose link type sampled decodes, its IPv6 packets (well
# formed + malformed after the IPv6 header) equal tshark's count of frames
# whose first network header is IPv6.
#
# The captures are not in this repository (the shared pcaps README: read
# them in place, do not copy them in): they are the tests/ directory of
# tcpdump's source. NS_PCAPS names that directory; else they are looked
# for in shared/pcaps/tcpdump beside this checkout, then beside the main
# checkout of a git worktree. Found nowhere, the test skips (exit 77),
# which run-all fails in CI: CI has to provide them.
source "$(dirname "$0")/../lib.sh"
cd "$ROOT" || exit 1
find_corpus() {
	local common
	if [ -n "${NS_PCAPS:-}" ]; then
		echo "$NS_PCAPS"
		return
	fi
	common=$(git -C "$ROOT" rev-parse --path-format=absolute \
		--git-common-dir 2>/dev/null)
	for d in "$ROOT/../shared/pcaps/tcpdump" \
		${common:+"$common/../../shared/pcaps/tcpdump"}; do
		[ -d "$d" ] && { (cd "$d" && pwd); return; }
	done
}
D=$(find_corpus)
[ -n "$D" ] || skip "no tcpdump capture corpus: set NS_PCAPS to tcpdump's" \
	"tests/ directory or put it in ../shared/pcaps/tcpdump"
# NS_PCAPS set to a directory that is not there is a mistake, not a skip
[ -d "$D" ] || { fail "NS_PCAPS=$D is not a directory"; finish; }
files=$(ls "$D"/*.pcap "$D"/*.pcapng 2>/dev/null)
[ -n "$files" ] || { fail "no .pcap or .pcapng file in $D"; finish; }
echo "corpus: $D ($(echo "$files" | wc -l) captures)"
{
	echo 'system = { apply_record = "r"; };'
	echo 'records = ( { name = "r"; match = [ "source-address",'
	echo '  "destination-address", "protocol", "source-port", "destination-port",'
	echo '  "flow-label", "extension-headers", "source-vlan", "traffic-class",'
	echo '  "tcp-flags" ]; collect = [ "packets", "bytes" ]; } );'
	echo 'interfaces = ('
	i=0
	for f in $files; do
		i=$((i + 1))
		[ $i -gt 1 ] && echo ','
		echo "{ name = \"pcap$i\"; slot = 1; file = \"$f\"; netstream = [ \"inbound\" ]; }"
	done
	echo ');'
} >$T/all.conf
start_cfgd
"$NSCTL" commit -c $T/all.conf >/dev/null || fail "commit"
timeout 300 "$BIN/sampled" --slot 1 --exit-at-eof --no-export 2>$T/sampled.log
check "sampled went through every capture and exited 0" [ $? -eq 0 ]
sed -n 's/.*capture pcap[0-9]* (\(.*\)): \([0-9]*\) packets, \([0-9]*\) ipv6, \([0-9]*\) malformed ipv6/\1 \3 \4/p' \
	$T/sampled.log | sort >$T/ours
check "a summary for each of the $(echo "$files" | wc -l) captures" \
	[ "$(wc -l <$T/ours)" -eq "$(echo "$files" | wc -l)" ]

# tshark once over the merge of the plain pcaps of link types sampled
# decodes (one interface id per file), once per pcapng file
supported='^(ether|linux-sll|linux-sll2|rawip|rawip4|rawip6|null)$'
: >$T/theirs
pcaps=()
for f in $files; do
	enc=$(capinfos -E -T -r "$f" 2>/dev/null | cut -f2)
	[[ "$enc" =~ $supported ]] || continue
	case $f in
	*.pcapng)
		n=$(tshark -r "$f" -T fields -e frame.protocols 2>/dev/null |
			awk -F: '{for (i = 1; i <= NF; i++) { if ($i == "ip") break; if ($i == "ipv6") { c++; break } }} END { print c + 0 }')
		echo "$f $n" >>$T/theirs ;;
	*) pcaps+=("$f") ;;
	esac
done
mergecap -a -F pcapng -w $T/merged.pcapng "${pcaps[@]}" || fail "mergecap"
tshark -r $T/merged.pcapng -T fields -e frame.interface_id -e frame.protocols 2>/dev/null |
	awk -v files="${pcaps[*]}" '
	BEGIN { n = split(files, f, " "); for (i = 1; i <= n; i++) c[i - 1] = 0 }
	{ k = split($2, p, ":"); for (i = 1; i <= k; i++) { if (p[i] == "ip") break; if (p[i] == "ipv6") { c[$1]++; break } } }
	END { for (i = 1; i <= n; i++) print f[i], c[i - 1] }' >>$T/theirs
sort -o $T/theirs $T/theirs
check "tshark finds IPv6 packets in the corpus" \
	[ "$(awk '{ n += $2 } END { print n + 0 }' $T/theirs)" -gt 0 ]
join $T/ours $T/theirs >$T/joined
# a capture tshark counted and sampled did not summarize is not compared
# below: it must not pass unseen
check "every one of the $(wc -l <$T/theirs) captures tshark counted has sampled's count" \
	[ "$(wc -l <$T/joined)" -eq "$(wc -l <$T/theirs)" ]
awk '$2 + $3 != $4' $T/joined >$T/differ
check "IPv6 packets of $(wc -l <$T/joined) captures equal tshark's count" [ ! -s $T/differ ]
cat $T/differ | head -20
finish
