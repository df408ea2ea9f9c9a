#!/bin/sh
# tests/netns/test_deb.sh: the Debian packages carpd and syncd.
#
# Builds them with scripts/mkdeb.sh (what make deb runs), unpacks them into
# a throwaway root and checks what an administrator finds there: binaries
# that run from /usr/sbin and print the version debian/changelog carries,
# units where systemd looks for them that systemd-analyze verifies,
# compressed man pages, the conffiles, examples, the copyright, maintainer
# scripts that neither enable nor start a service on install, and lintian
# without errors. It makes no namespace; it lives here because tests/run.sh
# runs tests/netns/test_*.sh as root.

. "$(dirname "$0")/lib.sh"

for c in dpkg-buildpackage dh lintian systemd-analyze readelf; do
	if ! command -v "$c" >/dev/null 2>&1; then
		skip "debian packages" "$c is not installed (make deps installs it)"
		exit 0
	fi
done

ver=$(make -s --no-print-directory -C "$TOP" version)
chv=$(dpkg-parsechangelog -l "$TOP/debian/changelog" -SVersion)
check "Makefile VERSION ($ver) is debian/changelog's ($chv)" \
    [ -n "$ver" -a "$ver" = "$chv" ]

# What git sees in the tree before the build, to compare after it.
tree_state() {
	git -C "$TOP" status --porcelain --ignored --untracked-files=all \
	    -- debian scripts docs Makefile 2>/dev/null
}
before=$(tree_state)

out=$T_DIR/deb
if sh "$TOP/scripts/mkdeb.sh" "$out" >"$T_DIR/mkdeb.log" 2>&1; then
	ok "dpkg-buildpackage -us -uc -b built the packages"
else
	not_ok "dpkg-buildpackage -us -uc -b built the packages"
	dump "$T_DIR/mkdeb.log"
	exit 1
fi

arch=$(dpkg --print-architecture)
root=$T_DIR/root
run_systemd=$T_DIR/run-systemd
mkdir -p "$root" "$run_systemd" "$T_DIR/stub"
# Stand-ins for the commands the maintainer scripts call: they only log,
# and answer as on a first install (not installed before; was-enabled is
# true then, so a script that enables by default does).
for c in deb-systemd-helper deb-systemd-invoke systemctl; do
	printf '#!/bin/sh\necho "%s $*" >> "%s"\n%s\n' "$c" "$T_DIR/calls" \
	    'case "$*" in *debian-installed*) exit 1 ;; esac' \
	    > "$T_DIR/stub/$c"
	chmod +x "$T_DIR/stub/$c"
done

# script PKG NAME ARGS...: run a copy of a maintainer script with the stubs
# first in PATH and its "is systemd running" test pointed at a directory
# that exists; prints the calls it made.
script() {
	_s=$T_DIR/ctl/$1/$2; shift 2
	sed "s|/run/systemd/system|$run_systemd|g" "$_s" > "$_s.run"
	: > "$T_DIR/calls"
	PATH=$T_DIR/stub:$PATH sh "$_s.run" "$@" >/dev/null 2>&1 || return 1
	cat "$T_DIR/calls"
}

# unit PKG: the packaged unit, where systemd looks for it.
unit() {
	for d in lib/systemd/system usr/lib/systemd/system; do
		[ -f "$root/$d/$1.service" ] && echo "$root/$d/$1.service"
	done
}

