#!/usr/bin/env bash
# Runs every test of the tutorial: each step in the workspace and on its own,
# the Radix configuration, the Dockerfile, the docs, the images and the
# sign-in. Arguments go to go test, for example: ./test.sh -run Radix -v
set -euo pipefail
cd "$(dirname "$0")"

if [ -z "${RADIXCONFIG_SCHEMA:-}" ]; then
	cat >&2 <<'MSG'
!!! RADIXCONFIG_SCHEMA is not set: the radixconfig files will NOT be validated
!!! against Radix's official schema. Point it at radixapplication.json from
!!! github.com/equinor/radix-operator (json-schema/) to include that check.
MSG
fi

go test -count=1 -timeout 20m "$@" work
