-- Version 3: API keys of the HTTP adapter. Only a SHA-256 hash of each key's secret is stored; the
-- key itself is shown once, when it is created. A revoked key keeps its row (revoked_at set) so that
-- `keys list` still shows it and its id is never reused.
CREATE TABLE api_keys (
    id VARCHAR(64) PRIMARY KEY,
    tenant VARCHAR(256) NOT NULL,
    role VARCHAR(16) NOT NULL,
    hash VARCHAR(64) NOT NULL,
    created_at BIGINT NOT NULL,
    revoked_at BIGINT
);
