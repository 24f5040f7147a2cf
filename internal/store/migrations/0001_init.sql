-- shipshape serve, schema version 1.
-- Written once for both backends: {{ID}} and {{BLOB}} are expanded by the
-- dialect (dialect.go). Times are Unix microseconds (UTC) in BIGINT columns.

-- One row per image digest. A platform image read through an index names that
-- index in index_digest and its platform; the index itself has kind 'index'.
CREATE TABLE image (
    digest               TEXT PRIMARY KEY,
    repository           TEXT NOT NULL,
    tag                  TEXT NOT NULL DEFAULT '',
    kind                 TEXT NOT NULL DEFAULT 'image',
    index_digest         TEXT NOT NULL DEFAULT '',
    platform             TEXT NOT NULL DEFAULT '',
    latest_evaluation_id BIGINT,
    created_at           BIGINT NOT NULL,
    updated_at           BIGINT NOT NULL
);
CREATE INDEX image_repository ON image (repository, tag, digest);
CREATE INDEX image_index_digest ON image (index_digest);
CREATE INDEX image_updated ON image (updated_at, digest);
CREATE INDEX image_latest_evaluation ON image (latest_evaluation_id);

CREATE TABLE evaluation (
    id            {{ID}},
    image_digest  TEXT NOT NULL REFERENCES image (digest) ON DELETE CASCADE,
    facts_version TEXT NOT NULL DEFAULT '',
    db_versions   TEXT NOT NULL DEFAULT '{}',
    policy_digest TEXT NOT NULL DEFAULT '',
    verdict       TEXT NOT NULL,
    grade         TEXT NOT NULL DEFAULT '',
    score         INTEGER NOT NULL DEFAULT 0,
    report        TEXT NOT NULL,
    evaluated_at  BIGINT NOT NULL
);
CREATE INDEX evaluation_image ON evaluation (image_digest, evaluated_at);

-- The finding fingerprints of one evaluation (what is new is a set difference).
CREATE TABLE evaluation_finding (
    evaluation_id BIGINT NOT NULL REFERENCES evaluation (id) ON DELETE CASCADE,
    fingerprint   TEXT NOT NULL,
    check_id      TEXT NOT NULL DEFAULT '',
    advisory      TEXT NOT NULL DEFAULT '',
    severity      TEXT NOT NULL DEFAULT '',
    PRIMARY KEY (evaluation_id, fingerprint)
);
CREATE INDEX evaluation_finding_check ON evaluation_finding (check_id, evaluation_id);
CREATE INDEX evaluation_finding_advisory ON evaluation_finding (advisory, evaluation_id);

-- The current approval of one digest; its history is the event log.
CREATE TABLE approval (
    image_digest    TEXT PRIMARY KEY REFERENCES image (digest) ON DELETE CASCADE,
    state           TEXT NOT NULL,
    actor           TEXT NOT NULL DEFAULT '',
    reason          TEXT NOT NULL DEFAULT '',
    decided_at      BIGINT NOT NULL,
    valid_until     BIGINT,
    signer          TEXT NOT NULL DEFAULT '',
    verified_digest TEXT NOT NULL DEFAULT '',
    evaluation_id   BIGINT
);
CREATE INDEX approval_state ON approval (state, valid_until);

CREATE TABLE exception (
    id                 {{ID}},
    check_id           TEXT NOT NULL DEFAULT '',
    advisory           TEXT NOT NULL DEFAULT '',
    image_pattern      TEXT NOT NULL DEFAULT '',
    repository_pattern TEXT NOT NULL DEFAULT '',
    owner              TEXT NOT NULL,
    reason             TEXT NOT NULL,
    created_by         TEXT NOT NULL DEFAULT '',
    created_at         BIGINT NOT NULL,
    expires_at         BIGINT
);
CREATE INDEX exception_expires ON exception (expires_at);

-- Append-only audit log.
CREATE TABLE event (
    id      {{ID}},
    at      BIGINT NOT NULL,
    actor   TEXT NOT NULL,
    action  TEXT NOT NULL,
    subject TEXT NOT NULL DEFAULT '',
    details TEXT NOT NULL DEFAULT '{}'
);
CREATE INDEX event_subject ON event (subject, id);
CREATE INDEX event_at ON event (at);

-- Bearer tokens, stored hashed.
CREATE TABLE token (
    id           {{ID}},
    name         TEXT NOT NULL,
    hash         TEXT NOT NULL UNIQUE,
    role         TEXT NOT NULL,
    created_at   BIGINT NOT NULL,
    last_used_at BIGINT,
    revoked_at   BIGINT
);

-- The engine's serialised facts of one image (opaque to the store), and the
-- package keys they contain ("deb/openssl", "Go/golang.org/x/net").
CREATE TABLE facts (
    image_digest  TEXT PRIMARY KEY,
    facts_version TEXT NOT NULL,
    data          {{BLOB}} NOT NULL,
    stored_at     BIGINT NOT NULL
);
CREATE TABLE facts_package (
    package_key  TEXT NOT NULL,
    image_digest TEXT NOT NULL REFERENCES facts (image_digest) ON DELETE CASCADE,
    PRIMARY KEY (package_key, image_digest)
);
CREATE INDEX facts_package_image ON facts_package (image_digest);
