#!/bin/bash
# The Debian package: cpack builds it from a build configured with the prefix /usr, its
# control data declares the dependencies, conffiles and maintainer scripts, and it
# holds exactly the installed files. As root, `dpkg -i` installs it on this machine, the
# installed configuration checks, and a purge leaves the machine as it was.
source "$(dirname "$0")/lib.sh"

version=$(cache_value CMAKE_PROJECT_VERSION)
arch=$(dpkg --print-architecture)

# The /etc paths are fixed when a build is configured: a package needs a /usr build.
# Reuse this build if it is one, else configure and build one (the daemon, the CLI and
# the simulator: what the package installs).
if [ "$(cache_value CMAKE_INSTALL_PREFIX)" = /usr ]; then
    package_build="$SAFETYGW_BUILD_DIR"
else
    # A build for another prefix refuses to make a package, saying why.
    refuses_other_prefix() {
        ! cpack --config "$SAFETYGW_BUILD_DIR/CPackConfig.cmake" -B "$WORK/refused" \
            >"$WORK/refused.log" 2>&1 && grep -q "CMAKE_INSTALL_PREFIX=/usr" "$WORK/refused.log"
    }
    check "cpack refuses a build whose prefix is not /usr" refuses_other_prefix

    package_build="$WORK/build"
    build_for_usr() {
        cmake -S "$SAFETYGW_SOURCE_DIR" -B "$package_build" -DCMAKE_BUILD_TYPE=Release \
              -DCMAKE_INSTALL_PREFIX=/usr -DSAFETYGW_TESTS=OFF \
              -DSAFETYGW_WERROR="$(cache_value SAFETYGW_WERROR)" >"$WORK/build.log" 2>&1 &&
        cmake --build "$package_build" -j "$(nproc)" >>"$WORK/build.log" 2>&1 ||
            { tail -n 30 "$WORK/build.log"; return 1; }
    }
    check "a Release build with the prefix /usr" build_for_usr
fi

deb="$WORK/cpack/safetygw_${version}_${arch}.deb"
run_cpack() {
    cpack --config "$package_build/CPackConfig.cmake" -B "$WORK/cpack" >"$WORK/cpack.log" 2>&1 ||
        { cat "$WORK/cpack.log"; return 1; }
    [ -f "$deb" ] || { echo "no $deb"; cat "$WORK/cpack.log"; return 1; }
}
check "cpack writes safetygw_${version}_${arch}.deb" run_cpack
[ -f "$deb" ] || finish

# Control data.
field() { dpkg-deb -f "$deb" "$1"; }
field_is() { [ "$(field "$1")" = "$2" ] || { echo "$1: $(field "$1")"; return 1; }; }
check "Package: safetygw" field_is Package safetygw
check "Version: $version" field_is Version "$version"
check "Section: net" field_is Section net
check "Architecture: $arch" field_is Architecture "$arch"
check "a Maintainer" test -n "$(field Maintainer)"
echo "Depends: $(field Depends)"
# Each library the binaries link, by its Debian 12 package (from dpkg-shlibdeps).
depends_on() { field Depends | tr ',' '\n' | grep -qE "^ *$1( \(|$)"; }
for package in libc6 libmodbus5 libpaho-mqtt1.3 libyaml-0-2 libjansson4; do
    check "Depends: $package" depends_on "$(sed 's/[.]/[.]/g' <<<"$package")"
done
# The daemon speaks sd_notify's and journald's protocols itself (gateway/README.md).
no_libsystemd() { ! field Depends | grep -q libsystemd; }
check "no Depends: libsystemd0" no_libsystemd
check "Depends: systemd-sysusers for the postinst" \
    depends_on "systemd [|] systemd-standalone-sysusers [|] systemd-sysusers"
check "Depends: systemd-tmpfiles for the postinst" \
    depends_on "systemd [|] systemd-standalone-tmpfiles [|] systemd-tmpfiles"

