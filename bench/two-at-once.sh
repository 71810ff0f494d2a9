#!/usr/bin/env bash
# Runs the command given twice at the same time and waits for both: bench/run.sh's "par"
# tool (two hash-map floors at once) checks that the machine really gives two cores — on a
# VM whose host sometimes runs both vCPUs on one physical CPU, "par" takes twice "flows".
"$@" > /dev/null &
"$@" > /dev/null
wait
