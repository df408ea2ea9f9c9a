#!/bin/sh
# Coverage-guided fuzzing of every tests/fuzz/fuzz_*.c with clang's
# libFuzzer, FUZZ_TIME seconds each; crashes are left in build/fuzz/.
cc=${1:-clang}; t=${2:-60}
top=$(cd "$(dirname "$0")/../.." && pwd); cd "$top" || exit 1
command -v "$cc" >/dev/null || { echo "fuzz: $cc not found (apt-get install clang)"; exit 1; }
make -s build/libcarpd.a build/libsyncd.a build/libproto.a build/libcommon.a SAN=1 CC="$cc" \
    CFLAGS="-O1 -g -fsanitize=fuzzer-no-link" || exit 1
libs=$(pkg-config --libs libpcap libmnl libnetfilter_conntrack libsodium nettle)
mkdir -p build/fuzz
rc=0
for f in tests/fuzz/fuzz_*.c; do
	n=$(basename "$f" .c)
	$cc -O1 -g -fsanitize=fuzzer,address,undefined -D_GNU_SOURCE -I. -Icommon -Iproto -Icarpd -Isyncd \
	    -o build/fuzz/$n "$f" build/libcarpd.a build/libsyncd.a build/libproto.a build/libcommon.a $libs || { rc=1; continue; }
	c=tests/fuzz/corpus/${n#fuzz_}; mkdir -p build/fuzz/$n.corpus
	(cd build/fuzz && ./$n -max_total_time="$t" $n.corpus "$top/$c") || rc=1
done
exit $rc
