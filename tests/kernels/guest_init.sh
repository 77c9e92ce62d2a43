#!/bin/busybox sh
# /init of the kernel matrix's initramfs (tests/kernels/run): mounts what
# connsnoop needs, sets up the metadata addresses on lo, runs a stand-in
# server, and asserts exact events for each mode. Prints one
# "KMATRIX PASS <check>" or "KMATRIX FAIL <check>: <why>" per check and
# "KMATRIX DONE" at the end, then powers off.
/bin/busybox --install -s /bin
export PATH=/bin
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
mount -t tmpfs tmpfs /tmp
mount -t cgroup2 cgroup2 /sys/fs/cgroup
mount -t bpf bpf /sys/fs/bpf
dmesg -n 1 # kernel messages off the console, out of the guest's lines
ip link set lo up
ip addr add 169.254.169.254/32 dev lo
ip -6 addr add fd00:ec2::254/128 dev lo

finish() {
	echo "KMATRIX DONE"
	sync
	poweroff -f
	echo o >/proc/sysrq-trigger
}

echo "KMATRIX KERNEL $(uname -r) $(uname -m)"
# What this kernel is expected to refuse, and the verifier's words for it
# (tests/kernels/run passes them on the kernel command line as
# kmatrix_refuse=outcome,http and kmatrix_verdict=words+joined+by+plus;
# empty: everything loads).
expect_refused=$(sed -n 's/.*kmatrix_refuse=\([^ ]*\).*/\1/p' /proc/cmdline)
expected_verdict=$(sed -n 's/.*kmatrix_verdict=\([^ ]*\).*/\1/p' /proc/cmdline | tr + ' ')
refuses() { case ",$expect_refused," in *",$1,"*) return 0 ;; esac; return 1; }

/bin/peer serve >/tmp/server.log 2>&1 &
i=0
until grep -q serving /tmp/server.log; do
	sleep 0.1
	i=$((i + 1))
	[ $i -lt 100 ] || { echo "KMATRIX FAIL setup: the stand-in server did not start: $(cat /tmp/server.log)"; finish; }
done

# ---- one check: check_begin NAME; trace ...; run ...; stop_trace; expect ...; check_end
check_begin() {
	check=$1
	problems=""
	rm -f /tmp/out /tmp/err
}
problem() { problems="$problems; $*"; }

# Starts connsnoop with the arguments given and waits until it traces.
trace() {
	connsnoop "$@" >/tmp/out 2>/tmp/err &
	trace_pid=$!
	i=0
	until grep -q "Ctrl-C to end" /tmp/err 2>/dev/null; do
		if ! kill -0 $trace_pid 2>/dev/null || [ $i -ge 600 ]; then
			problem "connsnoop did not start: $(tr '\n' ' ' </tmp/err)"
			trace_pid=""
			echo "---- connsnoop -v $*, last lines"
			connsnoop -v --duration 1 "$@" 2>&1 | tail -n 25
			return 1
		fi
		sleep 0.1
		i=$((i + 1))
	done
}

# A workload command that must succeed.
run() { "$@" >>/tmp/workload.log 2>&1 || problem "workload '$*' failed"; }

# Stops connsnoop as Ctrl-C would; it must exit 0.
stop_trace() {
	[ -n "$trace_pid" ] || return 0
	sleep 0.5
	kill -INT $trace_pid
	wait $trace_pid
	status=$?
	[ $status -eq 0 ] || problem "connsnoop exited $status"
}

# expect COUNT FILE STRING...: exactly COUNT lines of FILE hold every STRING.
expect() {
	want=$1
	file=$2
	shift 2
	cp "$file" /tmp/match 2>/dev/null || : >/tmp/match
	for needle in "$@"; do
		grep -F -e "$needle" /tmp/match >/tmp/match.next
		mv /tmp/match.next /tmp/match
	done
	got=$(wc -l </tmp/match)
	[ "$got" -eq "$want" ] || problem "$want line(s) of $(basename "$file") with [$*], got $got"
}

