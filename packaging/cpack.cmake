# The Debian package, made from the build tree as it is (no second compile):
#   cpack --config build/CPackConfig.cmake -G DEB -B OUTDIR
# Library dependencies come from dpkg-shlibdeps; the maintainer scripts in
# packaging/debian/ make the system user, the state directory and the
# SoftHSM token.
# `cpack` and `cmake --install` take what was built and do not build it again
# (the CI builds once, then runs the tests, one of which makes the package).
set(CMAKE_SKIP_INSTALL_ALL_DEPENDENCY ON)
set(CPACK_GENERATOR DEB)
set(CPACK_PACKAGE_NAME wiresign)
set(CPACK_PACKAGE_VENDOR "wiresign")
set(CPACK_PACKAGE_CONTACT "wiresign maintainers <wiresign@localhost>")
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY "inline DNSSEC signer for a hidden primary")
set(CPACK_PACKAGE_DESCRIPTION
    "wiresignd takes unsigned zones from a hidden primary (NOTIFY, IXFR/AXFR),\n\
signs them with keys in an HSM (PKCS#11, SoftHSM by default) or key files,\n\
re-signs before signatures expire and serves the signed zones to the\n\
secondaries. The wiresign command signs offline and controls the daemon.")
set(CPACK_PACKAGING_INSTALL_PREFIX /usr)
set(CPACK_STRIP_FILES ON)
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_PACKAGE_RELEASE 1)
set(CPACK_DEBIAN_PACKAGE_SECTION net)
set(CPACK_DEBIAN_PACKAGE_PRIORITY optional)
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
# adduser and runuser (util-linux) for postinst; softhsm2 because the default
# keystore is a SoftHSM token (softhsm2-util makes it at install time).
set(CPACK_DEBIAN_PACKAGE_DEPENDS "adduser, util-linux, softhsm2")
set(CPACK_DEBIAN_PACKAGE_RECOMMENDS "bind9-dnsutils, ldnsutils")
set(CPACK_DEBIAN_PACKAGE_SUGGESTS "prometheus, opensc")
set(CPACK_DEBIAN_PACKAGE_CONTROL_EXTRA
    ${PROJECT_SOURCE_DIR}/packaging/debian/conffiles
    ${PROJECT_SOURCE_DIR}/packaging/debian/postinst
    ${PROJECT_SOURCE_DIR}/packaging/debian/prerm
    ${PROJECT_SOURCE_DIR}/packaging/debian/postrm)
set(CPACK_DEBIAN_PACKAGE_CONTROL_STRICT_PERMISSION TRUE)
include(CPack)