for p in carpd syncd; do
	deb=$out/${p}_${ver}_$arch.deb
	if [ ! -f "$deb" ]; then
		not_ok "$p: $deb was built"
		ls -l "$out" | sed 's/^/# /'
		continue
	fi
	ok "$p: $(basename "$deb") was built"
	dpkg -x "$deb" "$root"
	mkdir -p "$T_DIR/ctl/$p"
	dpkg-deb -e "$deb" "$T_DIR/ctl/$p"

	bin=$root/usr/sbin/$p
	check "$p --version from /usr/sbin/$p prints \"$p $ver\"" \
	    [ "$("$bin" --version 2>&1)" = "$p $ver" ]
	check "$p -V prints \"$p $ver\"" [ "$("$bin" -V 2>&1)" = "$p $ver" ]
	check "$p is hardened: PIE, bound now, fortified, stack protector" \
	    sh -c "readelf -h '$bin' | grep -q 'Type: *DYN' &&
	    readelf -d '$bin' | grep -q BIND_NOW &&
	    readelf --dyn-syms -W '$bin' | grep -q '__snprintf_chk' &&
	    readelf --dyn-syms -W '$bin' | grep -q '__stack_chk_fail'"

	u=$(unit "$p")
	check "$p.service in /lib/systemd/system or /usr/lib/systemd/system" \
	    [ -n "$u" -a "$(echo "$u" | wc -l)" -eq 1 ]
	check "$p.service runs /usr/sbin/$p, no placeholder left" \
	    sh -c "grep -q '^ExecStart=/usr/sbin/$p ' '$u' &&
	    ! grep -q @ '$u'"
	# systemd-analyze verify looks for ExecStart's binary on this host:
	# a copy of the unit points it at the unpacked one, and man at the
	# unpacked man pages (Documentation=man:...).
	mkdir -p "$T_DIR/units"
	sed "s|^ExecStart=/usr/sbin/|ExecStart=$root/usr/sbin/|" "$u" \
	    > "$T_DIR/units/$p.service"
	if MANPATH=$root/usr/share/man systemd-analyze verify \
	    "$T_DIR/units/$p.service" >"$T_DIR/verify.log" 2>&1 &&
	    [ ! -s "$T_DIR/verify.log" ]; then
		ok "systemd-analyze verify $p.service: no complaint"
	else
		not_ok "systemd-analyze verify $p.service: no complaint"
		dump "$T_DIR/verify.log"
	fi

	for m in man8/$p.8 man5/$p.conf.5; do
		check "man page $m, gzipped" \
		    sh -c "gzip -dc '$root/usr/share/man/$m.gz' | grep -q '^\.Dt'"
	done

	check "$p: /etc/$p.conf is a conffile" \
	    grep -qx "/etc/$p.conf" "$T_DIR/ctl/$p/conffiles"
	check "$p: /etc/$p.conf ships with every setting commented out" \
	    sh -c "[ -f '$root/etc/$p.conf' ] &&
	    ! grep -v '^#' '$root/etc/$p.conf' | grep -q '[^[:space:]]'"
	check "$p: examples/$p.conf is docs/examples/$p.conf" \
	    cmp -s "$root/usr/share/doc/$p/examples/$p.conf" \
	    "$TOP/docs/examples/$p.conf"
	check "$p: copyright says ISC" \
	    grep -q '^License: ISC' "$root/usr/share/doc/$p/copyright"

	calls=$(script "$p" postinst configure)
	if [ $? -eq 0 ] && ! echo "$calls" | grep -Eq ' (enable|start|restart) '
	then
		ok "$p: install neither enables nor starts $p.service"
	else
		not_ok "$p: install neither enables nor starts $p.service"
		echo "$calls" | sed 's/^/#   /'
	fi
	calls=$(script "$p" postinst configure 0.1)
	check "$p: upgrade restarts $p.service if it runs" \
	    sh -c "echo '$calls' | grep -q 'deb-systemd-invoke try-restart $p.service'"
	calls=$(script "$p" prerm remove)
	check "$p: removal stops $p.service" \
	    sh -c "echo '$calls' | grep -q 'deb-systemd-invoke stop $p.service'"
done

# lintian: an error (or lintian failing) fails; every tag is shown.
if (cd "$out" && lintian --allow-root --fail-on error -I --pedantic \
    --tag-display-limit 0 ./*.changes) >"$T_DIR/lintian.log" 2>&1 &&
    ! grep -q '^E:' "$T_DIR/lintian.log"; then
	ok "lintian: no error ($(grep -c '^W:' "$T_DIR/lintian.log") warnings)"
else
	not_ok "lintian: no error"
fi
sed 's/^/# lintian: /' "$T_DIR/lintian.log"

check "the package build left the source tree as it was" \
    [ "$(tree_state)" = "$before" ]
