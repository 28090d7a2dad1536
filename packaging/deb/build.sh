#!/usr/bin/env bash
# Builds dist/suitecheck_VERSION_ARCH.deb from the static binary (make deb)
# with Debian's own tools: dpkg-deb --root-owner-group (files owned by root
# without fakeroot), then lintian, whose every E: fails the build (and, with
# LINTIAN_STRICT=1, every W:). Reads GO, BIN, VERSION and COMMIT from the
# Makefile; DEB_MAINTAINER overrides the Maintainer field.
set -euo pipefail

cd "$(dirname "$0")/../.."
GO=${GO:-go}
BIN=${BIN:-bin/suitecheck}
VERSION=${VERSION:-$(packaging/version)}
COMMIT=${COMMIT:-$(git rev-parse --short=12 HEAD 2>/dev/null || echo unknown)}
MAINTAINER=${DEB_MAINTAINER:-suitecheck maintainers <maintainers@users.noreply.r-seed-c456ca7d.example>}
here=packaging/deb

die() {
	echo "make deb: $*" >&2
	exit 1
}

for tool in dpkg-deb lintian gzip md5sum; do
	command -v "$tool" >/dev/null 2>&1 || die "$tool is missing: make deps installs it (or: sudo apt-get install lintian)"
done
[ -x "$BIN" ] || die "$BIN is missing: make build first"

# The Debian architecture of the binary Go built.
goarch=$(GOFLAGS= "$GO" env GOARCH)
case $goarch in
amd64 | arm64 | s390x | riscv64) arch=$goarch ;;
386) arch=i386 ;;
arm) arch=armhf ;;
ppc64le) arch=ppc64el ;;
*) die "GOARCH $goarch has no Debian architecture here" ;;
esac

# v1.2.3 -> 1.2.3-1; v1.2.3-4-gabc -> 1.2.3+git4.gabc-1; the pseudo-version
# v0.0.0-20261130102811-4ef36c49ea50 -> 0.0.0~git20261130102811.4ef36c49ea50-1
# (~ sorts it before a real 0.0.0); -dirty -> .dirty. The -1 is the Debian
# revision: the package is not native to Debian.
upstream=${VERSION#v}
case $upstream in
[0-9]*) ;;
*) die "version $VERSION does not start with a digit after its v" ;;
esac
case $upstream in
0.0.0-*) upstream="0.0.0~git${upstream#0.0.0-}" ;;
*-*) upstream="${upstream%%-*}+git${upstream#*-}" ;;
esac
debversion="${upstream//-/.}-1"

# The commit's time: man page dates, the changelog, file times.
if [ -z "${SOURCE_DATE_EPOCH:-}" ]; then
	SOURCE_DATE_EPOCH=$(git log -1 --format=%ct 2>/dev/null || date +%s)
fi
export SOURCE_DATE_EPOCH

name=suitecheck_${debversion}_${arch}
stage=dist/build/$name
deb=dist/$name.deb
rm -rf "$stage" "$deb"
umask 022
mkdir -p "$stage/DEBIAN"

# The plugin, where the monitoring-plugins live, and a link for shells.
install -D -m 0755 "$BIN" "$stage/usr/lib/nagios/plugins/suitecheck"
install -d "$stage/usr/bin"
ln -s ../lib/nagios/plugins/suitecheck "$stage/usr/bin/suitecheck"

