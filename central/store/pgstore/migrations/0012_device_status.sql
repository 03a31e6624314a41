-- 0012: the latest status report of each kiosk (store.DeviceStatus), as
-- the kiosk sent it, so that the fleet page shows it after a restart.

CREATE TABLE device_status (
    device   text PRIMARY KEY,
    received timestamptz NOT NULL,
    report   bytea NOT NULL
);