check_end() {
	if [ -z "$problems" ]; then
		echo "KMATRIX PASS $check"
	else
		echo "KMATRIX FAIL $check:${problems#;}"
		echo "---- stdout"
		head -c 3000 /tmp/out
		echo "---- stderr"
		head -c 3000 /tmp/err
		echo "----"
	fi
}

# refused OPTION ARGS...: this kernel is expected to refuse what OPTION
# needs: exit 1, the verifier's refusal named with the kernel release and the
# expected words, and no privilege hint.
refused() {
	option=$1
	shift
	connsnoop "$@" --duration 1 >/tmp/out 2>/tmp/err
	status=$?
	[ $status -eq 1 ] || problem "connsnoop $option exited $status, not 1"
	expect 1 /tmp/err "connsnoop: error: loading " "): the kernel's verifier refused program '" "(Linux $(uname -r)): " "$expected_verdict"
	expect 1 /tmp/err "hint: not a privilege problem"
	expect 0 /tmp/err "run as root"
}

v4=169.254.169.254
v6=fd00:ec2::254
token=$(/bin/peer token)

check_begin stream-table
trace --imds --ancestry 0 --time none --wide
run /bin/peer v1 $v4
run /bin/peer v1 $v6
stop_trace
expect 3 /tmp/out ""
expect 1 /tmp/out "PID USER" "DESTINATION" "COMMAND"
expect 1 /tmp/out " root " "$v4:80 " "/bin/peer v1 $v4"
expect 1 /tmp/out " root " "[$v6]:80 " "/bin/peer v1 $v6"
expect 1 /tmp/err "connsnoop: 2 events, 0 lost"
check_end

# CO-RE relocates against the small BTF cut from this kernel's own
# (src/collect/core_btf.hpp); stream-table above checks what it traces.
check_begin small-core-btf
connsnoop -v --imds --duration 1 >/tmp/out 2>/tmp/err || problem "connsnoop -v exited $?"
expect 1 /tmp/err "connsnoop: CO-RE relocations against a " "-byte BTF cut from the kernel's"
expect 0 /tmp/err "failed to relocate"
check_end

check_begin json-ipv4-ipv6
trace --imds --ancestry 0 -o json
run /bin/peer v1 $v4
run /bin/peer v1 $v6
stop_trace
expect 3 /tmp/out '{"type":'
expect 1 /tmp/out '{"type":"connect"' '"user":"root"' '"cmdline":"/bin/peer v1 169.254.169.254","argv":["/bin/peer","v1","169.254.169.254"]' '"family":"ipv4"' '"daddr":"169.254.169.254","dport":80,'
expect 1 /tmp/out '{"type":"connect"' '"user":"root"' '"cmdline":"/bin/peer v1 fd00:ec2::254","argv":["/bin/peer","v1","fd00:ec2::254"]' '"family":"ipv6"' '"daddr":"fd00:ec2::254","dport":80,'
expect 1 /tmp/out '{"type":"summary"' '"events":2,"lost":0,"malformed":0'
check_end

# The namespaces of the connecting task and its socket, from both hooks,
# their fields CO-RE relocated against the small BTF cut from the kernel's
# (src/collect/core_btf.hpp). The same process in the initial PID namespace,
# then as PID 1 of a new one (pid->numbers[level], level 1).
netns_inum=$(readlink /proc/self/ns/net | tr -cd 0-9)
pidns_inum=$(readlink /proc/self/ns/pid | tr -cd 0-9)
namespaces_check() {
	trace --imds --ancestry 0 -o json --hook "$1"
	run /bin/peer v1 $v4
	run unshare -p -f /bin/peer v1 $v6
	stop_trace
	expect 1 /tmp/out '"cmdline":"/bin/peer v1 169.254.169.254"' "\"netns\":$netns_inum," "\"pidns\":$pidns_inum"
	expect 1 /tmp/out '"cmdline":"/bin/peer v1 fd00:ec2::254"' "\"netns\":$netns_inum," '"ns_pid":1,'
	expect 0 /tmp/out '"cmdline":"/bin/peer v1 fd00:ec2::254"' "\"pidns\":$pidns_inum"
	expect 0 /tmp/out '"pidns":0'
	expect 1 /tmp/err "connsnoop: 2 events, 0 lost"
}

