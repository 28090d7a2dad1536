#!/bin/sh
# A tenant store for the command provisioner's tests: one file per tenant
# in $STORE. Usage: tenants.sh create NAME | delete ID | get ID | list
set -eu
case "$1" in
create)
	[ -e "$STORE/refuse" ] && { echo "tenant quota exceeded" >&2; exit 4; }
	id=$(od -An -N4 -tu4 /dev/urandom | tr -d ' ')
	printf '%s %s\n' "$2" "$(date -u +%Y-%m-%dT%H:%M:%SZ)" > "$STORE/$id"
	printf '{"id": %s, "name": "%s", "login": "%s@example.com", "password": "pw-%s-secret", "admin": true}\n' "$id" "$2" "$2" "$id"
	;;
delete)
	[ -e "$STORE/refuse-delete" ] && { echo "delete refused" >&2; exit 5; }
	[ -e "$STORE/hang-delete" ] && exec sleep 300
	rm -f "$STORE/$2"
	;;
get)
	[ -f "$STORE/$2" ] || { echo null; exit 0; }
	read -r name created < "$STORE/$2"
	printf '{"id": "%s", "name": "%s"}\n' "$2" "$name"
	;;
list)
	printf '['
	sep=
	for f in "$STORE"/*; do
		[ -f "$f" ] || continue
		id=$(basename "$f")
		case "$id" in refuse* | hang*) continue ;; esac
		read -r name created < "$f"
		printf '%s{"id": "%s", "name": "%s", "created": "%s"}' "$sep" "$id" "$name" "$created"
		sep=,
	done
	printf ']\n'
	;;
esac
