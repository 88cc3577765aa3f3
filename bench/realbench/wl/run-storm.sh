#!/bin/sh
# RB_STORM_N fork/exec/wait of a static program, one at a time
exec /rb/bin/storm "${RB_STORM_N:-10000}"