check_begin namespaces-tp_btf
namespaces_check tp_btf
check_end

check_begin namespaces-raw_tp
namespaces_check raw_tp
check_end

check_begin outcome-established-refused
if refuses outcome; then
	refused --outcome --outcome --dst $v4
	check_end
else
trace --outcome --dst $v4 --ancestry 0 -o json
run /bin/peer connect $v4 80
/bin/peer connect $v4 81 >>/tmp/workload.log 2>&1 && problem "a connect to port 81 was not refused"
stop_trace
expect 3 /tmp/out '{"type":'
expect 1 /tmp/out '"cmdline":"/bin/peer connect 169.254.169.254 80"' '"dport":80,' '"result":"established","errno":null,"latency_us":'
expect 1 /tmp/out '"cmdline":"/bin/peer connect 169.254.169.254 81"' '"dport":81,' '"result":"refused","errno":"ECONNREFUSED","latency_us":'
expect 1 /tmp/out '{"type":"summary"' '"events":2,' '"results":{"established":1,"refused":1,"timeout":0,"reset":0,"aborted":0,"error":0,"failed":0,"untracked":0,"pending":0}'
check_end
fi

# A connect() that fails before any SYN leaves (no route): seen by the cgroup
# connect hooks and reported when the socket is destroyed (tcp_destroy_sock).
check_begin outcome-failed-before-syn
if refuses outcome; then
	refused --outcome --outcome --dst 192.0.2.1 --dst 2001:db8::1
	check_end
else
trace --outcome --dst 192.0.2.1 --dst 2001:db8::1 --ancestry 0 -o json
/bin/peer connect 192.0.2.1 80 >>/tmp/workload.log 2>&1 && problem "a connect to 192.0.2.1 found a route"
/bin/peer connect 2001:db8::1 443 >>/tmp/workload.log 2>&1 && problem "a connect to 2001:db8::1 found a route"
stop_trace
expect 3 /tmp/out '{"type":'
expect 1 /tmp/out '"cmdline":"/bin/peer connect 192.0.2.1 80"' '"family":"ipv4"' '"daddr":"192.0.2.1","dport":80,' '"result":"failed","errno":"ENETUNREACH","latency_us":null'
expect 1 /tmp/out '"cmdline":"/bin/peer connect 2001:db8::1 443"' '"family":"ipv6"' '"daddr":"2001:db8::1","dport":443,' '"result":"failed","errno":"ENETUNREACH","latency_us":null'
expect 1 /tmp/out '{"type":"summary"' '"events":2,' '"results":{"established":0,"refused":0,"timeout":0,"reset":0,"aborted":0,"error":0,"failed":2,"untracked":0,"pending":0}'
check_end
fi

check_begin http-imds-versions
if refuses http; then
	refused --http --imds --http
