# Sourced by demo.sh and test.sh: install_missing_packages PACKAGE... installs, with apt-get (as
# root or through sudo), the Debian packages that dpkg does not know yet. LITEBOX_NO_APT=1 turns
# the install into a check.
install_missing_packages() {
    local missing=() package
    for package in "$@"; do
        dpkg -s "$package" >/dev/null 2>&1 || missing+=("$package")
    done
    [[ ${#missing[@]} -eq 0 ]] && return 0
    if [[ -n "${LITEBOX_NO_APT:-}" ]]; then
        echo "missing packages: ${missing[*]} (LITEBOX_NO_APT is set)" >&2
        return 1
    fi
    local sudo=()
    if [[ $(id -u) -ne 0 ]]; then
        command -v sudo >/dev/null || { echo "need root or sudo to install: ${missing[*]}" >&2; return 1; }
        sudo=(sudo)
    fi
    printf '\n==> installing %s\n' "${missing[*]}"
    "${sudo[@]}" apt-get update
    "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "${missing[@]}"
}
