#!/usr/bin/env bash
# replay_exportd_kill.sh with every endpoint of the group on
# tcp://127.0.0.1 under CURVE (issue 25): the acks must cross the CURVE
# handshake, and each new exportd and the sampled must agree on what to
# push again without the sampled being restarted.
NS_BUS=tcp exec "$(dirname "$0")/replay_exportd_kill.sh" "$@"