else
	trace --imds --http --ancestry 0 -o json
	run /bin/peer v1 $v4
	run /bin/peer v2 $v6
	stop_trace
	expect 3 /tmp/out '{"type":"connect"'
	expect 3 /tmp/out '{"type":"http"'
	expect 1 /tmp/out '{"type":"http"' '"cmdline":"/bin/peer v1 169.254.169.254"' '"family":"ipv4"' '"http":{"method":"GET","path":"/latest/meta-data/instance-id","version":"HTTP/1.0","headers_present":["Host"],"user_agent":null,' '"imds":{"version":"imdsv1"}}'
	expect 1 /tmp/out '{"type":"http"' '"cmdline":"/bin/peer v2 fd00:ec2::254"' '"family":"ipv6"' '"http":{"method":"PUT","path":"/latest/api/token","version":"HTTP/1.0","headers_present":["Host","X-aws-ec2-metadata-token-ttl-seconds"],' '"imds":{"version":"imdsv2-token"}}'
	expect 1 /tmp/out '{"type":"http"' '"cmdline":"/bin/peer v2 fd00:ec2::254"' '"family":"ipv6"' '"http":{"method":"GET","path":"/latest/meta-data/iam/security-credentials/","version":"HTTP/1.0","headers_present":["Host","X-aws-ec2-metadata-token"],' '"imds":{"version":"imdsv2"}}'
	expect 1 /tmp/out '{"type":"summary"' '"events":6,"lost":0,"malformed":0'
	expect 1 /tmp/server.log "issued token"
fi
expect 0 /tmp/out "$token"
expect 0 /tmp/err "$token"
check_end

# Heads pipelined into one write are a record each; a request line without a
# version is a record when the client shuts its side down.
check_begin http-request-shapes
if refuses http; then
	refused --http --imds --http
else
	trace --imds --http --ancestry 0 -o json
	run /bin/peer shapes $v4
	stop_trace
	expect 2 /tmp/out '{"type":"connect"'
	expect 3 /tmp/out '{"type":"http"'
	expect 1 /tmp/out '{"type":"http"' '"cmdline":"/bin/peer shapes 169.254.169.254"' '"http":{"method":"GET","path":"/latest/meta-data/","version":"HTTP/1.0","headers_present":["Host"],' '"head_incomplete":false,"writes":1}'
	expect 1 /tmp/out '{"type":"http"' '"cmdline":"/bin/peer shapes 169.254.169.254"' '"http":{"method":"GET","path":"/latest/meta-data/instance-id","version":"HTTP/1.0","headers_present":["Host"],' '"head_incomplete":false,"writes":1}'
	expect 1 /tmp/out '{"type":"http"' '"cmdline":"/bin/peer shapes 169.254.169.254"' '"http":{"method":"GET","path":"/latest/meta-data/instance-id","version":"","headers_present":[],"user_agent":null,"path_truncated":false,"user_agent_truncated":false,"head_incomplete":false,"writes":1},"imds":{"version":"imdsv1"}}'
fi
check_end

check_begin imds-v1-only
if refuses http; then
	refused --http --imds-v1
else
	trace --imds-v1 --ancestry 0 -o json
	run /bin/peer v2 $v4
	run /bin/peer v1 $v4
	run /bin/peer v2 $v4
	stop_trace
	expect 2 /tmp/out '{"type":'
	expect 1 /tmp/out '{"type":"http"' '"cmdline":"/bin/peer v1 169.254.169.254"' '"method":"GET","path":"/latest/meta-data/instance-id"' '"imds":{"version":"imdsv1"}}'
	expect 1 /tmp/out '{"type":"summary"' '"events":1,"lost":0'
fi
check_end

check_begin top-json
trace top --imds -o json --interval 1
run /bin/peer v1 $v4
run /bin/peer v1 $v4
run /bin/peer v1 $v4
run /bin/peer connect $v6 80
stop_trace
expect 1 /tmp/out '"final":true'
expect 1 /tmp/out '"final":true' '"events":4,"lost":0,"groups":2,' '{"key":"/bin/peer v1 169.254.169.254","command":"/bin/peer v1 169.254.169.254",' '"attempts":3,'
expect 1 /tmp/out '"final":true' '{"key":"/bin/peer connect fd00:ec2::254 80","command":"/bin/peer connect fd00:ec2::254 80",' '"attempts":1,'
expect 1 /tmp/out '{"type":"summary"' '"events":4,"lost":0'
check_end

check_begin top-json-by-imds
if refuses http; then
	refused --http top --imds --by imds -o json
