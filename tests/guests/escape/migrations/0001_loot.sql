CREATE TABLE loot (
    what TEXT NOT NULL
);
