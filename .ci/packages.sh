# Sourced by .ci/run and .ci/wordpress-setup.sh: the package list, read from .ci/packages.txt.
#   ci_packages            prints the packages, one a line
#   ci_missing_packages    prints those not installed
#   ci_install_packages    installs the missing ones (apt-get update first), no services started
CI_PACKAGES_FILE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/packages.txt"

ci_packages() { sed -e 's/#.*//' -e 's/[[:space:]]//g' "$CI_PACKAGES_FILE" | grep -v '^$'; }

ci_missing_packages() {
    local p
    for p in $(ci_packages); do
        dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || echo "$p"
    done
}

ci_install_packages() {
    local missing
    missing=$(ci_missing_packages)
    [ -z "$missing" ] && { echo "all $(ci_packages | wc -l) packages of .ci/packages.txt are installed"; return 0; }
    echo "installing from .ci/packages.txt:" $missing
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    # policy-rc.d keeps Debian's maintainer scripts from starting services (apache2, pulled in by
    # wordpress; nginx; mariadb) on install: the scripts and tests start what they need themselves.
    local restore=0
    if [ ! -e /usr/sbin/policy-rc.d ]; then
        printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d && chmod +x /usr/sbin/policy-rc.d
        restore=1
    fi
    # shellcheck disable=SC2086
    local rc=0
    apt-get install -y -qq --no-install-recommends $missing >/dev/null || rc=$?
    [ $restore = 1 ] && rm -f /usr/sbin/policy-rc.d
    return $rc
}