dpkg-deb -e "$deb" "$WORK/control"
conffiles_are() {
    local expected
    expected=$(printf '%s\n' /etc/safetygw/gateway.yaml; for profile in \
        "$SAFETYGW_SOURCE_DIR"/config/profiles/*.yaml; do
        echo "/etc/safetygw/profiles/$(basename "$profile")"; done)
    diff <(sort "$WORK/control/conffiles") <(sort <<<"$expected")
}
check "conffiles: gateway.yaml and every profile" conffiles_are
for script in postinst prerm postrm; do
    check "$script is executable" test -x "$WORK/control/$script"
    check "$script is valid sh" sh -n "$WORK/control/$script"
done

# Contents: these files, and nothing outside the product's folders (other parts, such
# as the man pages, add files of their own there).
unit_dir=$(pkg-config --variable=systemdsystemunitdir systemd)
dpkg-deb -c "$deb" | awk '$1 ~ /^-/ { sub(/^\./, "", $6); print $6 }' | sort >"$WORK/contents"
for path in /usr/sbin/safetygwd /usr/bin/safetygw /usr/bin/safetygw-sim \
            "$unit_dir/safetygwd.service" /usr/lib/sysusers.d/safetygw.conf \
            /usr/lib/tmpfiles.d/safetygw.conf /etc/safetygw/gateway.yaml \
            /usr/share/doc/safetygw/config/README.md \
            /usr/share/doc/safetygw/examples/gateway.example.yaml \
            /usr/share/doc/safetygw/examples/sites/changshou/gateway.yaml \
            /usr/share/bash-completion/completions/safetygw; do
    check "the package holds $path" grep -qxF "$path" "$WORK/contents"
done
for profile in "$SAFETYGW_SOURCE_DIR"/config/profiles/*.yaml; do
    name=$(basename "$profile")
    check "the package holds /etc/safetygw/profiles/$name" \
        grep -qxF "/etc/safetygw/profiles/$name" "$WORK/contents"
    check "the package holds the example profile $name" \
        grep -qxF "/usr/share/doc/safetygw/examples/profiles/$name" "$WORK/contents"
done
only_product_folders() {
    local stray
    stray=$(grep -vE -e '^/usr/s?bin/safetygw(d|-sim)?$' -e "^$unit_dir/safetygwd\.service$" \
        -e '^/usr/lib/(sysusers|tmpfiles)\.d/safetygw\.conf$' -e '^/etc/safetygw/' \
        -e '^/usr/share/doc/safetygw/' -e '^/usr/share/man/man[1-8]/safetygw' \
        -e '^/usr/share/bash-completion/completions/safetygw$' "$WORK/contents" || true)
    [ -z "$stray" ] || { echo "stray: $stray"; return 1; }
}
check "nothing outside the product's folders" only_product_folders
every_etc_file_is_a_conffile() {
    diff <(grep '^/etc/' "$WORK/contents") <(sort "$WORK/control/conffiles")
}
check "every file under /etc is a conffile" every_etc_file_is_a_conffile
check "the packaged completion is the source's" \
    cmp -s <(dpkg-deb --fsys-tarfile "$deb" | tar -xOf - ./usr/share/bash-completion/completions/safetygw) \
        "$SAFETYGW_SOURCE_DIR/completion/safetygw.bash"
check "the packaged unit is the source unit" \
    cmp -s <(dpkg-deb --fsys-tarfile "$deb" | tar -xOf - --wildcards '*/safetygwd.service') \
        "$SAFETYGW_SOURCE_DIR/systemd/safetygwd.service"

# Installing it on this machine: root only, one test at a time (other build folders may
# run this test now), and never over a safetygw that is in real use here.
if [ "$(id -u)" -ne 0 ]; then
    echo "skip: dpkg -i needs root"
    finish
fi
exec 9>/tmp/safetygw-package-test.lock
flock -w 240 9 || { fail "another package test holds /tmp/safetygw-package-test.lock"; finish; }

status() { dpkg-query -W -f='${db:Status-Abbrev}' safetygw 2>/dev/null || true; }
in_real_use() {
    [ -n "$(ls -A /var/lib/safetygw 2>/dev/null)" ] ||
        systemctl is-active --quiet safetygwd.service 2>/dev/null ||
        systemctl is-enabled --quiet safetygwd.service 2>/dev/null
}
if [ -n "$(status)" ] && [ "$(status)" != "un " ]; then
    if in_real_use; then
        echo "skip: safetygw is installed and in use on this machine; not touching it"
        finish
    fi
    echo "a previous run left safetygw $(status): purging it"
    dpkg -P safetygw >"$WORK/dpkg-leftover.log" 2>&1 || cat "$WORK/dpkg-leftover.log"
fi
user_existed=no
getent passwd safetygw >/dev/null && user_existed=yes

purge_on_exit() {
    if [ "$(status)" != "" ] && [ "$(status)" != "un " ]; then
        dpkg -P safetygw >/dev/null 2>&1 || true
    fi
    # Debian keeps system users after a purge; a user this test made goes with it.
    if [ "$user_existed" = no ] && getent passwd safetygw >/dev/null; then
        userdel safetygw 2>/dev/null || true
        groupdel safetygw 2>/dev/null || true
    fi
}
CLEANUP_HOOKS="$CLEANUP_HOOKS purge_on_exit"

dpkg_quietly() { dpkg "$@" >"$WORK/dpkg.log" 2>&1 || { cat "$WORK/dpkg.log"; return 1; }; }
check "dpkg -i the package" dpkg_quietly -i "$deb"
check "installed" test "$(status)" = "ii "
check "user safetygw exists" getent passwd safetygw
check "safetygw is in group dialout" bash -c "id -nG safetygw | tr ' ' '\n' | grep -qx dialout"
owner_mode_is() { [ "$(stat -c '%U:%G %a' "$1")" = "$2" ] || { stat -c "$1: %U:%G %a" "$1"; return 1; }; }
check "/var/lib/safetygw is safetygw:safetygw 0750" owner_mode_is /var/lib/safetygw "safetygw:safetygw 750"
check "/run/safetygw is safetygw:safetygw 0750" owner_mode_is /run/safetygw "safetygw:safetygw 750"
check "/etc/safetygw/gateway.yaml is root-owned 0644" \
    owner_mode_is /etc/safetygw/gateway.yaml "root:root 644"
check_ok() {
    local out
    out=$(safetygw check "$1") || { echo "$out"; return 1; }
    echo "$out"
    grep -q '^ok: ' <<<"$out"
}
check "safetygw check /etc/safetygw/gateway.yaml" check_ok /etc/safetygw/gateway.yaml
check "safetygw check the sample site in the docs" \
    check_ok /usr/share/doc/safetygw/examples/sites/changshou/gateway.yaml
# bash-completion finds the completion by the command's name, on first use (its loader
# returns 124, "completion found: try again").
completion_loads() {
    bash -c '. /usr/share/bash-completion/bash_completion; _completion_loader safetygw
             complete -p safetygw' | grep -q -- '-F _safetygw safetygw$'
}
if [ -f /usr/share/bash-completion/bash_completion ]; then
    check "bash-completion loads the completion of safetygw" completion_loads
fi
installed_unit="$(pkg-config --variable=systemdsystemunitdir systemd)/safetygwd.service"
verify_installed() { systemd-analyze verify --man=no "$installed_unit"; }
check "systemd-analyze verify of the installed unit" verify_installed
# The example configuration is not this site's: a first installation stays disabled.
check "not enabled by the installation" \
    test ! -e /etc/systemd/system/multi-user.target.wants/safetygwd.service

# The daemon as the unit runs it (user safetygw, group dialout; without the sandbox,
# which needs systemd as PID 1): its default state_dir and control_socket are the
# unit's directories, and the socket lets group safetygw in and nobody else.
free_port() {
    local port
    while :; do
        port=$((10000 + RANDOM % 22000)) # below the ephemeral range (32768-)
        if ! (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then echo "$port"; return; fi
    done
}
run_dir="$WORK/run-as-safetygw"
mkdir -p "$run_dir"
chmod 0711 "$WORK"
# Nothing listens on either port: the daemon runs, retries and reports them.
cat >"$run_dir/gateway.yaml" <<YAML
gateway: { id: package-test }
mqtt: { uri: "tcp://127.0.0.1:$(free_port)" }
profiles: [ /etc/safetygw/profiles ]
buses:
  - { name: converter, type: tcp, host: 127.0.0.1, port: $(free_port), timeout_ms: 100 }
devices:
  - { id: gas-1, profile: gas-alarm, bus: converter, address: 1 }
YAML
chmod -R a+rX "$run_dir"
setpriv --reuid=safetygw --regid=safetygw --init-groups \
    /usr/sbin/safetygwd -c "$run_dir/gateway.yaml" >"$WORK/daemon.log" 2>&1 &
daemon_pid=$!
stop_daemon() { kill "$daemon_pid" 2>/dev/null && wait "$daemon_pid" 2>/dev/null || true; }
CLEANUP_HOOKS="stop_daemon $CLEANUP_HOOKS"
socket_appears() {
    for _ in $(seq 50); do
        [ -S /run/safetygw/control.sock ] && return 0
        sleep 0.1
    done
    cat "$WORK/daemon.log"; return 1
}
check "the daemon makes /run/safetygw/control.sock" socket_appears
check "control.sock is safetygw:safetygw 0660" \
    owner_mode_is /run/safetygw/control.sock "safetygw:safetygw 660"
safetygw_gid=$(getent group safetygw | cut -d: -f3)
# Exit codes: 0 ok, 1 bad news (the broker is down here), 2 no connection.
status_as() {
    local code=0
    setpriv --reuid=nobody --regid="$1" --clear-groups safetygw status >"$WORK/status.out" 2>&1 ||
        code=$?
    echo "status as nobody:$1 exits $code"
    [ "$code" -ne 2 ] || cat "$WORK/status.out"
    return "$code"
}
status_connects() { local code=0; status_as "$safetygw_gid" || code=$?; [ "$code" -le 1 ]; }
status_refused() { local code=0; status_as "$(id -g nobody)" || code=$?; [ "$code" -eq 2 ]; }
check "a member of group safetygw gets safetygw status" status_connects
check "others cannot reach the control socket" status_refused
check "the state lands in /var/lib/safetygw" test -n "$(ls -A /var/lib/safetygw)"
state_not_world_readable() {
    ! find /var/lib/safetygw -perm /o=rwx | grep . && ! find /var/lib/safetygw ! -user safetygw | grep .
}
check "state files belong to safetygw, none world-readable" state_not_world_readable
sigterm_exits_0() {
    local code=0
    kill -TERM "$daemon_pid"
    wait "$daemon_pid" || code=$?
    [ "$code" -eq 0 ] || { echo "exit $code"; tail -n 20 "$WORK/daemon.log"; return 1; }
}
check "SIGTERM: the daemon exits 0" sigterm_exits_0

# Installing it again (an upgrade in place) works and keeps the edits to conffiles.
echo "# edited by the package test" >>/etc/safetygw/gateway.yaml
check "dpkg -i again over it" dpkg_quietly -i --force-confold "$deb"
check "the edited gateway.yaml is kept" grep -q "edited by the package test" /etc/safetygw/gateway.yaml

check "dpkg -P safetygw" dpkg_quietly -P safetygw
check "not installed any more" test -z "$(status | tr -d ' u')"
for path in /etc/safetygw /var/lib/safetygw /run/safetygw "$installed_unit" /usr/sbin/safetygwd \
            /usr/bin/safetygw /usr/share/doc/safetygw /usr/share/bash-completion/completions/safetygw; do
    check "purged: $path" test ! -e "$path"
done

finish
