#!/bin/sh
# Run every unit-test binary; print one total line that CI reads.
pass=0; fail=0
for t in "$@"; do
	echo "== $(basename "$t")"
	out=$("$t") ; rc=$?
	line=$(printf '%s\n' "$out" | tail -n 1)
	p=$(printf '%s' "$line" | sed -n 's/^\([0-9]*\) passed, \([0-9]*\) failed$/\1/p')
	f=$(printf '%s' "$line" | sed -n 's/^\([0-9]*\) passed, \([0-9]*\) failed$/\2/p')
	if [ -z "$p" ]; then echo "  $t crashed or printed no total (exit $rc)"; fail=$((fail+1)); continue; fi
	pass=$((pass+p)); fail=$((fail+f))
	[ "$rc" = 0 ] || [ "$f" != 0 ] || fail=$((fail+1))
done
echo "unit: $pass passed, $fail failed"
[ "$fail" = 0 ]
