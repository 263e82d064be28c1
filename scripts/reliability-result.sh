#!/bin/sh
# Writes the dated result file of `make reliability`,
# bench/results/reliability-<UTC time>.md: the machine, its load average at
# the start and at the end, and each test's verdict and figures from the
# suite's and the SignUp model's logs, and the reasons of any failure.
# Usage: scripts/reliability-result.sh <UTC time> <load average at the start>
set -eu
stamp=$1
load_start=$2
out=bench/results/reliability-$stamp.md
cpu=$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ //')
{
	echo "# make reliability, $stamp"
	echo
	echo "Machine: $cpu, $(nproc) CPUs; load average at the start $load_start, at the end $(cut -d' ' -f1-3 /proc/loadavg). SIGNUP_MODEL_HISTORIES=${SIGNUP_MODEL_HISTORIES:-500}."
	echo
	echo '```'
	grep -hE -e '^--- (PASS|FAIL|SKIP)' -e 'figures:' -e '^(ok|FAIL)[[:space:]]' bench/results/reliability.log bench/results/signupmodel.log || true
	echo '```'
	# A failure keeps its reasons: the log of each failing suite, without
	# the lines of the tests that ran and passed, up to 400 lines.
	for log in bench/results/reliability.log bench/results/signupmodel.log; do
		if grep -qE '^(--- FAIL|FAIL)' "$log"; then
			echo
			echo "## Failures in $(basename "$log")"
			echo
			echo '```'
			grep -vE '^ *(=== (RUN|PAUSE|CONT|NAME)|--- PASS)' "$log" | head -n 400
			echo '```'
		fi
	done
} >"$out"
echo "result file: $out"
