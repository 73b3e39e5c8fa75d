#!/bin/bash
# safetygwd.service passes `systemd-analyze verify`, declares the contract of
# DESIGN.md (Type=notify, watchdog, reload, stop) and the hardening, and the sysusers.d
# and tmpfiles.d files create the user and folders the unit expects.
source "$(dirname "$0")/lib.sh"

# verify checks that ExecStart exists: a copy runs the binary of this build. The copy
# keeps the unit's name, which verify uses.
daemon="$SAFETYGW_BUILD_DIR/gateway/safetygwd"
mkdir -p "$WORK/unit"
sed "s|^ExecStart=/usr/sbin/safetygwd |ExecStart=$daemon |" "$UNIT" >"$WORK/unit/safetygwd.service"
check "the copy runs the built daemon" grep -q "^ExecStart=$daemon -c /etc/safetygw/gateway.yaml$" \
    "$WORK/unit/safetygwd.service"
# Warnings (an unknown key, a bad value) go to stderr with exit 0: both must be clean.
verify_clean() {
    (cd "$WORK/unit" && systemd-analyze verify --man=no ./safetygwd.service) \
        >"$WORK/verify.out" 2>&1 || { cat "$WORK/verify.out"; return 1; }
    [ ! -s "$WORK/verify.out" ] || { cat "$WORK/verify.out"; return 1; }
}
check "systemd-analyze verify reports nothing" verify_clean

# The same check catches a mistake: prove it on a broken copy.
broken_unit_is_reported() {
    mkdir -p "$WORK/broken"
    sed 's/^WatchdogSec=30$/WatchdogSec=thirty/' "$WORK/unit/safetygwd.service" \
        >"$WORK/broken/safetygwd.service"
    (cd "$WORK/broken" && systemd-analyze verify --man=no ./safetygwd.service 2>&1) |
        grep -q "thirty"
}
check "verify reports a bad value" broken_unit_is_reported

# The contract with gateway/main.c and DESIGN.md.
for line in "Type=notify" \
            "ExecStart=/usr/sbin/safetygwd -c /etc/safetygw/gateway.yaml" \
            'ExecReload=/bin/kill -HUP $MAINPID' \
            "WatchdogSec=30" "Restart=on-failure" "TimeoutStopSec=10" \
            "User=safetygw" "Group=safetygw" "SupplementaryGroups=dialout" \
            "StateDirectory=safetygw" "RuntimeDirectory=safetygw" \
            "RuntimeDirectoryMode=0750" "ConfigurationDirectory=safetygw" "UMask=0027" \
            "WantedBy=multi-user.target"; do
    check "unit: $line" unit_has "$line"
done

# Hardening.
for line in "NoNewPrivileges=yes" "ProtectSystem=strict" "ProtectHome=yes" "PrivateTmp=yes" \
            "ProtectKernelTunables=yes" "ProtectKernelModules=yes" "ProtectKernelLogs=yes" \
            "ProtectControlGroups=yes" "RestrictNamespaces=yes" "LockPersonality=yes" \
            "MemoryDenyWriteExecute=yes" "RestrictRealtime=yes" \
            "SystemCallArchitectures=native" "CapabilityBoundingSet=" \
            "DevicePolicy=closed" "DeviceAllow=char-ttyUSB rw" "DeviceAllow=char-ttyS rw" \
            "DeviceAllow=char-ttyACM rw" "RestrictAddressFamilies=AF_UNIX AF_INET AF_INET6"; do
    check "unit: $line" unit_has "$line"
done
# PrivateDevices= would hide the serial ports; PrivateUsers= would unmap dialout.
check "unit: no PrivateDevices=" bash -c "! grep -q '^PrivateDevices=' '$UNIT'"
check "unit: no PrivateUsers=" bash -c "! grep -q '^PrivateUsers=' '$UNIT'"

# systemd's own score of the sandbox: 0 is best, 10 worst; "OK" is below 3.
# --offline needs systemd 250 or newer.
exposure_is_low() {
    local exposure
    exposure=$(cd "$WORK/unit" && systemd-analyze security --offline=yes ./safetygwd.service |
        sed -n 's/^→ Overall exposure level for safetygwd.service: \([0-9.]*\) .*/\1/p')
    echo "exposure: ${exposure:-?}"
    [ -n "$exposure" ] && awk -v e="$exposure" 'BEGIN { exit !(e <= 2.0) }'
}
if systemd-analyze security --help 2>/dev/null | grep -q -- --offline; then
    check "systemd-analyze security: exposure at most 2.0" exposure_is_low
else
    echo "skip: systemd-analyze security --offline needs systemd 250"
fi

# sysusers.d and tmpfiles.d, applied to a scratch root that starts with this
# machine's users and groups (for dialout).
root="$WORK/root"
mkdir -p "$root/etc" "$root/usr/lib/sysusers.d" "$root/usr/lib/tmpfiles.d" "$root/etc/safetygw/tls"
cp /etc/passwd /etc/group "$root/etc/"
cp "$SYSUSERS" "$root/usr/lib/sysusers.d/safetygw.conf"
cp "$TMPFILES" "$root/usr/lib/tmpfiles.d/safetygw.conf"
# Without the real user: a machine where a previous run or the package created it
# must not hide a broken sysusers file.
sed -i '/^safetygw:/d' "$root/etc/passwd" "$root/etc/group"
sed -i 's/^\(dialout:[^:]*:[^:]*:\).*/\1/' "$root/etc/group"
check "systemd-sysusers applies safetygw.conf" \
    systemd-sysusers --root="$root" safetygw.conf
check "user safetygw, home /var/lib/safetygw, no login" \
    grep -qE '^safetygw:x:[0-9]+:[0-9]+:[^:]*:/var/lib/safetygw:/usr/sbin/nologin$' "$root/etc/passwd"
check "safetygw is in group dialout" grep -qE '^dialout:x:[0-9]+:(.*,)?safetygw(,|$)' "$root/etc/group"

uid=$(sed -n 's/^safetygw:x:\([0-9]*\):.*/\1/p' "$root/etc/passwd")
gid=$(sed -n 's/^safetygw:x:\([0-9]*\):.*/\1/p' "$root/etc/group")
printf 'secret\n' >"$root/etc/safetygw/mqtt.pass"
chmod 0644 "$root/etc/safetygw/mqtt.pass"
touch "$root/etc/safetygw/tls/cs-gw-01.key"
check "systemd-tmpfiles --create applies safetygw.conf" \
    systemd-tmpfiles --root="$root" --create safetygw.conf
owner_mode_is() { [ "$(stat -c '%u:%g %a' "$1")" = "$2" ] || { stat -c "$1: %u:%g %a" "$1"; return 1; }; }
check "/var/lib/safetygw is safetygw 0750" owner_mode_is "$root/var/lib/safetygw" "$uid:$gid 750"
check "/run/safetygw is safetygw 0750" owner_mode_is "$root/run/safetygw" "$uid:$gid 750"
check "mqtt.pass becomes root:safetygw 0640" owner_mode_is "$root/etc/safetygw/mqtt.pass" "0:$gid 640"
check "a TLS key becomes root:safetygw 0640" \
    owner_mode_is "$root/etc/safetygw/tls/cs-gw-01.key" "0:$gid 640"

finish
