-- The nonces of the signed requests a node accepted from other nodes (federation: RFC 9421
-- signatures), each under the key that signed it, kept while its signature's time is within
-- the skew a node allows: a request sent again with the same nonce is a replay and is refused.

CREATE TABLE request_nonces (
    tenant_code TEXT COLLATE "C" NOT NULL REFERENCES tenants (code),
    key_id      TEXT COLLATE "C" NOT NULL,
    nonce       TEXT COLLATE "C" NOT NULL,
    created_at  BIGINT NOT NULL,
    PRIMARY KEY (tenant_code, key_id, nonce)
);
CREATE INDEX request_nonces_by_time ON request_nonces (tenant_code, created_at);
