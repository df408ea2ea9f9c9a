#!/bin/sh
# scripts/deps.sh: check what the build and the tests need and, on Debian as
# root, install exactly the missing packages. Elsewhere print their names.
#
#   pkg-config module / command      Debian package
set -u
need=""
have_pc() { pkg-config --exists "$1" 2>/dev/null; }
have_cmd() { command -v "$1" >/dev/null 2>&1 || [ -x "/usr/sbin/$1" ] || [ -x "/sbin/$1" ]; }

command -v pkg-config >/dev/null 2>&1 || need="$need pkg-config"
command -v cc >/dev/null 2>&1 || need="$need gcc"
command -v make >/dev/null 2>&1 || need="$need make"
for m in libpcap:libpcap-dev libmnl:libmnl-dev \
    libnetfilter_conntrack:libnetfilter-conntrack-dev \
    libsodium:libsodium-dev nettle:nettle-dev cmocka:libcmocka-dev \
    libcap-ng:libcap-ng-dev libsystemd:libsystemd-dev \
    libmicrohttpd:libmicrohttpd-dev; do
	have_pc "${m%%:*}" || need="$need ${m#*:}"
done
# Tools the tests and the demo drive: namespaces, nftables, conntrack, a real
# ucarp peer, the incumbents for the benchmark comparison, gnuplot for
# the soak's and the benchmark's pictures, perf for the benchmark's profiles.
for c in ip:iproute2 nft:nftables conntrack:conntrack ucarp:ucarp \
    conntrackd:conntrackd keepalived:keepalived tcpdump:tcpdump \
    ping:iputils-ping timeout:coreutils python3:python3 bc:bc \
    sysctl:procps setpriv:util-linux gnuplot:gnuplot-nox \
    faketime:faketime tshark:tshark perf:linux-perf; do
	have_cmd "${c%%:*}" || need="$need ${c#*:}"
done
# tests/netns/test_metrics.sh parses the exposition with the reference
# Python parser (Debian's python3, which apt installs it for).
have_pymod() { for p in /usr/bin/python3 python3; do
	"$p" -c "import $1" >/dev/null 2>&1 && return 0; done; return 1; }
have_pymod prometheus_client.parser || need="$need python3-prometheus-client"
# make deb and its test (tests/netns/test_deb.sh, part of make check): the
# package build (dpkg-buildpackage always wants build-essential), lintian,
# and systemd-analyze to verify the packaged units.
have_deb() { dpkg-query -W -f '${Status}' "$1" 2>/dev/null | grep -q ' installed$'; }
for c in dpkg-buildpackage:dpkg-dev dh:debhelper lintian:lintian \
    systemd-analyze:systemd; do
	have_cmd "${c%%:*}" || need="$need ${c#*:}"
done
if command -v dpkg-query >/dev/null 2>&1; then
	have_deb build-essential || need="$need build-essential"
fi
# make lint: the formatter and the static analyser.
for c in clang-format:clang-format cppcheck:cppcheck; do
	have_cmd "${c%%:*}" || need="$need ${c#*:}"
done

if [ -z "$need" ]; then
	echo "deps: everything needed is installed"
	exit 0
fi
if [ "$(id -u)" -eq 0 ] && command -v apt-get >/dev/null 2>&1; then
	echo "deps: installing:$need"
	export DEBIAN_FRONTEND=noninteractive
	# tshark (test_dissector): no setuid dumpcap for non-root capture.
	echo "wireshark-common wireshark-common/install-setuid boolean false" |
	    debconf-set-selections 2>/dev/null || true
	apt-get update -qq >/dev/null || echo "deps: apt-get update failed; trying the install anyway"
	# shellcheck disable=SC2086
	apt-get install -y -qq --no-install-recommends $need >/dev/null || {
		echo "deps: apt-get install failed for:$need" >&2; exit 1; }
	# keepalived and conntrackd are only benchmark peers: never as services.
	for s in keepalived conntrackd; do
		systemctl disable --now "$s" >/dev/null 2>&1 || true
	done
	echo "deps: installed:$need"
	exit 0
fi
echo "deps: missing packages (Debian names):$need" >&2
echo "deps: install them as root, e.g. apt-get install$need" >&2
exit 1
