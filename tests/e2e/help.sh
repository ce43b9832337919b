#!/usr/bin/env bash
# -h and --help: nsctl, nsctl VERB, and each daemon print their usage on
# stdout (nothing on stderr) and exit 0; the usage names the verb or the
# options the design gives each command line (DESIGN.md "Command
# lines"). A bad command line still prints the usage on stderr, nothing
# on stdout, and exits 2 (the usage exit code).
source "$(dirname "$0")/../lib.sh"
cd "$ROOT" || exit 1

help_ok() { # help_ok WANT-RE COMMAND...: exit 0, usage on stdout only
	local what="$*"
	"$@" >$T/out 2>$T/err
	local rc=$?
	check "$what: exit 0 ($rc)" [ $rc -eq 0 ]
	check "$what: usage on stdout" grep -q '^usage: ' $T/out
	check "$what: it names what it is for" grep -qE -- "$WANT" $T/out
	check "$what: nothing on stderr" [ ! -s $T/err ]
}
usage_err() { # usage_err COMMAND...: exit 2, usage on stderr only
	"$@" >$T/out 2>$T/err
	local rc=$?
	check "$*: exit 2 ($rc)" [ $rc -eq 2 ]
	check "$*: usage on stderr, nothing on stdout" \
		bash -c "grep -q '^usage: ' $T/err && [ ! -s $T/out ]"
}

WANT='-r RUN_DIR.*-c FILE'
help_ok "$NSCTL" --help
help_ok "$NSCTL" -h
for v in validate commit show history diff rollback vrp subscribe collect stats \
	metrics display reset up run keygen; do
	WANT="^  $v( |$)"
	help_ok "$NSCTL" $v --help
done
WANT='^  display .*' help_ok "$NSCTL" display -h
WANT='interface \[NAME\]'
help_ok "$NSCTL" display interface --help
WANT='--prometheus'
help_ok "$NSCTL" stats --help
WANT='-c FILE.*-r RUN_DIR.*-d DATABASE'
help_ok "$BIN/cfgd" -h
help_ok "$BIN/cfgd" --help
WANT='--slot N.*-r RUN_DIR'
help_ok "$BIN/sampled" -h
help_ok "$BIN/sampled" --help
WANT='-r RUN_DIR'
help_ok "$BIN/exportd" -h
help_ok "$BIN/exportd" --help

usage_err "$NSCTL"
usage_err "$NSCTL" --bogus
usage_err "$NSCTL" nosuchverb
usage_err "$NSCTL" reset
usage_err "$NSCTL" reset statistics slot x
usage_err "$NSCTL" metrics
usage_err "$BIN/cfgd" --bogus
usage_err "$BIN/sampled"
usage_err "$BIN/exportd" extra
finish
