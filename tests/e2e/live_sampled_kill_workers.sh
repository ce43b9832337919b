#!/usr/bin/env bash
# live_sampled_kill.sh with the slot's device captured by 2 workers
# (PACKET_FANOUT threads, each with its own caches): their flows, their
# batches handed over by the main thread, are accounted as the main
# thread's are when sampled is killed.
WORKERS=2 exec "$(dirname "$0")/live_sampled_kill.sh"
