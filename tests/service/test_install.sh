#!/bin/bash
# `cmake --install` into a DESTDIR puts every file where the unit, the daemon and the
# documentation expect it, and the installed configuration checks as it is.
source "$(dirname "$0")/lib.sh"

prefix=$(cache_value CMAKE_INSTALL_PREFIX)
unit_dir=$(cache_value SAFETYGW_SYSTEMD_UNIT_INSTALL_DIR)
# GNUInstallDirs: the prefix /usr keeps its configuration in /etc.
case "$prefix" in
    /usr) etc=/etc ;;
    *) etc="$prefix/etc" ;;
esac
destdir="$WORK/destdir"
install_quietly() {
    DESTDIR="$destdir" cmake --install "$SAFETYGW_BUILD_DIR" >"$WORK/install.log" ||
        { cat "$WORK/install.log"; return 1; }
}
check "cmake --install into a DESTDIR" install_quietly

installed() { [ -f "$destdir$1" ] || { echo "missing: $1"; return 1; }; }
executable() { [ -x "$destdir$1" ] || { echo "not executable: $1"; return 1; }; }
same_as_source() { cmp -s "$destdir$1" "$SAFETYGW_SOURCE_DIR/$2" || { echo "differs: $1"; return 1; }; }

check "$prefix/sbin/safetygwd" executable "$prefix/sbin/safetygwd"
check "$prefix/bin/safetygw" executable "$prefix/bin/safetygw"
check "$prefix/bin/safetygw-sim" executable "$prefix/bin/safetygw-sim"
# The unit names the package's paths; another prefix gets its own.
installed_unit="$destdir$unit_dir/safetygwd.service"
if [ "$prefix" = /usr ]; then
    check "$unit_dir/safetygwd.service" \
        same_as_source "$unit_dir/safetygwd.service" systemd/safetygwd.service
else
    check "$unit_dir/safetygwd.service runs $prefix/sbin/safetygwd" grep -qxF \
        "ExecStart=$prefix/sbin/safetygwd -c $etc/safetygw/gateway.yaml" "$installed_unit"
    # Otherwise the same file.
    same_but_paths() {
        diff <(grep -v -e '^ExecStart=' -e '^Documentation=' -e '^#' "$installed_unit") \
             <(grep -v -e '^ExecStart=' -e '^Documentation=' -e '^#' "$SAFETYGW_SOURCE_DIR/systemd/safetygwd.service")
    }
    check "$unit_dir/safetygwd.service differs only in its paths" same_but_paths
fi
check "$prefix/lib/sysusers.d/safetygw.conf" \
    same_as_source "$prefix/lib/sysusers.d/safetygw.conf" systemd/safetygw.sysusers
check "$prefix/lib/tmpfiles.d/safetygw.conf" \
    same_as_source "$prefix/lib/tmpfiles.d/safetygw.conf" systemd/safetygw.tmpfiles
check "$prefix/share/bash-completion/completions/safetygw" \
    same_as_source "$prefix/share/bash-completion/completions/safetygw" completion/safetygw.bash
check "$etc/safetygw/gateway.yaml is the example" \
    same_as_source "$etc/safetygw/gateway.yaml" config/gateway.example.yaml
doc="$prefix/share/doc/safetygw"
check "$doc/config/README.md" same_as_source "$doc/config/README.md" config/README.md
check "$doc/examples/gateway.example.yaml" \
    same_as_source "$doc/examples/gateway.example.yaml" config/gateway.example.yaml
check "$doc/examples/sites/changshou/gateway.yaml" \
    same_as_source "$doc/examples/sites/changshou/gateway.yaml" config/sites/changshou/gateway.yaml
for profile in "$SAFETYGW_SOURCE_DIR"/config/profiles/*.yaml; do
    name=$(basename "$profile")
    check "$etc/safetygw/profiles/$name" same_as_source "$etc/safetygw/profiles/$name" "config/profiles/$name"
    check "$doc/examples/profiles/$name" same_as_source "$doc/examples/profiles/$name" "config/profiles/$name"
done

# Nothing stray (a test program, a header): every installed file is in a folder of
# the product. Other parts (man pages) add files of their own there.
only_product_folders() {
    local stray
    stray=$(cd "$destdir" && find . -type f | sed 's|^\.||' | grep -vE \
        -e "^$prefix/s?bin/safetygw(d|-sim)?$" -e "^$unit_dir/safetygwd\.service$" \
        -e "^$prefix/lib/(sysusers|tmpfiles)\.d/safetygw\.conf$" -e "^$etc/safetygw/" \
        -e "^$prefix/share/doc/safetygw/" -e "^$prefix/share/man/man[1-8]/safetygw" \
        -e "^$prefix/share/bash-completion/completions/safetygw$" || true)
    [ -z "$stray" ] || { echo "stray: $stray"; return 1; }
}
check "only the product's files are installed" only_product_folders

# "profiles: [ profiles ]" is relative to the file: the installed copies find theirs.
cli="$destdir$prefix/bin/safetygw"
check_ok() {
    local out
    out=$("$cli" check "$1") || { echo "$out"; return 1; }
    grep -q '^ok: ' <<<"$out" || { echo "$out"; return 1; }
}
check "safetygw check the installed gateway.yaml" check_ok "$destdir$etc/safetygw/gateway.yaml"
check "safetygw check the installed sample site" \
    check_ok "$destdir$doc/examples/sites/changshou/gateway.yaml"

finish
