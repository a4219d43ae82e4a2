#!/usr/bin/env bash
# The whole test suite: installs liblmdb-dev when missing, checks the module graph against
# docs/architecture.md, the public surface (only the library products' documented API is public)
# and the formatting against .swift-format, builds everything (the crash tests start the built
# tools), runs every test, then the signed webhooks end to end (Tools/scripts/webhook-e2e.sh: the
# built supportd, a receiver on loopback, a SIGKILL mid-delivery), then the three-node desk end to end
# (Tools/scripts/cluster-e2e.sh: three nats-server clustered on loopback, three supportd nodes under
# write load, leaders killed and paused, NATS quorum lost and restored), then the e-mail channel end to
# end (Tools/scripts/mail-e2e.sh: a private Postfix on loopback, the built supportd and
# support-mailgate; as root only, as in CI), the agent console in headless Chromium
# (Tools/scripts/console-e2e.sh; as root only too: it installs Debian's chromium and chromium-driver)
# and the dashboard in the same browser (Tools/scripts/dashboard-e2e.sh: every page, the drill-down
# from a bar to its tickets and to a ticket's clocks, the What if page).
set -euo pipefail
cd "$(dirname "$0")/.."
Tools/scripts/ensure-deps.sh
python3 Tools/scripts/check-architecture.py
python3 Tools/scripts/public-surface.py --check
Tools/scripts/check-format.sh
swift build --build-tests
# The NATS suites (NATSClientTests: the NATS client and the replicated log against real
# nats-server clusters) run on their own after the rest: a dozen NATS servers starting beside the
# whole suite starved the two cores and the timing-bound tests of both sides.
swift test --skip-build --skip NATSClientTests "$@"
swift test --skip-build --filter NATSClientTests "$@"
Tools/scripts/webhook-e2e.sh </dev/null
Tools/scripts/cluster-e2e.sh </dev/null
if [ "$(id -u)" -eq 0 ]; then
    Tools/scripts/mail-e2e.sh </dev/null
    Tools/scripts/console-e2e.sh </dev/null
    Tools/scripts/dashboard-e2e.sh </dev/null
else
    echo "mail-e2e: skipped (it starts a private Postfix instance, which needs root)" >&2
    echo "console-e2e: skipped (it installs Debian's chromium and chromium-driver, which needs root)" >&2
    echo "dashboard-e2e: skipped (it installs Debian's chromium and chromium-driver, which needs root)" >&2
fi
