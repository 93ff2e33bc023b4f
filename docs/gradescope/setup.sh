#!/usr/bin/env bash
# Gradescope runs this once, as root, when it builds the autograder image. It installs
# grader (the wheel in the zip) in a virtual environment, and Python 3.11 or newer first
# if the image has none.
#
#   AUTOGRADER_ROOT     the autograder folder (default /autograder; a test sets another)
#   GRADER_PYTHON       the Python to build the environment with (default: found here)
#   GRADER_PIP_OPTIONS  extra pip options, e.g. "--no-index --find-links /wheels" offline
set -euo pipefail

root="${AUTOGRADER_ROOT:-/autograder}"
source_dir="$root/source"

wheels=("$source_dir"/backprop_grader-*.whl)
if [ ! -f "${wheels[0]}" ]; then
  echo "setup.sh: no backprop_grader-*.whl in $source_dir: build it into the zip (docs/integrations.md)" >&2
  exit 1
fi

python="${GRADER_PYTHON:-}"
if [ -z "$python" ]; then
  for candidate in python3.13 python3.12 python3.11 python3; do
    if command -v "$candidate" >/dev/null 2>&1 &&
      "$candidate" -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null; then
      python="$candidate"
      break
    fi
  done
fi
if [ -z "$python" ]; then
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3.11 python3.11-venv
  python=python3.11
fi

if ! "$python" -m venv "$root/venv"; then
  # Debian and Ubuntu ship venv's pip bootstrap as a separate package.
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$(basename "$python")-venv"
  rm -rf "$root/venv"
  "$python" -m venv "$root/venv"
fi

# shellcheck disable=SC2086  # GRADER_PIP_OPTIONS is a list of options, split on purpose
"$root/venv/bin/python" -m pip install --quiet --disable-pip-version-check \
  ${GRADER_PIP_OPTIONS:-} "${wheels[@]}"
