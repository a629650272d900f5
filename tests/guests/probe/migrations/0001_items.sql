CREATE TABLE items (
    name TEXT PRIMARY KEY
);
