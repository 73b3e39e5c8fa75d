# The Debian package: `scripts/package` (a Release build with the prefix /usr, then cpack).
#
# Included from the top-level CMakeLists.txt after config/, which sets SAFETYGW_CONFFILES.

set(CPACK_GENERATOR DEB)
set(CPACK_PACKAGE_NAME safetygw)
set(CPACK_PACKAGE_VERSION "${PROJECT_VERSION}")
set(CPACK_PACKAGE_VENDOR "safetygw")
set(CPACK_PACKAGE_CONTACT "safetygw maintainers <maintainers@users.noreply.r-seed-b35e6342.example>")
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY
    "gateway daemon for residential safety sensors over Modbus to MQTT")
# The extended description; CPack puts the summary first and indents the lines.
set(CPACK_DEBIAN_PACKAGE_DESCRIPTION "\
safetygwd polls household gas alarms, elevator IoT units and e-bike charging
sockets over Modbus RTU (RS-485) and Modbus TCP, raises alarms with threshold
rules, runs local interlocks such as closing a gas valve, and publishes alarms
and device state to an MQTT broker with disk-backed store-and-forward.

This package holds the daemon with its systemd unit, the safetygw CLI with its
bash completion, the safetygw-sim bus simulator, device profiles and an example
configuration in /etc/safetygw. The service is not started until it is enabled.")
set(CPACK_DEBIAN_PACKAGE_SECTION net)
set(CPACK_DEBIAN_PACKAGE_PRIORITY optional)
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT) # safetygw_<version>_<arch>.deb
set(CPACK_PACKAGING_INSTALL_PREFIX /usr)
set(CPACK_STRIP_FILES ON)

# Library dependencies come from dpkg-shlibdeps (dpkg-dev), which reads the binaries'
# NEEDED entries and the libraries' shlibs files: exact package names and minimum
# versions. The maintainer scripts need systemd-sysusers and systemd-tmpfiles
# (the alternatives are the ones debhelper's dh_installsysusers declares).
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
set(CPACK_DEBIAN_PACKAGE_DEPENDS
    "systemd | systemd-standalone-sysusers | systemd-sysusers, systemd | systemd-standalone-tmpfiles | systemd-tmpfiles")

# Files under /etc are conffiles: an upgrade keeps the administrator's edits (dpkg asks),
# a purge removes them.
list(JOIN SAFETYGW_CONFFILES "\n" safetygw_conffiles_text)
file(WRITE "${PROJECT_BINARY_DIR}/debian/conffiles" "${safetygw_conffiles_text}\n")
set(safetygw_debian_dir "${PROJECT_SOURCE_DIR}/cmake/debian")
set(CPACK_DEBIAN_PACKAGE_CONTROL_EXTRA
    "${PROJECT_BINARY_DIR}/debian/conffiles;${safetygw_debian_dir}/postinst;${safetygw_debian_dir}/prerm;${safetygw_debian_dir}/postrm")
# 0644 for conffiles, 0755 for the maintainer scripts, whatever the checkout's modes.
set(CPACK_DEBIAN_PACKAGE_CONTROL_STRICT_PERMISSION TRUE)

# The /etc and unit paths are fixed when the build is configured; a package configured
# for another prefix would put them under it. Refuse to build one.
set(safetygw_cpack_checks "${PROJECT_BINARY_DIR}/CPackSafetygwChecks.cmake")
file(WRITE "${safetygw_cpack_checks}" "\
if(NOT \"${CMAKE_INSTALL_PREFIX}\" STREQUAL \"/usr\")
  message(FATAL_ERROR \"safetygw: the package needs a build configured with \"
          \"-DCMAKE_INSTALL_PREFIX=/usr (this one has ${CMAKE_INSTALL_PREFIX}); \"
          \"use scripts/package\")
endif()
")
set(CPACK_PROJECT_CONFIG_FILE "${safetygw_cpack_checks}")

include(CPack)
