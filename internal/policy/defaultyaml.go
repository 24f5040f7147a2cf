package policy

// DefaultYAML is the default policy written out by `shipshape policy init`.
// Parsing it gives exactly Default().
const DefaultYAML = `# shipshape policy: what "fit for production" means for this team.
# Schema: https://github.com/shipshape-dev/shipshape/blob/main/docs/policy.md
apiVersion: shipshape.dev/v1
kind: Policy

# What fails the run: "veto" (only the vetoes below), or a severity
# (critical, high, medium, low): findings at or above it fail the run too.
failOn: veto

# The checklist's vetoes are built into the checks (see docs/checks.md):
#   REL-001 latest or untagged reference, SEC-001 root, SEC-020 a fixable
#   vulnerability with CVSS >= thresholds.cvss, CMP-002 a denied license,
#   MNT-007 upstream untouched for a year or no maintainer.
# Per-check overrides: severity, veto (true/false), disabled.
checks: {}
#  SEC-007: {severity: medium}
#  REL-002: {veto: true}
#  MNT-005: {disabled: true}

thresholds:
  cvss: 7.0             # fixable vulnerabilities at or above this score are a veto
  maxImageAgeDays: 365  # MNT-002
  eolWarningDays: 90    # MNT-003, MNT-004
  maxUpstreamAgeDays: 365  # MNT-007: no upstream commit for longer is a veto

# Labels every image must carry, on top of the OCI set MNT-001 asks for.
requiredLabels: []

# Where images may come from (SEC-030), as patterns: "registry.example.com/team/*",
# "official" (Docker Official Images), or one pinned image "docker.io/org/tool@sha256:...".
trustedRegistries: []

# Signatures (SEC-031) and attestations (SEC-032), verified offline with cosign.
# requireSignature: true makes a missing, unverified or wrong-digest signature a veto.
requireSignature: false
signatures:
  keys: []          # cosign public keys (PEM files, relative to this file)
  identities: []    # keyless signers, e.g. {issuer: https://token.actions.githubusercontent.com,
                    #   subject: https://github.com/ORG/REPO/.github/workflows/release.yml@refs/heads/main}
  trustedRoot: ""   # Sigstore trusted_root.json, needed for identities

# Upstream maintenance (MNT-007): the source repository of images whose
# labels and provenance do not name it.
upstream:
  sources: []
#    - image: registry.example.com/team/*
#      repository: https://github.com/ORG/REPO

licenses:
  deny: [AGPL-3.0-only, AGPL-3.0-or-later]   # CMP-002
  allow: []

# setuid/setgid files SEC-003 accepts (path patterns).
allowedSetuid: []

# shipshape serve: approval and re-evaluation of images judged under this policy.
service:
  autoApprove: true     # approve an image whose evaluation passes (false: an approver decides)
  reevaluateDays: 90    # judge approved images again when their last evaluation is this old
  graceDays: 14         # an approved image that now fails stays admitted (expiring) this long, then retires
  validityDays: 0       # bound every approval (0: none)

# Custom rules in CEL over the JSON report (variable "report"; see docs/report.md).
rules: []
#  - id: TEAM-001
#    message: the service must listen on 8080
#    severity: high
#    veto: false
#    dimension: reliability
#    expr: '!("8080/tcp" in report.image.config.exposed_ports)'

# Exceptions: by check, vulnerability, package, path or image; a reason is
# required, an expiry date (YYYY-MM-DD) is recommended. Every waived finding
# is listed in the report.
exceptions: []
#  - check: SEC-003
#    path: /usr/bin/passwd
#    reason: base image tool, removed in the next release (TICKET-123)
#    expires: 2027-03-31
`
