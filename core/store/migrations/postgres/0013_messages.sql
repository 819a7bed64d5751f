-- Messages between tenants, of this node or another (federation, R3: a volunteer's transfer).
-- An outgoing message is written in the transaction of the change that causes it, so that the
-- change and the message are kept together or not at all; the node's sender delivers it,
-- retrying with a backoff per destination, until the destination answers or the message is
-- dead and the operator sees it. An incoming message is recorded once, in the transaction that
-- applies it: one sent again (its sender crashed before it saw the answer) is answered as the
-- first time was.

CREATE TABLE outbox (
    tenant_code     TEXT COLLATE "C" NOT NULL REFERENCES tenants (code),
    id              TEXT COLLATE "C" NOT NULL,
    destination     TEXT COLLATE "C" NOT NULL,
    kind            TEXT NOT NULL,
    body            TEXT NOT NULL,
    created_at      BIGINT NOT NULL,
    attempts        BIGINT NOT NULL DEFAULT 0 CHECK (attempts >= 0),
    next_attempt_at BIGINT NOT NULL,
    last_error      TEXT,
    answer          TEXT,
    delivered_at    BIGINT,
    dead_at         BIGINT,
    PRIMARY KEY (tenant_code, id),
    CHECK (delivered_at IS NULL OR dead_at IS NULL)
);
-- What the sender looks at: the messages still to deliver, the soonest due first.
CREATE INDEX outbox_pending ON outbox (next_attempt_at)
    WHERE delivered_at IS NULL AND dead_at IS NULL;
CREATE INDEX outbox_by_destination ON outbox (destination);

CREATE TABLE inbox (
    tenant_code TEXT COLLATE "C" NOT NULL REFERENCES tenants (code),
    origin      TEXT COLLATE "C" NOT NULL,
    message_id  TEXT COLLATE "C" NOT NULL,
    kind        TEXT NOT NULL,
    received_at BIGINT NOT NULL,
    answer      TEXT NOT NULL,
    PRIMARY KEY (tenant_code, origin, message_id)
);
