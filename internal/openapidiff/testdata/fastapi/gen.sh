#!/bin/sh
# Writes the OpenAPI documents of app.py, every variant, as real FastAPI generates them:
#   fastapi-0.92/VARIANT.json   FastAPI 0.92 + Pydantic 1.10 (Debian 12's python3-fastapi), OpenAPI 3.0.2
#   fastapi-0.115/VARIANT.json  FastAPI 0.115 + Pydantic 2.10 (Debian 13's packages), OpenAPI 3.1.0
# CI reads the committed JSON and needs none of this.
#
# Debian 12:  apt-get install python3-fastapi
# Debian 13:  its packages, downloaded into a private apt folder and unpacked (the machine's own
#             apt state stays untouched), run with pyenv's Python 3.13 through Debian 13's own
#             loader: Pydantic 2's compiled core needs glibc 2.38, Debian 12 has 2.36.
#   DEB13=/tmp/deb13 ./gen.sh        (the folder is made and filled when it has no root/ yet)
set -eu
here=$(cd "$(dirname "$0")" && pwd)
variants=$(/usr/bin/python3 -c 'import sys; sys.argv=["", "mirror"]; exec(open("'"$here"'/app.py").read().split("if VARIANT not in")[0]); print(" ".join(sorted(VARIANTS)))')

mkdir -p "$here/fastapi-0.92" "$here/fastapi-0.115"
for v in $variants; do
	/usr/bin/python3 "$here/app.py" "$v" >"$here/fastapi-0.92/$v.json"
done

DEB13=${DEB13:-/tmp/deb13}
if [ ! -d "$DEB13/root" ]; then
	mkdir -p "$DEB13/etc" "$DEB13/state/lists/partial" "$DEB13/cache/archives/partial" "$DEB13/pkgs"
	sed 's/bookworm/trixie/g' /etc/apt/sources.list.d/debian.sources >"$DEB13/etc/trixie.sources"
	apt="-o Dir::Etc::SourceList=/dev/null -o Dir::Etc::SourceParts=$DEB13/etc -o Dir::State=$DEB13/state -o Dir::Cache=$DEB13/cache"
	# shellcheck disable=SC2086
	apt-get $apt update
	# shellcheck disable=SC2086
	(cd "$DEB13/pkgs" && apt-get $apt download python3-fastapi python3-pydantic python3-pydantic-core \
		python3-starlette python3-typing-extensions python3-annotated-types python3-anyio python3-sniffio python3-idna libc6)
	for deb in "$DEB13"/pkgs/*.deb; do dpkg-deb -x "$deb" "$DEB13/root"; done
fi
py=${PY313:-$HOME/.pyenv/versions/3.13.0}
for v in $variants; do
	PYTHONPATH="$DEB13/root/usr/lib/python3/dist-packages" \
		"$DEB13/root/usr/lib/x86_64-linux-gnu/ld-linux-x86-64.so.2" \
		--library-path "$DEB13/root/usr/lib/x86_64-linux-gnu:$py/lib" \
		"$py/bin/python3.13" "$here/app.py" "$v" >"$here/fastapi-0.115/$v.json"
done