else
	trace top --imds --by imds -o json --interval 1
	run /bin/peer v1 $v4
	run /bin/peer v1 $v6
	run /bin/peer v2 $v4
	stop_trace
	expect 1 /tmp/out '"final":true' '"group_by":"imds"' '"events":4,' '{"key":"imdsv1",' '"attempts":2,'
	expect 1 /tmp/out '"final":true' '{"key":"imdsv2-token",' '"attempts":1,'
	expect 1 /tmp/out '"final":true' '{"key":"imdsv2",' '"attempts":1,'
fi
check_end

# --udp and --dns: the UDP hooks and the DNS parser load, and name the sender
check_begin udp-dns
trace --udp --dns --port 53 --ancestry 0 -o json
run /bin/peer dns $v4 metadata.example.internal
stop_trace
expect 1 /tmp/out '{"type":"connect"' '"cmdline":"/bin/peer dns 169.254.169.254 metadata.example.internal"' '"daddr":"169.254.169.254","dport":53,"proto":"udp"'
expect 2 /tmp/out '{"type":"dns"' '"cmdline":"/bin/peer dns 169.254.169.254 metadata.example.internal"' '"qname":"metadata.example.internal"' '"qclass":"IN"'
expect 1 /tmp/out '{"type":"dns"' '"qtype":"A"'
expect 1 /tmp/out '{"type":"dns"' '"qtype":"AAAA"'
check_end

check_begin metrics-counts
trace --imds -q --metrics 127.0.0.1:9100
run /bin/peer v1 $v4
run /bin/peer v1 $v4
run /bin/peer v1 $v6
/bin/peer connect $v4 81 >>/tmp/workload.log 2>&1
sleep 0.5
wget -q -O /tmp/metrics http://127.0.0.1:9100/metrics || problem "no metrics from http://127.0.0.1:9100/metrics"
stop_trace
expect 1 /tmp/metrics 'connsnoop_connect_attempts_total{comm="peer",daddr="169.254.169.254/32",dport="80"} 2'
expect 1 /tmp/metrics 'connsnoop_connect_attempts_total{comm="peer",daddr="fd00:ec2::254/128",dport="80"} 1'
expect 2 /tmp/metrics 'connsnoop_connect_attempts_total{'
expect 1 /tmp/metrics 'connsnoop_events_received_total 3'
expect 1 /tmp/metrics 'connsnoop_events_lost_total 0'
expect 0 /tmp/out ""
check_end

# linklocal: owners recorded at connect (cgroup/connect4/6, sendmsg4/6),
# packets counted on cgroup_skb egress and ingress. Over lo the stand-in
# server's own sockets (accepted before any owner could be recorded) count
# as the unknown owner; the client is named with its command line.
check_begin linklocal-counts
trace linklocal -o json --interval 60
run /bin/peer v1 $v4
run /bin/peer v1 $v6
stop_trace
expect 1 /tmp/out '"final":true' '"comm":"peer","cmdline":"/bin/peer v1 169.254.169.254"' '"services":[{"service":"metadata","protocol":"tcp","sent_packets":'
expect 1 /tmp/out '"final":true' '"comm":"peer","cmdline":"/bin/peer v1 fd00:ec2::254"' '"services":[{"service":"metadata","protocol":"tcp","sent_packets":'
expect 1 /tmp/out '"final":true' '"owner_known":false'
check_end

# --netns: the owner's namespace, read from the task in the cgroup/connect hook.
check_begin linklocal-netns
netns=$(readlink /proc/self/ns/net | tr -cd 0-9)
trace linklocal -o json --interval 60 --netns "$netns"
run /bin/peer v1 $v4
stop_trace
expect 1 /tmp/out '"final":true' '"comm":"peer","cmdline":"/bin/peer v1 169.254.169.254"'
expect 0 /tmp/out '"owner_known":false'
check_end

finish
