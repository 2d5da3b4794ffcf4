# prom_check.awk: a strict checker of the Prometheus text exposition
# format 0.0.4 (what GET /metrics serves).  Exits 1 naming the first
# problems: a line outside the grammar, a sample before its family's HELP
# and TYPE, a family split in two, histogram buckets that are not
# cumulative, not ascending, without a last le="+Inf" equal to _count.
# Usage: awk -f prom_check.awk FILE

function bad(msg) { printf "prom_check: line %d: %s: %s\n", NR, msg, $0; errors++ }

# The family a sample belongs to: histogram and summary samples carry a suffix.
function family(name,   base) {
	if (name in type) return name
	if (match(name, /_(bucket|sum|count)$/)) {
		base = substr(name, 1, RSTART - 1)
		if (type[base] == "histogram" || (type[base] == "summary" && name !~ /_bucket$/))
			return base
	}
	return name
}

function value_ok(v) {
	return v ~ /^[-+]?([0-9]+(\.[0-9]*)?|\.[0-9]+)([eE][-+]?[0-9]+)?$/ || v ~ /^([-+]?Inf|NaN)$/
}

function num(v) { return v == "+Inf" || v == "Inf" ? 1e308 * 10 : v + 0 }

# Flushes the histogram group being read (its buckets, then its count).
function hist_end(   k) {
	if (!hopen) return
	if (!hinf) { printf "prom_check: histogram %s{%s}: no le=\"+Inf\" bucket\n", hfam, hkey; errors++ }
	else if (!((hfam SUBSEP hkey) in hcount))
		{ printf "prom_check: histogram %s{%s}: no _count\n", hfam, hkey; errors++ }
	else if (hcount[hfam SUBSEP hkey] != hinfv)
		{ printf "prom_check: histogram %s{%s}: +Inf bucket %s != _count %s\n", hfam, hkey, hinfv, hcount[hfam SUBSEP hkey]; errors++ }
	hopen = 0
}

BEGIN { errors = 0; hopen = 0; cur = "" }

/^#/ {
	if ($0 ~ /^# HELP /) {
		if (!match($0, /^# HELP [a-zA-Z_:][a-zA-Z0-9_:]*( |$)/)) { bad("malformed HELP"); next }
		n = $3
		if (n in help) bad("second HELP for " n)
		if (n in seen) bad("HELP after the samples of " n)
		help[n] = 1
	} else if ($0 ~ /^# TYPE /) {
		if ($0 !~ /^# TYPE [a-zA-Z_:][a-zA-Z0-9_:]* (counter|gauge|histogram|summary|untyped)$/) { bad("malformed TYPE"); next }
		n = $3
		if (n in type) bad("second TYPE for " n)
		if (n in seen) bad("TYPE after the samples of " n)
		type[n] = $4
	}
	next
}

/^$/ { bad("empty line"); next }

{
	line = $0
	if (!match(line, /^[a-zA-Z_:][a-zA-Z0-9_:]*/)) { bad("not a sample"); next }
	name = substr(line, 1, RLENGTH); line = substr(line, RLENGTH + 1)
	labels = ""; le = ""; key = ""
	if (substr(line, 1, 1) == "{") {
		line = substr(line, 2)
		while (substr(line, 1, 1) != "}") {
			# name="value" with only \\ \" \n escapes inside
			if (!match(line, /^[a-zA-Z_][a-zA-Z0-9_]*="([^"\\\n]|\\[\\"n])*"/)) { bad("malformed label"); next }
			pair = substr(line, 1, RLENGTH); line = substr(line, RLENGTH + 1)
			lname = substr(pair, 1, index(pair, "=") - 1)
			lval = substr(pair, length(lname) + 3); lval = substr(lval, 1, length(lval) - 1)
			if (index(labels, "\001" lname "=")) { bad("label " lname " twice"); next }
			labels = labels "\001" lname "=" lval
			if (lname == "le") le = lval; else key = key "," lname "=" lval
			if (substr(line, 1, 1) == ",") line = substr(line, 2)
			else if (substr(line, 1, 1) != "}") { bad("label not followed by , or }"); next }
		}
		line = substr(line, 2)
	}
	if (!match(line, /^ [^ ]+( -?[0-9]+)?$/)) { bad("value missing or trailing text"); next }
	split(substr(line, 2), parts, " ")
	v = parts[1]
	if (!value_ok(v)) { bad("not a number: " v); next }
	fam = family(name)
	if (!(fam in help)) bad("sample of " fam " before its HELP")
	if (!(fam in type)) { bad("sample of " fam " before its TYPE"); next }
	if (fam != cur) {
		hist_end()
		if (fam in done) bad("samples of " fam " are not together")
		if (cur != "") done[cur] = 1
		cur = fam
	}
	seen[fam] = 1
	if (type[fam] == "counter" && (v ~ /^-/ || v == "NaN")) bad("counter below zero")
	if (type[fam] != "histogram") next
	if (name == fam "_bucket") {
		if (le == "") { bad("bucket without le"); next }
		if (!value_ok(le)) { bad("le is not a number: " le); next }
		if (!hopen || key != hkey || hfam != fam) { hist_end(); hopen = 1; hkey = key; hfam = fam; hprevle = ""; hprev = 0; hinf = 0 }
		if (hinf) bad("bucket after le=\"+Inf\"")
		if (hprevle != "" && num(le) <= num(hprevle)) bad("le not ascending")
		if (num(v) < hprev) bad("buckets not cumulative")
		hprevle = le; hprev = num(v)
		if (le == "+Inf") { hinf = 1; hinfv = num(v) }
	} else if (name == fam "_count") {
		hcount[fam SUBSEP key] = num(v)
		if (hopen && key == hkey && hfam == fam) hist_end()
	} else if (name == fam "_sum") {
		if (le != "") bad("_sum with le")
	} else bad("histogram sample " name " is neither _bucket, _sum nor _count")
}

END {
	hist_end()
	for (f in type) if (!(f in help)) { printf "prom_check: %s has TYPE but no HELP\n", f; errors++ }
	exit errors ? 1 : 0
}
