#!/bin/sh
# Coverage-guided fuzzing of every tests/fuzz/fuzz_*.c with clang's
# libFuzzer, FUZZ_TIME seconds each. Builds into $B-fuzz (default
# build-fuzz) so it never disturbs the normal build; crashes and the grown
# corpora are left there.
cc=${1:-clang}; t=${2:-60}
top=$(cd "$(dirname "$0")/../.." && pwd); cd "$top" || exit 1
command -v "$cc" >/dev/null || { echo "fuzz: $cc not found (apt-get install clang)"; exit 1; }
FB=${B:-build}-fuzz
make -s B="$FB" "$FB/libcarpd.a" "$FB/libsyncd.a" "$FB/libproto.a" \
    "$FB/libcommon.a" SAN=1 CC="$cc" \
    CFLAGS="-O1 -g -fsanitize=fuzzer-no-link" || exit 1
libs=$(pkg-config --libs libpcap libmnl libnetfilter_conntrack libsodium nettle)
mkdir -p "$FB/fuzz"
rc=0
for f in tests/fuzz/fuzz_*.c; do
	n=$(basename "$f" .c)
	$cc -O1 -g -fsanitize=fuzzer,address,undefined -D_GNU_SOURCE -I. \
	    -Icommon -Iproto -Icarpd -Isyncd -o "$FB/fuzz/$n" "$f" \
	    "$FB/libcarpd.a" "$FB/libsyncd.a" "$FB/libproto.a" \
	    "$FB/libcommon.a" $libs || { rc=1; continue; }
	c=tests/fuzz/corpus/${n#fuzz_}
	mkdir -p "$FB/fuzz/$n.corpus"
	(cd "$FB/fuzz" && ./$n -max_total_time="$t" $n.corpus "$top/$c") ||
	    rc=1
done
exit $rc
