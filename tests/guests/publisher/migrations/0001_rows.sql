CREATE TABLE rows (
    label TEXT NOT NULL
);
