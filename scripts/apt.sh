# Sourced by ensure-chromium.sh and ensure-fonts.sh: Debian packages installed with apt-get, as
# root or through passwordless sudo.
#   apt_install MESSAGE PACKAGE...
# prints MESSAGE once it can install, then installs the packages. It returns 0 once they are
# installed; otherwise 1, with the reason in APT_WHY. It never exits: the caller says what
# follows for its own tests or pages.
apt_install() {
    local message=$1 sudo=""
    shift
    if [ "$(id -u)" -ne 0 ]; then
        if ! { command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; }; then
            APT_WHY="not root and no sudo"
            return 1
        fi
        sudo="sudo -n"
    fi
    if ! command -v apt-get >/dev/null 2>&1; then
        APT_WHY="apt-get is not available"
        return 1
    fi
    echo "$message"
    export DEBIAN_FRONTEND=noninteractive
    if ! $sudo apt-get update -qq; then
        APT_WHY="apt-get update failed"
        return 1
    fi
    if ! $sudo apt-get install -y -qq --no-install-recommends "$@" >/dev/null; then
        APT_WHY="apt-get install failed"
        return 1
    fi
}