# Man pages and completions, from the command tree.
gen=dist/build/gen
rm -rf "$gen"
GOOS= GOARCH= "$GO" run ./internal/tools/genman -man "$gen/man" -completions "$gen/completions" -version "$VERSION"
install -d "$stage/usr/share/man/man1"
for page in "$gen"/man/*.1; do
	gzip -9n <"$page" >"$stage/usr/share/man/man1/$(basename "$page").gz"
done
install -D -m 0644 "$gen/completions/bash/suitecheck" "$stage/usr/share/bash-completion/completions/suitecheck"
install -D -m 0644 "$gen/completions/zsh/_suitecheck" "$stage/usr/share/zsh/vendor-completions/_suitecheck"
install -D -m 0644 "$gen/completions/fish/suitecheck.fish" "$stage/usr/share/fish/vendor_completions.d/suitecheck.fish"

# The monitoring clients' definitions, as contrib/ has them (the
# conformance tests run these very files, installed).
install -D -m 0644 contrib/icinga2/suitecheck.conf "$stage/usr/share/icinga2/include/plugins-contrib.d/suitecheck.conf"
install -D -m 0644 contrib/nagios4/suitecheck.cfg "$stage/etc/nagios-plugins/config/suitecheck.cfg"
install -D -m 0644 contrib/monit/suitecheck "$stage/etc/monit/conf-available/suitecheck"

# Docs and examples.
doc=$stage/usr/share/doc/suitecheck
install -D -m 0644 "$here/copyright" "$doc/copyright"
gzip -9n <README.md >"$doc/README.md.gz"
install -d "$doc/examples/icinga2" "$doc/examples/jenkins"
"$BIN" demo --print-config >"$doc/examples/suitecheck.yaml"
install -m 0644 contrib/icinga2/suitecheck-services.conf contrib/icinga2/zones.conf "$doc/examples/icinga2/"
install -d "$doc/examples/icinga2/zones.d/satellite"
install -m 0644 contrib/icinga2/zones.d/satellite/suitecheck.conf "$doc/examples/icinga2/zones.d/satellite/"
install -m 0644 contrib/jenkins/Jenkinsfile contrib/jenkins/suitecheck-stage.sh "$doc/examples/jenkins/"
# The shared browser's unit, to copy: a package that installs it under
# /usr/lib/systemd/system would be expected to enable and start it.
install -D -m 0644 contrib/systemd/suitecheck-chromium.service "$doc/examples/systemd/suitecheck-chromium.service"
chmod 0644 "$doc/examples/suitecheck.yaml"
{
	printf 'suitecheck (%s) unstable; urgency=medium\n\n' "$debversion"
	printf '  * Built from suitecheck %s\n' "$VERSION"
	printf '    (commit %s); the changes are in the git history.\n\n' "$COMMIT"
	printf ' -- %s  %s\n' "$MAINTAINER" "$(LC_ALL=C date -u -R -d "@$SOURCE_DATE_EPOCH")"
} | gzip -9n >"$doc/changelog.Debian.gz"
install -D -m 0644 "$here/lintian-overrides" "$stage/usr/share/lintian/overrides/suitecheck"

# Control files: everything under /etc is a conffile (an admin's edits
# survive upgrades; purge removes them).
(cd "$stage" && find etc -type f -printf '/%p\n' | sort) >"$stage/DEBIAN/conffiles"
install -m 0755 "$here/postinst" "$here/postrm" "$stage/DEBIAN/"
(cd "$stage" && find usr -type f -print0 | sort -z | xargs -0 md5sum) >"$stage/DEBIAN/md5sums"
size=$(du -sk --exclude=DEBIAN "$stage" | cut -f1)
sed -e "s/@VERSION@/$debversion/" -e "s/@ARCH@/$arch/" -e "s/@SIZE@/$size/" -e "s/@MAINTAINER@/$MAINTAINER/" \
	"$here/control.in" >"$stage/DEBIAN/control"
chmod 0644 "$stage/DEBIAN/control" "$stage/DEBIAN/conffiles" "$stage/DEBIAN/md5sums"

# Every module linked into the binary is in the copyright file.
missing=
for mod in $(GOFLAGS= "$GO" version -m "$BIN" | awk '$1 == "dep" { print $2 }'); do
	grep -qx "Files: vendor/$mod/\*" "$here/copyright" || missing="$missing $mod"
done
[ -z "$missing" ] || die "packaging/deb/copyright lacks a Files: vendor/MODULE/* paragraph for:$missing"

find "$stage" -exec touch -h -d "@$SOURCE_DATE_EPOCH" {} +
dpkg-deb --root-owner-group -Zxz --build "$stage" "$deb" >/dev/null

# lintian: no error may remain; warnings are fixed, or overridden in
# packaging/deb/lintian-overrides with the reason (README, Install).
report=dist/build/lintian.txt
lintian --display-info --show-overrides --fail-on none "$deb" >"$report" 2>&1 || true
cat "$report" >&2
if grep -q '^E: ' "$report"; then
	die "lintian found errors in $deb (above)"
fi
if [ "${LINTIAN_STRICT:-}" = 1 ] && grep -q '^W: ' "$report"; then
	die "lintian found warnings in $deb (above; LINTIAN_STRICT=1)"
fi
echo "$deb"
