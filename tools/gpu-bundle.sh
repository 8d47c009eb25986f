#!/usr/bin/env bash
# Packs compseg for a machine without a Swift toolchain (the GPU machine: Ubuntu, glibc newer than
# Debian 12's): a release build with the Swift runtime linked in (--static-swift-stdlib, build
# folder .build-gpu), its resource bundles, and every shared library it loads beyond glibc, in one
# compressed archive. Unpacked, `compseg-bundle/run ARGS…` runs `compseg ARGS…` with those
# libraries. NVIDIA's libraries are not packed: compseg finds them at run time (README, "CUDA
# libraries"). PyTorch's benchmark (../shared/bench/torch_compsegnet.py, which does not travel to
# the GPU machine) is copied beside the archive, for tools/gpu-check.sh, with sources.sha256: the
# digest of the sources the build was made from, which gpu-check.sh compares with the tree it runs in.
#
#   tools/gpu-bundle.sh [ARCHIVE]      (default: gpu/compseg-bundle.tar.xz; gpu/ is git-ignored)
set -euo pipefail
cd "$(dirname "$0")/.."
archive=${1:-gpu/compseg-bundle.tar.xz}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
bundle=$work/compseg-bundle
# The digest of what the build is made from (taken first: an edit during the build makes it stale).
# (Everything the compseg product is built from: the same list as tools/gpu-check.sh's.)
sources() { find Sources Plugins modalities Package.swift -type f | LC_ALL=C sort | xargs sha256sum | sha256sum | cut -d' ' -f1; }
digest=$(sources)

swift build -c release --static-swift-stdlib --build-path .build-gpu --product compseg >&2
mkdir -p "$bundle/lib"
cp .build-gpu/release/compseg "$bundle/"
for resources in .build-gpu/release/*.resources; do [ -e "$resources" ] && cp -r "$resources" "$bundle/"; done
# Everything ldd resolves except glibc's own libraries and GCC's C++ runtime, which the target
# brings (newer is fine; NVIDIA's libraries, opened later, may need the target's newer libstdc++).
ldd "$bundle/compseg" | awk '/=> \// { print $3 }' \
    | grep -vE '/(libc|libm|libmvec|libpthread|libdl|librt|libresolv|libutil|libanl|libnsl|libstdc\+\+|libgcc_s)\.so' \
    | while read -r library; do cp -L "$library" "$bundle/lib/"; done
cat > "$bundle/run" <<'EOF'
#!/usr/bin/env bash
# Runs the packed compseg with the libraries packed beside it.
here=$(dirname "$(readlink -f "$0")")
export LD_LIBRARY_PATH="$here/lib${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
exec "$here/compseg" "$@"
EOF
chmod +x "$bundle/run"
# The packed binary must find nothing outside the bundle but glibc and the C++ runtime.
missing=$(LD_LIBRARY_PATH="$bundle/lib" ldd "$bundle/compseg" | awk '/not found/ { print $1 }')
[ -z "$missing" ] || { echo "gpu-bundle: not packed: $missing" >&2; exit 1; }
mkdir -p "$(dirname "$archive")"
tar -C "$work" -cf - compseg-bundle | xz -T2 -6 > "$archive.tmp"
mv "$archive.tmp" "$archive"
cp ../shared/bench/torch_compsegnet.py "$(dirname "$archive")/"
echo "$digest" > "$(dirname "$archive")/sources.sha256"
echo "$archive: $(du -h "$archive" | cut -f1) ($(du -sh "$bundle" | cut -f1) unpacked)"
